#include "io/tun.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_tun.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "io/setup_error.h"
#include "io/vnet.h"

namespace tuntcp::io {
namespace {

// A throw-away AF_INET socket for the SIOCSIF* ioctls, closed on scope exit.
struct CtlSocket {
  int fd;
  CtlSocket() : fd(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    if (fd < 0) throw SetupError(describe_errno("socket(AF_INET) for interface setup", errno));
  }
  ~CtlSocket() { close(fd); }
};

ifreq make_ifreq(const std::string& name) {
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, name.c_str(), IFNAMSIZ - 1);
  return ifr;
}

void set_ipv4(int fd, const std::string& dev, unsigned long req, uint32_t addr, const char* what) {
  ifreq ifr = make_ifreq(dev);
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(addr);
  std::memcpy(&ifr.ifr_addr, &sin, sizeof sin);
  if (ioctl(fd, req, &ifr) < 0)
    throw SetupError(describe_errno(std::string("setting the ") + what + " of " + dev, errno));
}

bool device_exists(const std::string& name) {
  CtlSocket s;
  ifreq ifr = make_ifreq(name);
  return ioctl(s.fd, SIOCGIFINDEX, &ifr) == 0;
}

}  // namespace

TunDevice::TunDevice(const TunConfig& cfg) : name_(cfg.name) {
  if (cfg.name.empty() || cfg.name.size() >= IFNAMSIZ)
    throw SetupError("--dev must be 1 to 15 characters, got '" + cfg.name + "'");
  if (cfg.attach && !device_exists(cfg.name))
    throw SetupError("--attach: there is no device " + cfg.name + " (create one with `ip tuntap add " +
                     cfg.name + " mode tun multi_queue`, or drop --attach to let tuntcp create it)");
  for (uint32_t q = 0; q < cfg.queues; ++q) {
    int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) throw SetupError(describe_errno("opening /dev/net/tun", errno));
    fds_.push_back(fd);
    ifreq ifr = make_ifreq(cfg.name);
    ifr.ifr_flags = IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE | (cfg.offload ? IFF_VNET_HDR : 0);
    if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
      const int err = errno;
      std::string what = "attaching queue " + std::to_string(q) + " of TUN device " + cfg.name;
      if (err == EINVAL)
        throw SetupError(what + ": " + std::strerror(err) +
                         " (a device of that name exists without multi_queue, or is not a TUN:"
                         " choose another --dev)");
      throw SetupError(describe_errno(what, err));
    }
    if (q == 0) name_ = ifr.ifr_name;
    if (cfg.offload) {
      int hdr = static_cast<int>(kVnetHdrLen);
      if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
        throw SetupError(describe_errno("TUNSETVNETHDRSZ on " + name_ + " (try --offload off)", errno));
      const unsigned offloads = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
      if (ioctl(fd, TUNSETOFFLOAD, offloads) < 0)
        throw SetupError(describe_errno("TUNSETOFFLOAD on " + name_ + " (try --offload off)", errno));
    }
  }
  CtlSocket s;
  ifreq ifr = make_ifreq(name_);
  if (cfg.attach) {
    // Someone else configures this device: only look at it.
    if (ioctl(s.fd, SIOCGIFMTU, &ifr) < 0) throw SetupError(describe_errno("reading the MTU of " + name_, errno));
    mtu_ = static_cast<uint32_t>(ifr.ifr_mtu);
    ifr = make_ifreq(name_);
    if (ioctl(s.fd, SIOCGIFFLAGS, &ifr) < 0) throw SetupError(describe_errno("reading the flags of " + name_, errno));
    up_ = (ifr.ifr_flags & IFF_UP) != 0;
    return;
  }
  mtu_ = cfg.mtu;
  ifr.ifr_mtu = static_cast<int>(cfg.mtu);
  if (ioctl(s.fd, SIOCSIFMTU, &ifr) < 0)
    throw SetupError(describe_errno("setting MTU " + std::to_string(cfg.mtu) + " on " + name_, errno));
  ifr = make_ifreq(name_);
  ifr.ifr_qlen = static_cast<int>(cfg.txqueuelen);
  if (ioctl(s.fd, SIOCSIFTXQLEN, &ifr) < 0)
    throw SetupError(describe_errno("setting txqueuelen on " + name_, errno));
  if (cfg.prefix_len > 0 && !cfg.attach) {
    set_ipv4(s.fd, name_, SIOCSIFADDR, cfg.host_addr, "address");
    const uint32_t mask = cfg.prefix_len >= 32 ? ~0u : ~(~0u >> cfg.prefix_len);
    set_ipv4(s.fd, name_, SIOCSIFNETMASK, mask, "netmask");
  }
  ifr = make_ifreq(name_);
  if (ioctl(s.fd, SIOCGIFFLAGS, &ifr) < 0)
    throw SetupError(describe_errno("reading the flags of " + name_, errno));
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s.fd, SIOCSIFFLAGS, &ifr) < 0)
    throw SetupError(describe_errno("bringing " + name_ + " up", errno));
  up_ = true;
}

TunDevice::~TunDevice() {
  for (int fd : fds_) close(fd);
}

}  // namespace tuntcp::io
