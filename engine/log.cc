#include "engine/log.h"

#include <atomic>
#include <cstdio>

namespace tuntcp::engine {
namespace {
std::atomic<int> g_level{static_cast<int>(LogLevel::kInfo)};
const char* kNames[] = {"error", "warn", "info", "debug"};
}  // namespace

void set_log_level(LogLevel level) { g_level.store(static_cast<int>(level)); }
bool log_enabled(LogLevel level) { return static_cast<int>(level) <= g_level.load(std::memory_order_relaxed); }

void log_message(LogLevel level, const char* fmt, ...) {
  if (!log_enabled(level)) return;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  std::fprintf(stderr, "tuntcp: %s: %s\n", kNames[static_cast<int>(level)], buf);
}

}  // namespace tuntcp::engine
