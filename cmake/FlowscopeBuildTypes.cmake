# Build types: Release (default), Debug, asan (ASan + UBSan, unit tests in CI), tsan
# (ThreadSanitizer: the server, store and security tests, `make tsan`), fuzz (clang +
# libFuzzer). Selected with -DCMAKE_BUILD_TYPE=...; the Makefile keeps one build directory each.
set(_types Release Debug asan tsan fuzz)
if(NOT CMAKE_BUILD_TYPE)
  set(CMAKE_BUILD_TYPE Release CACHE STRING "Release, Debug, asan, tsan or fuzz" FORCE)
endif()
set_property(CACHE CMAKE_BUILD_TYPE PROPERTY STRINGS ${_types})
if(NOT CMAKE_BUILD_TYPE IN_LIST _types)
  message(FATAL_ERROR "CMAKE_BUILD_TYPE '${CMAKE_BUILD_TYPE}' is not one of: ${_types}")
endif()

set(FLOWSCOPE_SANITIZE OFF)
set(FLOWSCOPE_FUZZ OFF)
set(_san_flags "-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer")

set(CMAKE_CXX_FLAGS_ASAN "-O1 -g ${_san_flags}" CACHE STRING "" FORCE)
set(CMAKE_EXE_LINKER_FLAGS_ASAN "${_san_flags}" CACHE STRING "" FORCE)
set(CMAKE_SHARED_LINKER_FLAGS_ASAN "${_san_flags}" CACHE STRING "" FORCE)
set(_tsan_flags "-fsanitize=thread -fno-omit-frame-pointer")
set(CMAKE_CXX_FLAGS_TSAN "-O1 -g ${_tsan_flags}" CACHE STRING "" FORCE)
set(CMAKE_EXE_LINKER_FLAGS_TSAN "${_tsan_flags}" CACHE STRING "" FORCE)
set(CMAKE_SHARED_LINKER_FLAGS_TSAN "${_tsan_flags}" CACHE STRING "" FORCE)
set(CMAKE_CXX_FLAGS_FUZZ "-O1 -g -fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer"
    CACHE STRING "" FORCE)
set(CMAKE_EXE_LINKER_FLAGS_FUZZ "-fsanitize=address,undefined" CACHE STRING "" FORCE)

if(CMAKE_BUILD_TYPE STREQUAL "asan" OR CMAKE_BUILD_TYPE STREQUAL "tsan")
  set(FLOWSCOPE_SANITIZE ON)
elseif(CMAKE_BUILD_TYPE STREQUAL "fuzz")
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "The fuzz build needs clang and libFuzzer: configure with "
                        "-DCMAKE_CXX_COMPILER=clang++ (make fuzz does this)")
  endif()
  set(FLOWSCOPE_SANITIZE ON)
  set(FLOWSCOPE_FUZZ ON)
endif()

# ccache speeds up the repeated Release/asan builds of `make test` and CI when it is installed.
# With the source tree as base dir (and the build dir not hashed) paths are hashed relative to
# the tree, so a fresh clone elsewhere on the machine reuses what an earlier build compiled.
# FLOWSCOPE_CCACHE_ENV: more `cmake -E env` arguments for ccache. The Debian package passes
# --unset=LC_ALL: debhelper sets LC_ALL=C.UTF-8, which ccache hashes, so its objects would
# otherwise miss everything `make build` compiled (docs/packaging.md "Build time").
set(FLOWSCOPE_CCACHE_ENV "" CACHE STRING "Extra 'cmake -E env' arguments for the ccache launcher")
find_program(CCACHE_PROGRAM ccache)
if(CCACHE_PROGRAM)
  set(CMAKE_CXX_COMPILER_LAUNCHER ${CMAKE_COMMAND} -E env ${FLOWSCOPE_CCACHE_ENV}
      CCACHE_BASEDIR=${PROJECT_SOURCE_DIR} CCACHE_NOHASHDIR=true ${CCACHE_PROGRAM})
endif()
