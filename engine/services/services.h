// The built-in services, each an App factory, and the table that maps --services names to
// ports: discard (RFC 863), echo (RFC 862), chargen (RFC 864).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/app.h"

namespace tuntcp::engine::services {

AppFactory discard();
AppFactory echo();
AppFactory chargen();

struct ServiceSpec {
  std::string name;
  uint16_t port;
};
// "discard,echo:7007,chargen" -> specs with default or explicit ports. Returns an error
// message in `err` for unknown names or bad ports.
std::vector<ServiceSpec> parse_service_list(std::string_view text, std::string& err);
// The factory for a service name (nullopt if unknown).
std::optional<AppFactory> factory_for(std::string_view name);
// Names and default ports, for --help.
std::string describe_services();

}  // namespace tuntcp::engine::services
