# bench_lttng (tests/bench/bench_lttng.c): concviz's recorder beside LTTng-UST. Included from
# tests/CMakeLists.txt after the benchmarks' loop, which has already made the target (every
# bench_*.c is one); this gives it the tracepoint provider's directory and lttng-ust. Without
# lttng-ust (Debian: liblttng-ust-dev) the target is built without the peer, measures concviz
# alone and says why when run; if the loop did not make it, it is skipped.
pkg_check_modules(LTTNG_UST IMPORTED_TARGET lttng-ust)

if(NOT LTTNG_UST_FOUND)
  if(TARGET bench_lttng)
    message(STATUS "lttng-ust not found: bench_lttng measures concviz alone (install liblttng-ust-dev)")
  else()
    message(STATUS "lttng-ust not found: bench_lttng skipped (install liblttng-ust-dev)")
  endif()
  return()
endif()

if(NOT TARGET bench_lttng)
  add_executable(bench_lttng ${CMAKE_CURRENT_LIST_DIR}/bench_lttng.c)
  set_target_properties(bench_lttng PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR}/bench)
  target_compile_options(bench_lttng PRIVATE ${CONCVIZ_WARNINGS})
  target_link_libraries(bench_lttng PRIVATE concviz_engine)
  if(TARGET benchmarks)
    add_dependencies(benchmarks bench_lttng)
  endif()
endif()
# The provider header is included again from <lttng/tracepoint-event.h> by its bare name.
target_include_directories(bench_lttng PRIVATE ${CMAKE_CURRENT_LIST_DIR})
target_compile_definitions(bench_lttng PRIVATE CONCVIZ_HAVE_LTTNG)
target_link_libraries(bench_lttng PRIVATE PkgConfig::LTTNG_UST ${CMAKE_DL_LIBS})
