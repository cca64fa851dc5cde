# Downloads and unpacks MovieLens-1M (ml-1m.zip from GroupLens) into DEST (default: data/).
#   cmake -DDEST=data -P cmake/fetch_ml1m.cmake      -> data/ml-1m/{users,movies,ratings}.dat
# The licence forbids redistribution: the data is never committed (data/ is git-ignored).
if(NOT DEFINED DEST)
  set(DEST "${CMAKE_CURRENT_LIST_DIR}/../data")
endif()
set(url "https://files.grouplens.org/datasets/movielens/ml-1m.zip")
set(zip "${DEST}/ml-1m.zip")
file(MAKE_DIRECTORY "${DEST}")
if(NOT EXISTS "${DEST}/ml-1m/ratings.dat")
  # The MD5 GroupLens publishes beside the file (ml-1m.zip.md5).
  file(DOWNLOAD "${url}" "${zip}" SHOW_PROGRESS STATUS status
       EXPECTED_HASH MD5=c4d9eecfca2ab87c1945afe126590906)
  list(GET status 0 code)
  if(NOT code EQUAL 0)
    list(GET status 1 message)
    message(FATAL_ERROR "download of ${url} failed: ${message}")
  endif()
  file(ARCHIVE_EXTRACT INPUT "${zip}" DESTINATION "${DEST}")
  file(REMOVE "${zip}")
endif()
message(STATUS "MovieLens-1M is in ${DEST}/ml-1m")
