#pragma once

#include <string>

namespace tuntcp::engine {
// "tuntcp 0.1.0 (RelWithDebInfo) checksum=avx2 cpu=sse2,avx2,avx512bw"
std::string version_string();
}  // namespace tuntcp::engine
