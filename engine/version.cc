#include "engine/version.h"

#include "proto/checksum.h"

namespace tuntcp::engine {

std::string version_string() {
  std::string s = "tuntcp " TUNTCP_VERSION " (" TUNTCP_BUILD_TYPE ")";
  s += " checksum=";
  s += proto::csum::active_variant().name;
  s += " cpu-features=";
  bool first = true;
  for (const auto& v : proto::csum::variants()) {
    if (!v.supported) continue;
    if (!first) s += ",";
    s += v.name;
    first = false;
  }
  return s;
}

}  // namespace tuntcp::engine
