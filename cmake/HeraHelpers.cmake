# Warnings are errors in our own targets only; third-party and generated code stay quiet.
add_library(hera_warnings INTERFACE)
target_compile_options(hera_warnings INTERFACE -Wall -Wextra -Wpedantic -Wimplicit-fallthrough
  $<$<CXX_COMPILER_ID:Clang>:-Wthread-safety>)

if(HERA_SANITIZE STREQUAL "asan")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
elseif(HERA_SANITIZE STREQUAL "tsan")
  # -Wno-tsan: GCC flags atomic_thread_fence, which Boost.Asio's headers use, as unsupported.
  add_compile_options(-fsanitize=thread -fno-omit-frame-pointer
    $<$<CXX_COMPILER_ID:GNU>:-Wno-tsan>)
  add_link_options(-fsanitize=thread)
endif()

# hera_library(name SOURCES ... DEPS ... PRIVATE_DEPS ...)
function(hera_library name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${A_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${A_DEPS} PRIVATE ${A_PRIVATE_DEPS} hera_warnings)
  set_target_properties(${name} PROPERTIES COMPILE_WARNING_AS_ERROR ON)
endfunction()

# hera_test(name SOURCES ... DEPS ...): one gtest binary per module, registered with ctest.
function(hera_test name)
  if(NOT HERA_BUILD_TESTS)
    return()
  endif()
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} GTest::gmock GTest::gtest_main hera_warnings)
  set_target_properties(${name} PROPERTIES COMPILE_WARNING_AS_ERROR ON)
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES
    ENVIRONMENT "HERA_SOURCE_DIR=${PROJECT_SOURCE_DIR}" LABELS unit)
endfunction()

# hera_fuzzer(name SOURCES ... DEPS ... CORPUS dir): a libFuzzer target (clang, -DHERA_FUZZ=ON).
# SOURCES holds the target and the code under test, compiled into it with coverage and ASan, so
# the libraries stay uninstrumented for the other targets of a fuzz build; DEPS are linked
# as they are. ctest runs it (label `fuzz`) for HERA_FUZZ_SECONDS from the seeds in
# tests/fuzz/corpus/CORPUS; what it finds goes to the build tree, never to the seeds.
set(HERA_FUZZ_SECONDS 20 CACHE STRING "How long ctest runs each fuzz target")
function(hera_fuzzer name)
  if(NOT HERA_FUZZ)
    return()
  endif()
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(WARNING "HERA_FUZZ needs clang; ${name} is not built")
    return()
  endif()
  cmake_parse_arguments(A "" "CORPUS" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PRIVATE ${A_DEPS} hera_warnings)
  target_compile_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  target_link_options(${name} PRIVATE -fsanitize=fuzzer,address,undefined)
  set_target_properties(${name} PROPERTIES COMPILE_WARNING_AS_ERROR ON)
  if(HERA_BUILD_TESTS)
    set(work ${CMAKE_CURRENT_BINARY_DIR}/${name}_corpus)
    file(MAKE_DIRECTORY ${work})
    add_test(NAME ${name}
      COMMAND ${name} -max_total_time=${HERA_FUZZ_SECONDS} -timeout=10 -rss_limit_mb=2048
              ${work} ${PROJECT_SOURCE_DIR}/tests/fuzz/corpus/${A_CORPUS})
    set_tests_properties(${name} PROPERTIES LABELS fuzz)
  endif()
endfunction()
