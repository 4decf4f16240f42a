# Hardening (F20, issue 22), the flags of Debian's hardening=+all:
# _FORTIFY_SOURCE=2 (checked libc calls; needs optimisation, hence Release only), a stack
# protector on functions with arrays or address-taken locals, full RELRO (-z relro -z now: the
# GOT read-only after start-up) and PIE. The Debian package turns it on (debian/rules). For
# `make build` it is off for now: turning it on recompiles every object of every build sharing
# the ccache once (docs/packaging.md "Hardening"); -DFLOWSCOPE_HARDEN=ON in CMAKE_ARGS opts in.
include(CheckPIESupported)
option(FLOWSCOPE_HARDEN "Fortify, stack protector, full RELRO and PIE (on in the Debian package)"
       OFF)
if(FLOWSCOPE_HARDEN)
  add_compile_options(-U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2 -fstack-protector-strong)
  add_link_options(-Wl,-z,relro -Wl,-z,now)
  check_pie_supported()
  set(CMAKE_POSITION_INDEPENDENT_CODE ON)
endif()
