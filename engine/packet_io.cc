#include "engine/packet_io.h"

#include <cstring>

#include "engine/log.h"

namespace tuntcp::engine {
namespace {
constexpr uint64_t kWriteTag = 1ull << 62;
}

PacketIo::PacketIo(uint32_t worker, int tun_fd, io::BufferPool& pool, uint32_t partition,
                   uint32_t max_writes, uint32_t vnet_hdr_len, WorkerStats& stats)
    : worker_(worker), fd_(tun_fd), pool_(pool), partition_(partition),
      own_(pool.partition(partition)), returns_(pool), max_writes_(max_writes),
      hdr_len_(vnet_hdr_len), stats_(stats) {}

io::BufId PacketIo::alloc_tx() {
  io::BufId id = own_.alloc();
  if (id == io::kNoBuf) {
    // Buffers of ours may be waiting in completed writes: reap them and try once more.
    reap();
    id = own_.alloc();
    if (id == io::kNoBuf) {
      stats_.drop(Drop::k_tx_no_buffer);
      return io::kNoBuf;
    }
  }
  pool_.refs(id) = 1;
  return id;
}

void PacketIo::release(io::BufId id) {
  uint16_t& r = pool_.refs(id);
  if (r > 1) {
    --r;
    return;
  }
  r = 0;
  if (pool_.owner_of(id) == partition_) {
    own_.free_local(id);
  } else {
    returns_.add(id);
  }
}

void PacketIo::transmit(io::BufId id, uint32_t ip_len, const io::VnetHdr& v) {
  if (hdr_len_) io::write_vnet(pool_.data(id), v);
  if (pcap_) pcap_->capture(ip(id), ip_len);
  const uint32_t len = hdr_len_ + ip_len;
  if (writes_in_flight_ >= max_writes_) {
    // Keep the completion queue from overflowing: wait for some writes to finish.
    ring_->submit_and_wait(1000);
    reap();
  }
  io_uring_sqe* sqe = ring_->sqe();
  if (ring_->region_registered()) {
    io_uring_prep_write_fixed(sqe, fd_, pool_.data(id), len, 0, 0);
  } else {
    io_uring_prep_write(sqe, fd_, pool_.data(id), len, 0);
  }
  io_uring_sqe_set_data64(sqe, kWriteTag | id);
  ++writes_in_flight_;
  stats_.tx_packets.add();
  stats_.tx_bytes.add(ip_len);
}

void PacketIo::reap() {
  ring_->for_each_cqe([&](io_uring_cqe* cqe) {
    const uint64_t tag = io_uring_cqe_get_data64(cqe);
    if (tag == kEventTag) {
      event_completed_ = true;
      return;
    }
    if (tag & kWriteTag) {
      --writes_in_flight_;
      if (cqe->res < 0) {
        stats_.drop(Drop::k_tx_error);
        if (stats_.drops[static_cast<size_t>(Drop::k_tx_error)].get() <= 3)
          log_warn("worker %u: TUN write failed: %s", worker_, std::strerror(-cqe->res));
      }
      release(static_cast<io::BufId>(tag & 0xffffffffu));
    }
  });
}

void PacketIo::flush() {
  ring_->submit_and_wait(0);
  reap();
  returns_.flush();
}

uint32_t PacketIo::buffers_in_use() const {
  return own_.size() - static_cast<uint32_t>(own_.free_count());
}

}  // namespace tuntcp::engine
