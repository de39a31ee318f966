#include "proto/tcp/cc_registry.h"

#include <array>

#include "proto/tcp/config.h"

namespace tuntcp::proto::tcp {
namespace {

struct Entry {
  CcAlgo algo;
  std::string_view name;
  std::unique_ptr<CongestionControl> (*make)(const Config&);
  std::string_view doc;
};

constexpr std::array kControllers = {
#define TUNTCP_X(e, name, make, doc) Entry{CcAlgo::e, name, &make, doc},
    TUNTCP_CONGESTION_CONTROLLERS(TUNTCP_X)
#undef TUNTCP_X
};

const Entry& entry(CcAlgo a) {
  for (const Entry& e : kControllers)
    if (e.algo == a) return e;
  return kControllers.front();  // unreachable: every enumerator has its entry
}

}  // namespace

std::unique_ptr<CongestionControl> make_congestion_control(const Config& cfg) {
  return entry(cfg.cc).make(cfg);
}

std::optional<CcAlgo> parse_cc(std::string_view name) {
  for (const Entry& e : kControllers)
    if (e.name == name) return e.algo;
  return std::nullopt;
}

std::string_view cc_name(CcAlgo a) { return entry(a).name; }

std::string cc_names() {
  std::string s;
  for (const Entry& e : kControllers) {
    if (!s.empty()) s += ", ";
    s.append(e.name);
  }
  return s;
}

std::string cc_help() {
  std::string s;
  for (const Entry& e : kControllers) {
    if (!s.empty()) s += ", ";
    s.append(e.name).append(" (").append(e.doc).append(")");
  }
  return s;
}

}  // namespace tuntcp::proto::tcp
