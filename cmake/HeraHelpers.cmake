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
