// The multi-queue TUN device: one file descriptor per queue, all on one interface.
// IFF_TUN | IFF_NO_PI | IFF_MULTI_QUEUE: every read returns one IP datagram, every write sends
// one. The kernel spreads flows over the queues and learns from our writes which queue a flow
// lives on (README, "Architecture": steering).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tuntcp::io {

struct TunConfig {
  std::string name = "tuntcp0";
  uint32_t queues = 1;
  uint32_t mtu = 1500;
  uint32_t txqueuelen = 1000;
  // Address/prefix for the kernel's side of the link; prefix_len 0 = leave addresses alone.
  uint32_t host_addr = 0;
  uint8_t prefix_len = 0;
  bool attach = false;  // use an existing persistent device instead of creating one
  // IFF_VNET_HDR + TUNSETOFFLOAD(CSUM|TSO4|TSO6): every packet carries a 12-byte VnetHdr, the
  // kernel hands over 64 KB TCP super-segments and accepts them back.
  bool offload = false;
};

class TunDevice {
 public:
  // Creates (or attaches to) the device with `cfg.queues` queues, sets MTU and txqueuelen,
  // configures the host address if asked, and brings the link up. Throws SetupError.
  explicit TunDevice(const TunConfig& cfg);
  ~TunDevice();
  TunDevice(const TunDevice&) = delete;
  TunDevice& operator=(const TunDevice&) = delete;

  const std::string& name() const { return name_; }
  int queue_fd(uint32_t q) const { return fds_[q]; }
  uint32_t queues() const { return static_cast<uint32_t>(fds_.size()); }
  uint32_t mtu() const { return mtu_; }
  bool up() const { return up_; }

 private:
  std::string name_;
  std::vector<int> fds_;
  uint32_t mtu_ = 0;
  bool up_ = false;
};

}  // namespace tuntcp::io
