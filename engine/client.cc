#include "engine/client.h"

#include <array>

#include "engine/socket.h"
#include "engine/tcp_stack.h"

namespace tuntcp::engine {
namespace {

namespace tcp = proto::tcp;

class Client final : public App {
 public:
  Client(const ClientPlan& plan, ClientResult& r, uint64_t start_us)
      : plan_(plan), r_(r), start_us_(start_us) {
    total_ = plan.file.empty() ? plan.pattern_bytes : plan.file.size();
  }

  void on_accept(Socket& s) override {
    established_us_ = now(s);
    r_.connect_us = established_us_ - start_us_;
    pump(s);
  }
  void on_writable(Socket& s) override { pump(s); }
  size_t on_data(Socket&, std::span<const uint8_t> data) override {
    r_.bytes_received += data.size();
    return data.size();
  }
  void on_peer_close(Socket& s) override {
    peer_closed_ = true;
    if (sent_ == total_) s.close();
  }
  // Sending only: once our FIN is acknowledged every byte has arrived; the peer's FIN may take
  // as long as it likes (Linux would leave the orphaned socket to finish on its own).
  void on_state(Socket& s, tcp::State, tcp::State to) override {
    if (plan_.receive || sent_ != total_ || r_.state.load(std::memory_order_relaxed) != 0) return;
    if (to == tcp::State::kFinWait2 || to == tcp::State::kTimeWait) {
      r_.bytes_sent = sent_;
      r_.transfer_us = now(s) - established_us_;
      r_.outcome = "all data acknowledged";
      r_.state.store(1, std::memory_order_release);
    }
  }
  void on_closed(Socket& s, tcp::CloseReason why) override {
    if (r_.state.load(std::memory_order_relaxed) != 0) return;
    r_.bytes_sent = sent_;
    r_.transfer_us = established_us_ ? now(s) - established_us_ : 0;
    const bool complete = sent_ == total_ && (!plan_.receive || peer_closed_);
    switch (why) {
      case tcp::CloseReason::kNormal: r_.outcome = complete ? "closed normally" : "closed early"; break;
      case tcp::CloseReason::kReset: r_.outcome = established_us_ ? "reset by peer" : "connection refused"; break;
      case tcp::CloseReason::kTimeout: r_.outcome = "timed out"; break;
      case tcp::CloseReason::kAborted: r_.outcome = "aborted"; break;
    }
    r_.state.store(why == tcp::CloseReason::kNormal && complete ? 1 : 2, std::memory_order_release);
  }

 private:
  static uint64_t now(Socket& s) { return s.stack_now(); }

  void pump(Socket& s) {
    while (sent_ < total_) {
      std::span<const uint8_t> chunk;
      if (!plan_.file.empty()) {
        chunk = plan_.file.subspan(sent_, std::min<uint64_t>(total_ - sent_, 1 << 20));
      } else {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(total_ - sent_, block_.size()));
        for (size_t i = 0; i < n; ++i) block_[i] = pattern_byte(sent_ + i);
        chunk = {block_.data(), n};
      }
      const size_t n = s.send(chunk);
      sent_ += n;
      if (n < chunk.size()) return;  // send buffer full: on_writable continues
    }
    if (!fin_sent_) {
      fin_sent_ = true;
      // Half-close: the peer learns we are done and may still send (--receive) or close.
      if (plan_.receive && !peer_closed_) {
        s.shutdown_write();
      } else {
        s.close();
      }
    }
  }

  ClientPlan plan_;
  ClientResult& r_;
  uint64_t start_us_;
  uint64_t total_ = 0;
  uint64_t sent_ = 0;
  uint64_t established_us_ = 0;
  bool peer_closed_ = false;
  bool fin_sent_ = false;
  std::array<uint8_t, 16384> block_{};
};

}  // namespace

std::unique_ptr<App> make_client(const ClientPlan& plan, ClientResult& result, uint64_t start_us) {
  return std::make_unique<Client>(plan, result, start_us);
}

}  // namespace tuntcp::engine
