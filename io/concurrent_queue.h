// moodycamel::ConcurrentQueue, included with GCC 12's false-positive -Wstringop-overflow on its
// atomic loads silenced (the warning fires inside the library's inlined code, not ours).
#pragma once

#if defined(__clang__)  // clang has no such warning (and would warn of an unknown one)
#include <concurrentqueue/concurrentqueue.h>
#else
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#include <concurrentqueue/concurrentqueue.h>
#pragma GCC diagnostic pop
#endif
