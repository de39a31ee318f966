#include "io/uring.h"

#include <sys/mman.h>

#include <cerrno>
#include <string>

#include "io/setup_error.h"

namespace tuntcp::io {

Ring::Ring(unsigned entries, bool sqpoll) {
  io_uring_params p{};
  if (sqpoll) {
    p.flags = IORING_SETUP_SQPOLL | IORING_SETUP_SINGLE_ISSUER;
    p.sq_thread_idle = 100;  // ms of idleness before the poller sleeps
    if (io_uring_queue_init_params(entries, &ring_, &p) == 0) {
      sqpoll_ = true;
      return;
    }
    p = io_uring_params{};
  }
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int r = io_uring_queue_init_params(entries, &ring_, &p);
  if (r == 0) {
    defer_taskrun_ = true;
    return;
  }
  p = io_uring_params{};
  p.flags = IORING_SETUP_COOP_TASKRUN;
  r = io_uring_queue_init_params(entries, &ring_, &p);
  if (r < 0) {
    p = io_uring_params{};
    r = io_uring_queue_init_params(entries, &ring_, &p);
  }
  if (r < 0) throw SetupError(describe_errno("io_uring_queue_init(" + std::to_string(entries) + ")", -r));
}

Ring::~Ring() { io_uring_queue_exit(&ring_); }

io_uring_sqe* Ring::sqe() {
  io_uring_sqe* s = io_uring_get_sqe(&ring_);
  while (!s) {
    io_uring_submit(&ring_);
    s = io_uring_get_sqe(&ring_);
  }
  return s;
}

void Ring::submit_and_wait(uint64_t timeout_us) {
  if (timeout_us == 0) {
    io_uring_submit(&ring_);
    if (defer_taskrun_) io_uring_get_events(&ring_);
    return;
  }
  __kernel_timespec ts{};
  ts.tv_sec = static_cast<long long>(timeout_us / 1000000);
  ts.tv_nsec = static_cast<long long>(timeout_us % 1000000) * 1000;
  io_uring_cqe* cqe = nullptr;
  io_uring_submit_and_wait_timeout(&ring_, &cqe, 1, &ts, nullptr);
}

bool Ring::register_region(void* base, size_t bytes) {
  iovec iov{base, bytes};
  region_registered_ = io_uring_register_buffers(&ring_, &iov, 1) == 0;
  return region_registered_;
}

BufRing::BufRing(Ring& ring, uint16_t group, uint32_t entries)
    : ring_(ring), group_(group), entries_(entries), mask_(io_uring_buf_ring_mask(entries)) {
  if (entries == 0 || entries > 32768 || (entries & (entries - 1)) != 0)
    throw SetupError("provided-buffer ring size must be a power of two <= 32768, got " +
                     std::to_string(entries));
  bytes_ = entries * sizeof(io_uring_buf);
  void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
  if (p == MAP_FAILED) throw SetupError(describe_errno("mmap of the provided-buffer ring", errno));
  br_ = static_cast<io_uring_buf_ring*>(p);
  io_uring_buf_ring_init(br_);
  io_uring_buf_reg reg{};
  reg.ring_addr = reinterpret_cast<uintptr_t>(br_);
  reg.ring_entries = entries;
  reg.bgid = group;
  int r = io_uring_register_buf_ring(ring_.raw(), &reg, 0);
  if (r < 0) {
    munmap(br_, bytes_);
    throw SetupError(describe_errno("registering a provided-buffer ring (needs Linux 5.19+)", -r));
  }
}

BufRing::~BufRing() {
  io_uring_unregister_buf_ring(ring_.raw(), group_);
  munmap(br_, bytes_);
}

}  // namespace tuntcp::io
