#include "io/setup_error.h"

#include <cerrno>
#include <cstring>

namespace tuntcp::io {

std::string describe_errno(const std::string& what, int err) {
  std::string s = what + ": " + std::strerror(err);
  switch (err) {
    case EPERM:
    case EACCES:
      s += " (tuntcp needs root or CAP_NET_ADMIN: run it with sudo, or `setcap "
           "cap_net_admin=eip tuntcp`)";
      break;
    case ENOENT:
    case ENODEV:
    case ENXIO:
      s += " (is /dev/net/tun present? load the module with `modprobe tun`, or give the "
           "container the device)";
      break;
    case ENOMEM:
      s += " (not enough memory: lower --pool-buffers or --mtu, or raise `ulimit -l`)";
      break;
    case EBUSY:
      s += " (the device is in use by another process, or was released a moment ago: retry)";
      break;
    default:
      break;
  }
  return s;
}

}  // namespace tuntcp::io
