// --user: give up root once the TUN device, its addresses and every ring are set up, so a bug
// in the packet path cannot be turned into root access.
#pragma once

#include <string>

namespace tuntcp::engine {

// Switches every thread to `user` (its uid, gid, no supplementary groups), empties the
// capability bounding set and sets no_new_privs. Returns an error message, empty on success.
std::string drop_privileges(const std::string& user);

// The effective capability mask of this process (from /proc/self/status), for logs and tests.
std::string effective_capabilities();

}  // namespace tuntcp::engine
