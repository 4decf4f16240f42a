# Warnings for flowscope's own targets. FLOWSCOPE_WERROR turns them into errors (on in CI and
# by default in the Makefile); third-party headers are included as SYSTEM and stay quiet.
option(FLOWSCOPE_WERROR "Treat warnings as errors" OFF)

function(flowscope_warnings target)
  target_compile_options(${target} PRIVATE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
    -Wimplicit-fallthrough -Wcast-align -Wformat=2)
  if(FLOWSCOPE_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
