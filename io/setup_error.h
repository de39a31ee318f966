// Setup failures (TUN, rings, memory) carry one clear line for the user: what failed, why, and
// what to do. main() prints it and exits 1.
#pragma once

#include <stdexcept>
#include <string>

namespace tuntcp::io {

class SetupError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// "what: strerror(err)" plus a hint for the errno values a user can fix.
std::string describe_errno(const std::string& what, int err);

}  // namespace tuntcp::io
