# Hardening (F20, issue 22), the flags of Debian's hardening=+all, on by default in Release
# builds (make build, make test, the Debian package alike, so that they share one ccache):
# _FORTIFY_SOURCE=2 (checked libc calls; needs optimisation, hence Release only), a stack
# protector on functions with arrays or address-taken locals, full RELRO (-z relro -z now: the
# GOT read-only after start-up) and PIE. The sanitizer builds (asan, tsan, fuzz) and Debug never
# get them; -DFLOWSCOPE_HARDEN=OFF (make build HARDEN=OFF) leaves them out of Release
# (docs/packaging.md "Hardening").
include(CheckPIESupported)
option(FLOWSCOPE_HARDEN "Fortify, stack protector, full RELRO and PIE in Release builds" ON)
# FLOWSCOPE_HARDENED: whether this build has them (the install test checks the binary then).
set(FLOWSCOPE_HARDENED OFF)
if(FLOWSCOPE_HARDEN AND CMAKE_BUILD_TYPE STREQUAL "Release")
  set(FLOWSCOPE_HARDENED ON)
  add_compile_options(-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong)
  add_link_options(-Wl,-z,relro -Wl,-z,now)
  check_pie_supported()
  set(CMAKE_POSITION_INDEPENDENT_CODE ON)
endif()
