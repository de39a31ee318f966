#include "engine/services/iperf3_protocol.h"

#include "engine/services/json.h"

namespace tuntcp::engine::services::iperf3 {
namespace {

using json::Value;

// A non-negative integer member, if present. False if present with the wrong type.
bool get_count(const Value& obj, std::string_view key, uint64_t& out, std::string& err) {
  const Value* v = obj.find(key);
  if (!v) return true;
  const auto n = v->as_uint64();
  if (!n) {
    err = "\"" + std::string(key) + "\" is not a non-negative integer";
    return false;
  }
  out = *n;
  return true;
}

bool get_count(const Value& obj, std::string_view key, int64_t& out, std::string& err) {
  uint64_t n = static_cast<uint64_t>(out);
  if (!get_count(obj, key, n, err)) return false;
  if (n > static_cast<uint64_t>(INT32_MAX)) {  // iperf3 reads these as C ints
    err = "\"" + std::string(key) + "\" is out of range";
    return false;
  }
  out = static_cast<int64_t>(n);
  return true;
}

void put_be32(std::string& out, uint32_t v) {
  out += static_cast<char>(v >> 24);
  out += static_cast<char>(v >> 16);
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v);
}

}  // namespace

std::optional<TestParams> parse_params(std::string_view text, std::string& err) {
  const auto doc = Value::parse(text, &err);
  if (!doc) return std::nullopt;
  if (!doc->is_object()) {
    err = "parameters are not a JSON object";
    return std::nullopt;
  }
  TestParams p;
  // Like get_parameters() in iperf_api.c, the protocol and the flags are given by presence.
  p.udp = doc->find("udp") != nullptr;
  p.sctp = doc->find("sctp") != nullptr;
  p.tcp = !p.udp && !p.sctp;
  p.reverse = doc->find("reverse") != nullptr;
  p.bidirectional = doc->find("bidirectional") != nullptr;
  p.get_server_output = doc->find("get_server_output") != nullptr;
  if (!get_count(*doc, "omit", p.omit, err) || !get_count(*doc, "time", p.duration, err) ||
      !get_count(*doc, "num", p.bytes, err) || !get_count(*doc, "blockcount", p.blocks, err) ||
      !get_count(*doc, "parallel", p.parallel, err) || !get_count(*doc, "len", p.block_len, err))
    return std::nullopt;
  if (const Value* v = doc->find("client_version")) {
    if (!v->is_string()) {
      err = "\"client_version\" is not a string";
      return std::nullopt;
    }
    p.client_version = v->as_string();
  }
  return p;
}

int32_t check_supported(const TestParams& p) {
  if (!p.tcp) return kErrUnimplemented;  // tuntcp has no UDP or SCTP sockets
  if (p.parallel < 1 || p.parallel > kMaxStreams) return kErrNumStreams;
  if (p.reverse && p.bidirectional) return kErrReverseBidir;
  return 0;
}

std::optional<std::vector<ClientStream>> parse_client_results(std::string_view text,
                                                              std::string& err) {
  const auto doc = Value::parse(text, &err);
  if (!doc) return std::nullopt;
  const Value* streams = doc->is_object() ? doc->find("streams") : nullptr;
  if (!streams || !streams->is_array()) {
    err = "results have no \"streams\" array";
    return std::nullopt;
  }
  std::vector<ClientStream> out;
  for (const Value& s : streams->items()) {
    const Value* id = s.find("id");
    const Value* bytes = s.find("bytes");
    const auto id_v = id ? id->as_int64() : std::nullopt;
    const auto bytes_v = bytes ? bytes->as_uint64() : std::nullopt;
    if (!id_v || !bytes_v) {
      err = "a stream result lacks an integer \"id\" or \"bytes\"";
      return std::nullopt;
    }
    out.push_back({*id_v, *bytes_v});
  }
  return out;
}

std::string results_json(const ServerResults& r) {
  json::Writer w;
  w.begin_object();
  w.key("cpu_util_total").value(r.cpu_total);
  w.key("cpu_util_user").value(r.cpu_user);
  w.key("cpu_util_system").value(r.cpu_system);
  w.key("sender_has_retransmits").value(r.sender_has_retransmits);
  if (!r.congestion_used.empty()) w.key("congestion_used").value(r.congestion_used);
  if (r.server_output_text) w.key("server_output_text").value(*r.server_output_text);
  w.key("streams").begin_array();
  for (const auto& s : r.streams) {
    w.begin_object();
    w.key("id").value(s.id);
    w.key("bytes").value(s.bytes);
    w.key("retransmits").value(s.retransmits);
    // UDP-only fields; the client requires them to be present.
    w.key("jitter").value(0);
    w.key("errors").value(0);
    w.key("packets").value(0);
    w.key("start_time").value(s.start_time);
    w.key("end_time").value(s.end_time);
    w.end_object();
  }
  w.end_array();
  w.end_object();
  return w.take();
}

const char* phase_name(ControlProtocol::Phase p) {
  switch (p) {
    case ControlProtocol::Phase::kParams:
      return "params";
    case ControlProtocol::Phase::kCreateStreams:
      return "create-streams";
    case ControlProtocol::Phase::kRunning:
      return "running";
    case ControlProtocol::Phase::kClientResults:
      return "client-results";
    case ControlProtocol::Phase::kServerResults:
      return "server-results";
    case ControlProtocol::Phase::kDisplay:
      return "display";
    case ControlProtocol::Phase::kDone:
      return "done";
    case ControlProtocol::Phase::kFailed:
      return "failed";
  }
  return "?";
}

void ControlProtocol::begin() { put(kParamExchange); }

void ControlProtocol::fail(std::string why) {
  if (finished()) return;
  error_ = std::move(why);
  phase_ = Phase::kFailed;
}

void ControlProtocol::feed(std::span<const uint8_t> data) {
  size_t i = 0;
  while (i < data.size() && !finished()) {
    if (phase_ != Phase::kParams && phase_ != Phase::kClientResults) {
      on_message(static_cast<int8_t>(data[i++]));
      continue;
    }
    // A JSON message: 4-byte big-endian length, then the text.
    if (len_have_ < 4) {
      len_bytes_[len_have_++] = data[i++];
      if (len_have_ == 4) {
        body_len_ = uint32_t{len_bytes_[0]} << 24 | uint32_t{len_bytes_[1]} << 16 |
                    uint32_t{len_bytes_[2]} << 8 | uint32_t{len_bytes_[3]};
        if (body_len_ == 0 || body_len_ > kMaxJson) {
          fail("JSON length " + std::to_string(body_len_) + " out of range");
          return;
        }
        body_.clear();
        body_.reserve(body_len_);
      }
      continue;
    }
    const size_t take = std::min<size_t>(body_len_ - body_.size(), data.size() - i);
    body_.append(reinterpret_cast<const char*>(data.data() + i), take);
    i += take;
    if (body_.size() == body_len_) {
      len_have_ = 0;
      std::string body = std::move(body_);
      body_.clear();
      on_json(body);
    }
  }
}

void ControlProtocol::on_json(std::string_view body) {
  std::string err;
  if (phase_ == Phase::kParams) {
    const auto p = parse_params(body, err);
    if (!p) {
      fail("bad parameters: " + err);
      return;
    }
    int32_t code = check_supported(*p);
    if (code == 0) code = hooks_.on_params(*p);
    if (code != 0) {
      // SERVER_ERROR, then i_errno and errno as network-order int32 (iperf_exchange_parameters).
      put(kServerError);
      put_be32(out_, static_cast<uint32_t>(code));
      put_be32(out_, 0);
      fail("test refused with iperf3 error " + std::to_string(code));
      return;
    }
    put(kCreateStreams);
    phase_ = Phase::kCreateStreams;
    return;
  }
  const auto streams = parse_client_results(body, err);
  if (!streams) {
    fail("bad client results: " + err);
    return;
  }
  phase_ = Phase::kServerResults;  // before the hook: it may answer at once
  hooks_.on_client_results(*streams);
}

void ControlProtocol::on_message(int8_t m) {
  if (m == kIperfDone) {
    // The client is finishing, normally after DISPLAY_RESULTS, or after an error of its own
    // (iperf_client_end sends IPERF_DONE whenever its state is positive).
    phase_ = Phase::kDone;
    return;
  }
  if (m == kClientTerminate) {
    if (phase_ == Phase::kDisplay) {
      phase_ = Phase::kDone;  // interrupted after the results: nothing is lost
    } else {
      fail("the client terminated the test");
    }
    return;
  }
  if (phase_ == Phase::kRunning && m == kTestEnd) {
    hooks_.on_test_end();
    put(kExchangeResults);
    phase_ = Phase::kClientResults;
    return;
  }
  fail("unexpected message " + std::to_string(m) + " in phase " + phase_name(phase_));
}

void ControlProtocol::start_test() {
  if (phase_ != Phase::kCreateStreams) return;
  put(kTestStart);
  put(kTestRunning);
  phase_ = Phase::kRunning;
}

void ControlProtocol::send_results(std::string_view results) {
  if (phase_ != Phase::kServerResults) return;
  put_be32(out_, static_cast<uint32_t>(results.size()));
  out_ += results;
  put(kDisplayResults);
  phase_ = Phase::kDisplay;
}

}  // namespace tuntcp::engine::services::iperf3
