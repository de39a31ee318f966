// One iperf3 data stream, on the worker that owns its connection. It counts what it receives,
// or (for -R and the reverse half of --bidir) sends from a preallocated block as fast as the
// window allows. The control connection, usually on another worker, drives it with commands
// posted to that worker (start, stop, expect, finish); the stream answers once, through a
// command posted back, when its count is final (report()).
//
// Byte counters are atomics written only by the owning worker; the control reads them after
// the stream has reported (the command queue orders the two).
//
// A stream's id and direction are not known when it connects: the registry gives them once the
// test's last stream is in (Registry::admit says why), under its mutex. The control reads them
// after that; the stream's own worker only once TEST_START has reached it (post_start), which
// the control posts after reading them.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

#include "proto/flow.h"

namespace tuntcp::engine {
class Socket;
class TcpStack;
}  // namespace tuntcp::engine

namespace tuntcp::engine::services::iperf3 {

class ControlSession;

class StreamSession {
 public:
  StreamSession(uint32_t worker, const proto::FlowKey& key, uint64_t open_order,
                uint32_t control_worker, std::weak_ptr<ControlSession> control)
      : worker_(worker),
        key_(key),
        open_order_(open_order),
        control_worker_(control_worker),
        control_(std::move(control)) {}

  // The registry, once every stream of the test is in: iperf3 id and direction.
  void assign(int id, bool sends) {
    id_ = id;
    sends_ = sends;
  }

  // --- connection events (the App of the connection forwards them) ---
  void on_data(Socket& s, size_t n);
  void on_writable(Socket& s);
  void on_peer_close(Socket& s);
  void on_closed(Socket& s);

  // --- commands from the control connection, run on this stream's worker ---
  // TEST_START: results count from start_us + omit_us; a sending stream starts sending.
  static void post_start(const std::shared_ptr<StreamSession>& st, TcpStack& from,
                         uint64_t start_us, uint64_t omit_us, uint64_t block_len);
  // TEST_END: a sending stream stops and reports at once, counting the rest of the block it is
  // in, which it still sends (the iperf3 client reads whole blocks of -l bytes with blocking
  // reads: a partial last block would hang it).
  static void post_stop(const std::shared_ptr<StreamSession>& st, TcpStack& from);
  // The client says it sent `bytes` on this stream: report once they are all in.
  static void post_expect(const std::shared_ptr<StreamSession>& st, TcpStack& from, uint64_t bytes);
  // The test is over: close the connection.
  static void post_finish(const std::shared_ptr<StreamSession>& st, TcpStack& from);

  int id() const { return id_; }
  bool sends() const { return sends_; }
  uint32_t worker() const { return worker_; }
  const proto::FlowKey& key() const { return key_; }
  uint64_t open_order() const { return open_order_; }
  // Bytes after the omitted seconds (what the results report), and in all.
  uint64_t counted_bytes() const {
    return total_.load(std::memory_order_relaxed) - omitted_.load(std::memory_order_relaxed);
  }
  uint64_t total_bytes() const { return total_.load(std::memory_order_relaxed); }
  int64_t retransmits() const { return retransmits_.load(std::memory_order_relaxed); }

 private:
  // Runs `fn(session, socket)` on the stream's worker if its connection is still open.
  template <typename Fn>
  static void post(const std::shared_ptr<StreamSession>& st, TcpStack& from, Fn fn);
  void add(uint64_t n, uint64_t now_us);
  void fill(Socket& s);
  void report(Socket& s);

  int id_ = 0;
  bool sends_ = false;  // the server sends on this stream
  const uint32_t worker_;
  const proto::FlowKey key_;
  const uint64_t open_order_;
  const uint32_t control_worker_;
  const std::weak_ptr<ControlSession> control_;

  std::atomic<uint64_t> total_{0};
  std::atomic<uint64_t> omitted_{0};
  std::atomic<int64_t> retransmits_{0};

  // Owned by the stream's worker.
  bool open_ = true;
  bool started_ = false;  // TEST_START has come: id_ and sends_ may be read here
  bool sending_ = false;
  uint64_t block_len_ = 128 * 1024;  // the client's -l
  uint64_t block_left_ = 0;          // bytes still to send to complete the current block
  uint64_t tail_left_ = 0;           // after TEST_END: counted bytes of the last block unsent
  bool reported_ = false;
  bool omit_pending_ = false;
  uint64_t omit_end_us_ = 0;
  uint64_t expected_ = UINT64_MAX;  // bytes the client sent, once it has said so
};

}  // namespace tuntcp::engine::services::iperf3
