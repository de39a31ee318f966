// moodycamel::ConcurrentQueue, included with GCC 12's false-positive -Wstringop-overflow on its
// atomic loads silenced (the warning fires inside the library's inlined code, not ours).
#pragma once

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wstringop-overflow"
#include <concurrentqueue/concurrentqueue.h>
#pragma GCC diagnostic pop
