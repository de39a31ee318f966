// discard, echo and chargen: the classic test services, written against the App API.
#include <algorithm>
#include <array>

#include "engine/services/services.h"
#include "engine/socket.h"

namespace tuntcp::engine::services {
namespace {

// RFC 863: throw everything away; close when the peer does.
class Discard final : public App {
 public:
  size_t on_data(Socket&, std::span<const uint8_t> data) override { return data.size(); }
  void on_peer_close(Socket& s) override { s.close(); }
};

// RFC 862: send back what arrives. What does not fit the send buffer stays in the receive
// buffer (so the peer's window closes: end-to-end flow control) and is sent from on_writable.
class Echo final : public App {
 public:
  size_t on_data(Socket& s, std::span<const uint8_t> data) override {
    if (pending_) return 0;  // older bytes wait in the receive buffer: keep the order
    const size_t n = s.send(data);
    if (n < data.size()) pending_ = true;
    return n;
  }
  void on_writable(Socket& s) override { drain(s); }
  void on_peer_close(Socket& s) override {
    peer_closed_ = true;
    drain(s);
  }

 private:
  void drain(Socket& s) {
    while (true) {
      const auto buffered = s.peek();
      if (buffered.size() == 0) break;
      const auto& part = buffered.a.empty() ? buffered.b : buffered.a;
      const size_t n = s.send(part);
      if (n > 0) s.consume(n);
      if (n < part.size()) return;  // send buffer full: wait for on_writable
    }
    pending_ = false;
    if (peer_closed_) s.close();
  }
  bool pending_ = false;
  bool peer_closed_ = false;
};

// RFC 864: lines of 72 printable characters, each starting one character further along the
// 95-character ASCII cycle, sent as fast as the window allows; input is discarded.
class Chargen final : public App {
 public:
  Chargen() {
    for (size_t line = 0; line < 95; ++line) {
      for (size_t i = 0; i < 72; ++i) pattern_[line * 74 + i] = static_cast<uint8_t>(' ' + (line + i) % 95);
      pattern_[line * 74 + 72] = '\r';
      pattern_[line * 74 + 73] = '\n';
    }
  }
  void on_accept(Socket& s) override { fill(s); }
  void on_writable(Socket& s) override { fill(s); }
  size_t on_data(Socket&, std::span<const uint8_t> data) override { return data.size(); }
  void on_peer_close(Socket& s) override {
    done_ = true;
    s.close();
  }

 private:
  void fill(Socket& s) {
    while (!done_) {
      const size_t n = s.send(std::span<const uint8_t>(pattern_).subspan(offset_));
      if (n == 0) return;
      offset_ = (offset_ + n) % pattern_.size();
    }
  }
  std::array<uint8_t, 95 * 74> pattern_{};
  size_t offset_ = 0;
  bool done_ = false;
};

}  // namespace

AppFactory discard() {
  return [] { return std::make_unique<Discard>(); };
}
AppFactory echo() {
  return [] { return std::make_unique<Echo>(); };
}
AppFactory chargen() {
  return [] { return std::make_unique<Chargen>(); };
}

}  // namespace tuntcp::engine::services
