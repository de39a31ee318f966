// One TCP connection as the engine holds it: the sans-IO tcp::Connection, the environment it
// talks to (packet output and buffer references through the worker's TcpStack, events to the
// App), its timer-wheel node and its key in the connection table.
#pragma once

#include <memory>
#include <optional>

#include "engine/app.h"
#include "engine/timer_wheel.h"
#include "proto/flow.h"
#include "proto/tcp/connection.h"

namespace tuntcp::engine {

class TcpStack;

class Socket final : public proto::tcp::Env, public TimerNode {
 public:
  Socket(TcpStack& stack, uint32_t slot, const proto::FlowKey& key,
         const proto::tcp::Config& cfg, std::unique_ptr<App> app, uint16_t listener_port,
         uint64_t open_order);

  // --- for applications ---
  size_t send(std::span<const uint8_t> data);
  size_t send_space() const { return conn_.send_space(); }
  proto::tcp::TwoSpans peek() const { return conn_.peek(); }
  void consume(size_t n);
  void shutdown_write();  // FIN after queued data; keep receiving
  void close();           // FIN after queued data; receive no more
  void abort();           // RST
  proto::tcp::State state() const { return conn_.state(); }
  const proto::FlowKey& key() const { return key_; }
  uint64_t stack_now() const;  // the worker's clock at the current batch (µs)
  // The worker's TCP stack, for services that coordinate connections across workers
  // (TcpStack::post) or open connections of their own (TcpStack::connect).
  TcpStack& stack() { return stack_; }

  // --- for the stack ---
  proto::tcp::Connection& conn() { return conn_; }
  const proto::tcp::Connection& conn() const { return conn_; }
  uint32_t slot() const { return slot_; }
  uint16_t listener_port() const { return listener_port_; }
  // Where this connection stands among all the process's connections, by creation: for a
  // passive open, when its SYN was taken (with SYN cookies, its ACK). A client that opens
  // connections one after another (connect() returns, then the next SYN) cannot get its second
  // SYN to us before we answered its first, so whatever workers the two land on, the order of
  // their numbers is the order the client opened them in: services that tell a client's
  // connections apart by that order (iperf3's data streams) use it.
  uint64_t open_order() const { return open_order_; }
  // Tells the App when the state differs from the one it last saw (called by TcpStack::settle).
  void notify_state();
  bool embryonic = false;
  bool ack_pending = false;  // listed in TcpStack::ack_pending_  // counted in its listener's backlog (SYN-RECEIVED)
  bool closed_seen = false;
  // What this connection takes of --max-memory: its starting buffers plus what they grew by.
  uint64_t buffer_bytes() const;

 private:
  // proto::tcp::Env
  void transmit(const proto::tcp::TcpRepr& hdr, std::span<const uint8_t> a,
                std::span<const uint8_t> b) override;
  void on_established() override;
  size_t on_data(std::span<const uint8_t> data) override;
  void on_writable() override;
  void on_peer_closed() override;
  void on_closed(proto::tcp::CloseReason reason) override;
  bool grow_buffer(size_t bytes) override;

  TcpStack& stack_;
  uint32_t slot_;
  proto::FlowKey key_;
  std::unique_ptr<App> app_;
  uint16_t listener_port_;  // 0 for connections we opened
  proto::tcp::State seen_state_ = proto::tcp::State::kClosed;
  uint64_t grown_ = 0;  // bytes auto-tuning added to the buffers
  const uint64_t open_order_;
  proto::tcp::Connection conn_;
};

}  // namespace tuntcp::engine
