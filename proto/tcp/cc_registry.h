// The congestion controllers, in one list: the --cc names, the enum the engine parses them into
// once, and the factory each connection gets its one controller from. Adding a controller is a
// file that defines its make_ function (make_cubic() in cubic.cc, make_newreno() in newreno.cc)
// and one line here.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "proto/tcp/cc.h"

// X(enumerator, --cc name, factory, what it is)
#define TUNTCP_CONGESTION_CONTROLLERS(X)                                          \
  X(kCubic, "cubic", make_cubic, "RFC 9438 CUBIC with HyStart, Linux's default") \
  X(kNewReno, "newreno", make_newreno, "RFC 5681 / RFC 6582 NewReno")

namespace tuntcp::proto::tcp {

struct Config;

enum class CcAlgo : uint8_t {
#define TUNTCP_X(e, name, make, doc) e,
  TUNTCP_CONGESTION_CONTROLLERS(TUNTCP_X)
#undef TUNTCP_X
};

#define TUNTCP_X(e, name, make, doc) std::unique_ptr<CongestionControl> make(const Config& cfg);
TUNTCP_CONGESTION_CONTROLLERS(TUNTCP_X)
#undef TUNTCP_X

// The controller a connection with `cfg` uses (cfg.cc), configured from cfg.
std::unique_ptr<CongestionControl> make_congestion_control(const Config& cfg);
// "cubic" -> kCubic; nullopt for a name not in the list.
std::optional<CcAlgo> parse_cc(std::string_view name);
std::string_view cc_name(CcAlgo a);
// "cubic (RFC 9438 ...), newreno (...)" for --help.
std::string cc_help();
// "cubic, newreno": the names alone, for error messages.
std::string cc_names();

}  // namespace tuntcp::proto::tcp
