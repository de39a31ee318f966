// A small RAII wrapper over one liburing ring, plus the provided-buffer ring that lets the
// kernel pick a pool buffer for each read. One ring per thread; nothing here is shared.
#pragma once

#include <liburing.h>

#include <cstdint>

namespace tuntcp::io {

// Constants newer than the Linux 6.1 headers Debian 12 compiles against (the kernel is newer).
inline constexpr uint8_t kOpReadMultishot = 49;  // IORING_OP_READ_MULTISHOT, Linux 6.7

class Ring {
 public:
  // `entries` submission slots. Tries SINGLE_ISSUER|DEFER_TASKRUN (completions run only when
  // this thread asks for them: no interrupts of the hot loop), falls back to a plain ring on
  // kernels without them. With `sqpoll` a kernel thread polls the submission queue instead
  // (no io_uring_enter per submission; costs a core). Throws SetupError.
  explicit Ring(unsigned entries, bool sqpoll = false);
  ~Ring();
  Ring(const Ring&) = delete;
  Ring& operator=(const Ring&) = delete;

  io_uring* raw() { return &ring_; }
  // A free SQE; submits pending ones first if the SQ is full. Never null.
  io_uring_sqe* sqe();
  int submit() { return io_uring_submit(&ring_); }
  // Submits, then waits up to `timeout_us` for at least one completion (0 = just submit and
  // reap). Returns without error on timeout or signal.
  void submit_and_wait(uint64_t timeout_us);
  // Calls fn(cqe) for every ready completion, then marks them seen. Returns the count.
  template <typename Fn>
  unsigned for_each_cqe(Fn&& fn) {
    unsigned head, n = 0;
    io_uring_cqe* cqe;
    io_uring_for_each_cqe(&ring_, head, cqe) {
      fn(cqe);
      ++n;
    }
    io_uring_cq_advance(&ring_, n);
    return n;
  }
  // Registers one region as fixed buffer 0 so WRITE_FIXED / READ_FIXED can address any slot
  // in it. Returns false (and the ring works without) if the kernel refuses.
  bool register_region(void* base, size_t bytes);
  bool region_registered() const { return region_registered_; }
  bool defer_taskrun() const { return defer_taskrun_; }
  bool sqpoll() const { return sqpoll_; }

 private:
  io_uring ring_{};
  bool region_registered_ = false;
  bool defer_taskrun_ = false;
  bool sqpoll_ = false;
};

// A provided-buffer ring (IORING_REGISTER_PBUF_RING) of `entries` (a power of two, at most
// 32768) buffers in group `group`. liburing 2.3 has no io_uring_setup_buf_ring: we map and
// register the ring memory ourselves.
class BufRing {
 public:
  BufRing(Ring& ring, uint16_t group, uint32_t entries);
  ~BufRing();
  BufRing(const BufRing&) = delete;
  BufRing& operator=(const BufRing&) = delete;

  // Queues a buffer for the kernel; visible after publish().
  void add(void* addr, uint32_t len, uint16_t bid) {
    io_uring_buf_ring_add(br_, addr, len, bid, mask_, pending_++);
  }
  void publish() {
    if (pending_) io_uring_buf_ring_advance(br_, pending_);
    pending_ = 0;
  }
  uint16_t group() const { return group_; }
  uint32_t entries() const { return entries_; }

 private:
  Ring& ring_;
  io_uring_buf_ring* br_ = nullptr;
  size_t bytes_ = 0;
  uint16_t group_;
  uint32_t entries_;
  int mask_;
  int pending_ = 0;
};

}  // namespace tuntcp::io
