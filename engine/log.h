// Leveled logging to stderr for start-up, shutdown and rare events. Never on the per-packet path.
#pragma once

#include <cstdarg>

#include "engine/options.h"

namespace tuntcp::engine {

void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);
void log_message(LogLevel level, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) ::tuntcp::engine::log_message(::tuntcp::engine::LogLevel::kError, __VA_ARGS__)
#define log_warn(...) ::tuntcp::engine::log_message(::tuntcp::engine::LogLevel::kWarn, __VA_ARGS__)
#define log_info(...) ::tuntcp::engine::log_message(::tuntcp::engine::LogLevel::kInfo, __VA_ARGS__)
#define log_debug(...) ::tuntcp::engine::log_message(::tuntcp::engine::LogLevel::kDebug, __VA_ARGS__)

}  // namespace tuntcp::engine
