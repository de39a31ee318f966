// The reader -> worker hand-off: a lock-free queue of buffer handles per worker, and the
// sleep/wake protocol that lets an idle worker block without missing a packet.
//
// Wake protocol (a Dekker pair, both sides use seq_cst fences):
//   worker: sleeping = true;  fence;  if queue non-empty -> don't sleep;  else block on eventfd
//   reader: enqueue;          fence;  if sleeping       -> sleeping = false, write eventfd
// Either the worker sees the packet, or the reader sees the flag: no lost wake-up, and a busy
// worker costs the reader no system call.
#pragma once

#include "io/concurrent_queue.h"
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <functional>

#include "io/buffer_pool.h"
#include "io/setup_error.h"

namespace tuntcp::engine {

// A received datagram: the pool buffer it lives in and its length. 8 bytes, passed by value.
struct PacketRef {
  io::BufId buf;
  uint32_t len;
};

class TcpStack;
// Work posted to a worker by another thread (rare events only: the start or end of a test,
// a stats dump). Runs on the worker, with its TCP stack, between batches.
using Command = std::function<void(TcpStack&)>;

class WorkerInbox {
 public:
  WorkerInbox() : efd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (efd_ < 0) throw io::SetupError(io::describe_errno("eventfd", errno));
  }
  ~WorkerInbox() { close(efd_); }
  WorkerInbox(const WorkerInbox&) = delete;
  WorkerInbox& operator=(const WorkerInbox&) = delete;

  moodycamel::ConcurrentQueue<PacketRef>& queue() { return queue_; }
  moodycamel::ConcurrentQueue<Command>& commands() { return commands_; }
  // Any thread: queue a command and make sure the worker sees it soon.
  void post(Command c) {
    commands_.enqueue(std::move(c));
    notify();
  }
  int eventfd_fd() const { return efd_; }

  // Reader side, after enqueueing. Returns true if it had to wake the worker.
  bool notify() {
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (!sleeping_.load(std::memory_order_relaxed)) return false;
    if (!sleeping_.exchange(false, std::memory_order_acq_rel)) return false;
    wake();
    return true;
  }
  // Unconditional wake (shutdown).
  void wake() {
    uint64_t one = 1;
    [[maybe_unused]] auto r = write(efd_, &one, sizeof one);
  }
  // Worker side: announce the intent to sleep; returns false if work arrived meanwhile.
  bool prepare_sleep() {
    sleeping_.store(true, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_seq_cst);
    if (queue_.size_approx() > 0 || commands_.size_approx() > 0) {
      sleeping_.store(false, std::memory_order_relaxed);
      return false;
    }
    return true;
  }
  void end_sleep() { sleeping_.store(false, std::memory_order_relaxed); }

 private:
  moodycamel::ConcurrentQueue<PacketRef> queue_{4096};
  moodycamel::ConcurrentQueue<Command> commands_;
  std::atomic<bool> sleeping_{false};
  int efd_;
};

}  // namespace tuntcp::engine
