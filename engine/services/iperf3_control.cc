#include "engine/services/iperf3_control.h"

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>

#include "engine/log.h"
#include "engine/services/iperf3_stream.h"
#include "engine/socket.h"
#include "engine/tcp_stack.h"

namespace tuntcp::engine::services::iperf3 {
namespace {

// Process CPU time (all threads), as iperf3's cpu_util() measures it.
void cpu_times(uint64_t& user_us, uint64_t& system_us) {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  user_us = static_cast<uint64_t>(ru.ru_utime.tv_sec) * 1000000 + ru.ru_utime.tv_usec;
  system_us = static_cast<uint64_t>(ru.ru_stime.tv_sec) * 1000000 + ru.ru_stime.tv_usec;
}

std::string peer(const proto::FlowKey& k) {
  return proto::format_ipv4_addr(k.remote_addr) + ":" + std::to_string(k.remote_port);
}

}  // namespace

ControlSession::ControlSession(Socket& s, std::shared_ptr<Test> test)
    : stack_(s.stack()), socket_(&s), key_(s.key()), test_(std::move(test)), proto_(*this) {}

ControlSession::~ControlSession() = default;

uint64_t ControlSession::now() const { return stack_.now(); }

template <typename Fn>
void ControlSession::post(const std::weak_ptr<ControlSession>& c, uint32_t worker, TcpStack& from,
                          Fn fn) {
  auto session = c.lock();
  if (!session) return;  // the control connection is gone and the test torn down
  from.post(worker, [session, fn](TcpStack& stack) {
    if (session->socket_ && stack.find(session->key_) == session->socket_) fn(*session);
  });
}

void ControlSession::post_all_connected(const std::weak_ptr<ControlSession>& c, uint32_t worker,
                                        TcpStack& from) {
  post(c, worker, from, [](ControlSession& self) { self.all_connected(); });
}

void ControlSession::post_stream_reported(const std::weak_ptr<ControlSession>& c, uint32_t worker,
                                          TcpStack& from) {
  post(c, worker, from, [](ControlSession& self) { self.stream_reported(); });
}

void ControlSession::post_evict(const std::weak_ptr<ControlSession>& c, uint32_t worker,
                                TcpStack& from) {
  post(c, worker, from, [](ControlSession& self) {
    log_info("iperf3: test from %s evicted: its client stopped talking", peer(self.key_).c_str());
    self.socket_->abort();  // on_closed() tears the test down
  });
}

void ControlSession::begin(Socket&) {
  proto_.begin();
  flush();
}

void ControlSession::on_data(Socket&, std::span<const uint8_t> data) {
  if (proto_.finished()) return;  // a finished test reads and drops what still comes
  proto_.feed(data);
  if (proto_.finished()) {
    if (proto_.phase() == ControlProtocol::Phase::kFailed)
      log_info("iperf3: test from %s ended: %s", peer(key_).c_str(), proto_.error().c_str());
    teardown();
  }
  flush();
}

void ControlSession::on_writable(Socket&) { flush(); }

void ControlSession::on_peer_close(Socket& s) {
  if (!proto_.finished())
    log_info("iperf3: the client at %s closed the control connection in phase %s",
             peer(key_).c_str(), phase_name(proto_.phase()));
  teardown();
  s.close();
}

void ControlSession::on_closed() {
  socket_ = nullptr;
  teardown();
}

void ControlSession::flush() {
  if (!socket_) return;
  std::string& out = proto_.out();
  while (!out.empty()) {
    const size_t n = socket_->send({reinterpret_cast<const uint8_t*>(out.data()), out.size()});
    out.erase(0, n);
    if (n == 0) return;  // send buffer full: on_writable continues
  }
  if (proto_.finished() && !write_shut_) {
    // Done (or refused): FIN after the last message; the connection closes when the client
    // closes its side. Input that still arrives is read and dropped.
    write_shut_ = true;
    socket_->shutdown_write();
  }
}

void ControlSession::teardown() {
  if (torn_down_) return;
  torn_down_ = true;
  for (const auto& st : Registry::instance().release(test_)) StreamSession::post_finish(st, stack_);
}

int32_t ControlSession::on_params(const TestParams& p) {
  params_ = p;
  Registry::instance().expect_streams(test_, p.server_receive_streams(), p.server_send_streams(),
                                      now() + kSetupGraceUs);
  log_debug("iperf3: test from %s: %lld stream(s), %s, %llds", peer(key_).c_str(),
            static_cast<long long>(p.parallel),
            p.bidirectional ? "bidirectional"
            : p.reverse     ? "reverse"
                            : "forward",
            static_cast<long long>(p.duration));
  return 0;
}

void ControlSession::all_connected() {
  if (proto_.phase() != ControlProtocol::Phase::kCreateStreams) return;
  streams_ = Registry::instance().streams(test_);
  start_us_ = now();
  cpu_times(cpu_user_us_, cpu_system_us_);
  proto_.start_test();
  flush();
  const uint64_t omit_us = static_cast<uint64_t>(params_.omit) * 1000000;
  // A timed test has a known end; with -n/-k it lasts as long as the bytes take.
  const bool timed = params_.duration > 0 && params_.bytes == 0 && params_.blocks == 0;
  Registry::instance().set_deadline(
      test_,
      timed ? start_us_ + static_cast<uint64_t>(params_.duration) * 1000000 + omit_us + kRunGraceUs
            : UINT64_MAX);
  for (const auto& st : streams_)
    StreamSession::post_start(st, stack_, start_us_, omit_us, params_.block_len);
}

void ControlSession::on_test_end() {
  end_us_ = now();
  uint64_t user = 0, system = 0;
  cpu_times(user, system);
  cpu_user_us_ = user - cpu_user_us_;
  cpu_system_us_ = system - cpu_system_us_;
  Registry::instance().set_deadline(test_, end_us_ + kSetupGraceUs);
  for (const auto& st : streams_)
    if (st->sends()) StreamSession::post_stop(st, stack_);
}

void ControlSession::on_client_results(const std::vector<ClientStream>& client) {
  // A stream the server receives on is final once everything the client says it sent has
  // arrived: the data still in flight at TEST_END is counted, so both sides agree.
  for (const auto& st : streams_) {
    if (st->sends()) continue;
    uint64_t sent = 0;
    for (const auto& c : client)
      if (c.id == st->id()) sent = c.bytes;
    StreamSession::post_expect(st, stack_, sent);
  }
  maybe_send_results();
}

void ControlSession::stream_reported() {
  ++reports_;
  maybe_send_results();
}

void ControlSession::maybe_send_results() {
  if (proto_.phase() != ControlProtocol::Phase::kServerResults || reports_ < streams_.size())
    return;
  proto_.send_results(results_json(compose_results()));
  flush();
}

ServerResults ControlSession::compose_results() const {
  ServerResults r;
  const uint64_t wall_us = std::max<uint64_t>(end_us_ - start_us_, 1);
  r.cpu_user = 100.0 * static_cast<double>(cpu_user_us_) / static_cast<double>(wall_us);
  r.cpu_system = 100.0 * static_cast<double>(cpu_system_us_) / static_cast<double>(wall_us);
  r.cpu_total = r.cpu_user + r.cpu_system;
  r.sender_has_retransmits = params_.server_send_streams() > 0 ? 1 : -1;
  // After --omit the counters restart, and so does each stream's clock (iperf_reset_stats).
  const uint64_t counted_from = start_us_ + static_cast<uint64_t>(params_.omit) * 1000000;
  const double seconds =
      end_us_ > counted_from ? static_cast<double>(end_us_ - counted_from) / 1e6 : 0.0;
  for (const auto& st : streams_) {
    StreamResult s;
    s.id = st->id();
    s.bytes = st->counted_bytes();
    s.retransmits = st->sends() ? st->retransmits() : -1;
    s.start_time = 0;
    s.end_time = seconds;
    r.streams.push_back(s);
  }
  if (params_.get_server_output) r.server_output_text = summary();
  return r;
}

std::string ControlSession::summary() const {
  const double seconds = static_cast<double>(end_us_ - start_us_) / 1e6;
  std::string text = "tuntcp iperf3 server: test from " + peer(key_) + "\n";
  char line[160];
  for (const auto& st : streams_) {
    const double bytes = static_cast<double>(st->counted_bytes());
    std::snprintf(line, sizeof line, "[%3d] 0.00-%.2f sec  %.0f bytes  %.2f Gbits/sec  %s\n",
                  st->id(), seconds, bytes, seconds > 0 ? bytes * 8 / seconds / 1e9 : 0.0,
                  st->sends() ? "sender" : "receiver");
    text += line;
  }
  return text;
}

}  // namespace tuntcp::engine::services::iperf3
