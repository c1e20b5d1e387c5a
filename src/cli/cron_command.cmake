# Included by src/cli/CMakeLists.txt: adds `hera cron` to hera_cli.
target_sources(hera_cli PRIVATE ${CMAKE_CURRENT_LIST_DIR}/cron_command.cc)
target_link_libraries(hera_cli PUBLIC hera_cron CLI11::CLI11)
