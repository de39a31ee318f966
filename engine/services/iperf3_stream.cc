#include "engine/services/iperf3_stream.h"

#include <algorithm>
#include <array>
#include <span>

#include "engine/services/iperf3_control.h"
#include "engine/socket.h"
#include "engine/tcp_stack.h"

namespace tuntcp::engine::services::iperf3 {
namespace {

// What sending streams send, shared read-only by all of them: iperf3 fills its block once
// and sends it over and over, and any contents do. No allocation or copy per send beyond the
// one into the connection's send buffer.
const std::array<uint8_t, 128 * 1024> kBlock{};

}  // namespace

template <typename Fn>
void StreamSession::post(const std::shared_ptr<StreamSession>& st, TcpStack& from, Fn fn) {
  from.post(st->worker_, [st, fn](TcpStack& stack) {
    // The connection may have closed since the command was posted.
    if (!st->open_) return;
    if (Socket* s = stack.find(st->key_)) fn(*st, *s);
  });
}

void StreamSession::post_start(const std::shared_ptr<StreamSession>& st, TcpStack& from,
                               uint64_t start_us, uint64_t omit_us, uint64_t block_len) {
  post(st, from, [start_us, omit_us, block_len](StreamSession& self, Socket& s) {
    self.started_ = true;
    // Bytes may have come before TEST_START reached this worker (the client starts sending at
    // TEST_RUNNING, which the control sent at the same time): they count for a stream the
    // server receives on. On one it sends on the client sends nothing.
    if (self.sends_) self.total_.store(0, std::memory_order_relaxed);
    self.block_len_ = block_len > 0 ? block_len : self.block_len_;
    if (omit_us > 0) {
      self.omit_pending_ = true;
      self.omit_end_us_ = start_us + omit_us;
    }
    if (self.sends_) {
      self.sending_ = true;
      self.fill(s);
    }
  });
}

void StreamSession::post_stop(const std::shared_ptr<StreamSession>& st, TcpStack& from) {
  post(st, from, [](StreamSession& self, Socket& s) {
    if (!self.sends_) return;  // receivers count until the client's bytes are all in
    self.sending_ = false;
    // The rest of the current block is committed: counted now, sent as the window allows.
    // Reporting must not wait for it: with --bidir the client stops reading this stream until
    // it has the results.
    self.tail_left_ = self.block_left_;
    self.block_left_ = 0;
    self.add(self.tail_left_, s.stack_now());
    self.report(s);
    self.fill(s);
  });
}

void StreamSession::post_expect(const std::shared_ptr<StreamSession>& st, TcpStack& from,
                                uint64_t bytes) {
  post(st, from, [bytes](StreamSession& self, Socket& s) {
    self.expected_ = bytes;
    if (self.total_bytes() >= bytes) self.report(s);
  });
}

void StreamSession::post_finish(const std::shared_ptr<StreamSession>& st, TcpStack& from) {
  post(st, from, [](StreamSession& self, Socket& s) {
    self.sending_ = false;
    self.report(s);
    s.close();  // FIN after what is queued; nothing unread stays behind (we consume all)
  });
}

void StreamSession::add(uint64_t n, uint64_t now_us) {
  const uint64_t total = total_.load(std::memory_order_relaxed);
  // The first bytes after the omitted seconds mark where the results start counting.
  if (omit_pending_ && now_us >= omit_end_us_) {
    omit_pending_ = false;
    omitted_.store(total, std::memory_order_relaxed);
  }
  if (n) total_.store(total + n, std::memory_order_relaxed);
}

void StreamSession::on_data(Socket& s, size_t n) {
  // The client sends nothing on the streams the server sends on; ignore it if it does.
  if (n == 0 || (started_ && sends_)) return;
  add(n, s.stack_now());
  if (total_bytes() >= expected_) report(s);
}

void StreamSession::on_writable(Socket& s) { fill(s); }

void StreamSession::fill(Socket& s) {
  // After TEST_END: the already counted end of the last block.
  while (tail_left_ > 0) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(tail_left_, kBlock.size()));
    const size_t n = s.send(std::span<const uint8_t>(kBlock.data(), want));
    tail_left_ -= n;
    if (n < want) return;  // send buffer full: on_writable continues
  }
  // Block by block (the client's -l), so that stopping can end on a block boundary.
  while (sending_) {
    if (block_left_ == 0) block_left_ = block_len_;
    const size_t want = static_cast<size_t>(std::min<uint64_t>(block_left_, kBlock.size()));
    const size_t n = s.send(std::span<const uint8_t>(kBlock.data(), want));
    add(n, s.stack_now());
    block_left_ -= n;
    if (n < want) return;  // send buffer full: on_writable continues
  }
}

void StreamSession::on_peer_close(Socket& s) {
  sending_ = false;
  tail_left_ = 0;
  report(s);
  s.close();
}

void StreamSession::on_closed(Socket& s) {
  sending_ = false;
  tail_left_ = 0;
  report(s);
  open_ = false;
}

void StreamSession::report(Socket& s) {
  if (reported_) return;
  reported_ = true;
  if (started_ && sends_)
    retransmits_.store(static_cast<int64_t>(s.conn().stats().retransmits),
                       std::memory_order_relaxed);
  ControlSession::post_stream_reported(control_, control_worker_, s.stack());
}

}  // namespace tuntcp::engine::services::iperf3
