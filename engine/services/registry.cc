#include <charconv>

#include "engine/services/iperf2.h"
#include "engine/services/iperf3.h"
#include "engine/services/services.h"

namespace tuntcp::engine::services {
namespace {

struct Known {
  const char* name;
  uint16_t port;
  AppFactory (*make)();
};
constexpr Known kKnown[] = {
    {"discard", 9, &discard},
    {"echo", 7, &echo},
    {"chargen", 19, &chargen},
    {"iperf3", 5201, &iperf3_server},
    {"iperf2", 5001, &iperf2_server},
};

}  // namespace

std::optional<AppFactory> factory_for(std::string_view name) {
  for (const auto& k : kKnown)
    if (name == k.name) return k.make();
  return std::nullopt;
}

std::vector<ServiceSpec> parse_service_list(std::string_view text, std::string& err) {
  std::vector<ServiceSpec> out;
  err.clear();
  if (text == "none") return out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    std::string_view name = item.substr(0, item.find(':'));
    const Known* known = nullptr;
    for (const auto& k : kKnown)
      if (name == k.name) known = &k;
    if (!known) {
      err = "unknown service '" + std::string(name) + "' (known: " + describe_services() + ")";
      return {};
    }
    uint16_t port = known->port;
    if (item.size() > name.size()) {
      std::string_view p = item.substr(name.size() + 1);
      unsigned v = 0;
      auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), v);
      if (ec != std::errc() || end != p.data() + p.size() || v == 0 || v > 65535) {
        err = "bad port in '" + std::string(item) + "'";
        return {};
      }
      port = static_cast<uint16_t>(v);
    }
    for (const auto& s : out)
      if (s.port == port) {
        err = "two services on port " + std::to_string(port);
        return {};
      }
    out.push_back({std::string(name), port});
  }
  return out;
}

std::string describe_services() {
  std::string s;
  for (const auto& k : kKnown) {
    if (!s.empty()) s += ", ";
    s += std::string(k.name) + " (" + std::to_string(k.port) + ")";
  }
  return s;
}

}  // namespace tuntcp::engine::services
