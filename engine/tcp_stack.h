// One worker's TCP: its connection table, timer wheel, listeners (every worker has a copy of
// each, as with SO_REUSEPORT), SYN admission (--max-connections, backlog), stateless RSTs for
// closed ports, and segment output into pool buffers.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "engine/app.h"
#include "engine/conn_table.h"
#include "engine/handoff.h"
#include "engine/options.h"
#include "engine/packet_io.h"
#include "engine/shared_limits.h"
#include "engine/socket.h"
#include "engine/stats.h"
#include "engine/timer_wheel.h"
#include "proto/ipv4.h"
#include "proto/tcp/isn.h"
#include "proto/tcp/syn_cookie.h"

namespace tuntcp::engine {

class TcpStack {
 public:
  // `limits` is shared by every worker's stack: --max-connections and --max-memory hold for
  // the process.
  TcpStack(uint32_t worker, const Options& opts, PacketIo& io, WorkerStats& stats,
           const proto::tcp::SipKey& isn_secret, SharedLimits& limits, uint64_t now_us);
  ~TcpStack();
  // Buffer auto-tuning of one connection wants `bytes` more (Socket::grow_buffer).
  bool grow_buffer(uint64_t bytes) { return reserve_memory(bytes); }
  // What every connection reserves of --max-memory when it is created.
  uint64_t conn_reservation() const { return uint64_t{opts_.rcvbuf} + opts_.sndbuf; }

  void listen(uint16_t port, AppFactory factory);
  // Opens a connection to remote:port from a local port whose flow hash maps to this worker.
  // Returns false (and logs) if no port or slot is free.
  bool connect(uint32_t remote, uint16_t port, std::unique_ptr<App> app, uint64_t now_us);

  // A TCP datagram for us; it lives in a packet buffer the caller releases afterwards (nothing
  // here keeps a pointer into it: out-of-order data is copied into the receive buffer).
  void input(const proto::Ipv4View& ip, uint64_t now_us, const io::VnetHdr& vnet);
  void run_timers(uint64_t now_us);
  // End of a batch: sends the ACKs connections deferred while it was processed (--ack-coalesce).
  void flush_acks(uint64_t now_us);
  uint64_t next_timer_us() const { return wheel_.next_wakeup_hint(); }
  void set_now(uint64_t now_us) { now_ = now_us; }
  uint64_t now() const { return now_; }

  // Cross-worker calls: run `c` on worker `w` (this one included), between its batches.
  using Poster = std::function<void(uint32_t, Command)>;
  void set_poster(Poster p) { poster_ = std::move(p); }
  void post(uint32_t w, Command c) { poster_(w, std::move(c)); }
  uint32_t worker() const { return worker_; }
  uint32_t workers() const { return opts_.workers; }
  // The socket of a 4-tuple on this worker, or nullptr (it may have closed meanwhile).
  Socket* find(const proto::FlowKey& key);
  // Frees sockets that reached CLOSED (after commands or application calls from outside).
  void reap_closed();

  // One line per connection: 4-tuple, state, cwnd, srtt, bytes in flight, windows, byte counts.
  std::string dump_connections() const;

  // Shutdown: records how many connections were in each state, then aborts them all (RST).
  void abort_all(uint64_t now_us);
  uint32_t open_connections() const { return table_.size(); }

  // --- for Socket ---
  void emit(const Socket& s, const proto::tcp::TcpRepr& h, std::span<const uint8_t> a,
            std::span<const uint8_t> b);
  PacketIo& io() { return io_; }
  void established(Socket& s);
  void closed(Socket& s, proto::tcp::CloseReason why);
  // Re-arms the socket's timer, or frees the socket if it reached CLOSED. Call after every
  // entry into a connection (segment, timer, application call from outside a callback).
  void settle(Socket& s);

 private:
  void handle_no_connection(const proto::tcp::TcpRepr& h, const proto::tcp::SegmentIn& seg,
                            const proto::Ipv4View& ip, size_t payload_len);
  void accept(const proto::tcp::SegmentIn& syn, const proto::Ipv4View& ip, const AppFactory& f);
  // --max-connections and --max-memory for a segment that would open a connection: false (and
  // a RST sent, counted) when one more does not fit.
  bool admit(const proto::tcp::TcpRepr& h, const proto::Ipv4View& ip, size_t payload_len);
  // SYN cookies (RFC 4987): the stateless SYN-ACK, and the ACK that may return a cookie (false
  // if it does not; the caller then treats it as LISTEN would).
  void send_cookie(const proto::tcp::SegmentIn& syn, const proto::Ipv4View& ip);
  bool accept_cookie(const proto::tcp::SegmentIn& ack, const proto::Ipv4View& ip,
                     const AppFactory& f);
  // Writes the IPv4 header in front of the TCP segment in buffer `id` and sends it. A payload
  // given as in_place_a/b is not in the buffer: it is written from where it lies (zero copy).
  void send_ipv4(io::BufId id, uint32_t src, uint32_t dst, uint16_t ip_id, size_t tcp_len,
                 const io::VnetHdr& v, std::span<const uint8_t> in_place_a = {},
                 std::span<const uint8_t> in_place_b = {});
  void send_stateless(const proto::tcp::TcpRepr& h, uint32_t src, uint32_t dst);
  Socket* create(const proto::FlowKey& key, std::unique_ptr<App> app, uint16_t listener_port);
  void destroy(Socket& s);
  void add_conn_stats(const proto::tcp::Stats& st);
  proto::tcp::Config config_for(const proto::FlowKey& key) const;

  uint32_t worker_;
  const Options& opts_;
  PacketIo& io_;
  WorkerStats& stats_;
  proto::tcp::IsnGenerator isn_;
  proto::tcp::SynCookies cookies_;
  // When this worker last sent a cookie: ACKs are checked for one only within a cookie's
  // lifetime after it (Linux tcp_synq_no_recent_overflow()), so that without a flood a blind
  // attacker has no cookies to guess at. With --syncookies always they are checked anyway.
  uint64_t last_cookie_us_ = 0;
  bool cookie_sent_ = false;
  // --max-memory in bytes (0: no cap): every connection reserves --rcvbuf + --sndbuf when it
  // is created and asks for what auto-tuning adds (grow_buffer).
  uint64_t memory_cap_;
  uint64_t now_;
  ConnTable table_;
  TimerWheel wheel_;
  std::vector<std::unique_ptr<Socket>> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<AppFactory> listeners_;        // by port; empty function = not listening
  std::vector<uint32_t> embryonic_;          // SYN-RECEIVED connections per port
  std::vector<Socket*> to_destroy_;
  std::vector<Socket*> ack_pending_;  // sockets with a deferred ACK in this batch
  uint16_t next_ip_id_;
  SharedLimits& limits_;
  // Takes one connection and its starting buffers from the process-wide budgets; false when
  // --max-connections or --max-memory is reached.
  bool take_connection_slot();
  bool reserve_memory(uint64_t bytes);
  bool memory_fits(uint64_t used, uint64_t bytes) const {
    return memory_cap_ == 0 || used + bytes <= memory_cap_;
  }
  Poster poster_;
};

}  // namespace tuntcp::engine
