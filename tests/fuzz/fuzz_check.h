// FUZZ_CHECK: an invariant of the code under test. A violation prints what failed and aborts,
// which libFuzzer reports as a crash and saves the input as a reproducer (crash-<sha1>).
// Plain assert() would vanish under NDEBUG (RelWithDebInfo), so the harnesses use this.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond, ...)                                                                  \
  do {                                                                                         \
    if (!(cond)) {                                                                             \
      std::fprintf(stderr, "\nFUZZ_CHECK failed at %s:%d: %s\n  ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                                                       \
      std::fputc('\n', stderr);                                                                \
      std::abort();                                                                            \
    }                                                                                          \
  } while (0)
