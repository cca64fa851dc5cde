# ctest entry names must stay readable: ctest pads every line of its output to the longest
# name. A Catch2 name with an unbalanced '[' once made catch_discover_tests join 33 test
# names into one 1,696-character entry (a CMake list does not split inside brackets).
# Usage: cmake -DBUILD_DIR=... -DMAX=80 -P test_names.cmake
execute_process(COMMAND ${CMAKE_CTEST_COMMAND} --test-dir ${BUILD_DIR} -N
  OUTPUT_VARIABLE listing RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ctest -N in ${BUILD_DIR} failed (${rc})")
endif()
string(REPLACE "\n" ";" lines "${listing}")
set(count 0)
foreach(line IN LISTS lines)
  if(line MATCHES "^ *Test +#[0-9]+: (.*)$")
    set(name "${CMAKE_MATCH_1}")
    math(EXPR count "${count} + 1")
    string(LENGTH "${name}" length)
    if(length GREATER MAX)
      string(SUBSTRING "${name}" 0 120 start)
      message(FATAL_ERROR "a ctest entry name has ${length} characters (at most ${MAX}): ${start}...")
    endif()
  endif()
endforeach()
if(count LESS 10)
  message(FATAL_ERROR "only ${count} tests listed in ${BUILD_DIR}; the unit tests were not discovered")
endif()
message(STATUS "${count} ctest entries, none longer than ${MAX} characters")
