#include "engine/services/iperf3_protocol.h"

#include <cmath>
#include <nlohmann/json.hpp>

namespace tuntcp::engine::services::iperf3 {
namespace {

using Json = nlohmann::json;
constexpr int kMaxDepth = 64;  // values nested deeper are refused

// nlohmann's parser sets no limit on nesting (and copying or printing a document recurses), but
// the input comes from the network: deep nesting is refused before anything is built. Counts
// the containers open around each value (the top level is depth 0) and skips strings; the
// syntax itself is left to the parser.
bool nesting_ok(std::string_view text, std::string& err) {
  int open = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == ']' || c == '}') {
      --open;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',' || c == ':') continue;
    if (open > kMaxDepth) {  // a value starts here, more than kMaxDepth containers deep
      err = "nesting too deep at offset " + std::to_string(i);
      return false;
    }
    if (c == '[' || c == '{') ++open;
    if (c == '"') in_string = true;
  }
  return true;
}

// One complete JSON text (RFC 8259), or nullopt with the reason in err. Never throws on bad
// input: nlohmann's exceptions are caught, and its message is kept without the quote of the
// offending bytes ("; last read: '...'", network input, up to kMaxJson of it).
std::optional<Json> parse_document(std::string_view text, std::string& err) {
  // nlohmann takes a NUL byte for the end of the input (so "{}\0junk" would pass) and skips a
  // byte order mark. Neither is JSON (RFC 8259: a NUL is no token, and raw in a string it is a
  // control character; 8.1 forbids the mark), and tuntcp's own parser refused both.
  if (const size_t nul = text.find('\0'); nul != text.npos) {
    err = "NUL byte at offset " + std::to_string(nul);
    return std::nullopt;
  }
  if (text.starts_with("\xEF\xBB\xBF")) {
    err = "byte order mark at offset 0";
    return std::nullopt;
  }
  if (!nesting_ok(text, err)) return std::nullopt;
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    std::string_view m = e.what();
    if (const size_t tag = m.find("] "); tag != m.npos) m.remove_prefix(tag + 2);
    err = m.substr(0, m.find("; last read"));
  } catch (const Json::exception&) {  // out_of_range 406: a number beyond double's range
    err = "number out of range";
  }
  return std::nullopt;
}

// The number as an exact integer in range, if it is one (3 and 3.0 are; 3.5, 1e30 and "3" not).
std::optional<uint64_t> as_uint64(const Json& v) {
  if (const auto* u = v.get_ptr<const Json::number_unsigned_t*>()) return *u;
  if (const auto* i = v.get_ptr<const Json::number_integer_t*>())  // only negative ones, and -0
    return *i >= 0 ? std::optional<uint64_t>(static_cast<uint64_t>(*i)) : std::nullopt;
  if (const auto* d = v.get_ptr<const Json::number_float_t*>())
    if (std::trunc(*d) == *d && *d >= 0 && *d < 18446744073709551616.0)
      return static_cast<uint64_t>(*d);
  return std::nullopt;
}

std::optional<int64_t> as_int64(const Json& v) {
  if (const auto* u = v.get_ptr<const Json::number_unsigned_t*>())
    return *u <= static_cast<uint64_t>(INT64_MAX) ? std::optional<int64_t>(static_cast<int64_t>(*u))
                                                  : std::nullopt;
  if (const auto* i = v.get_ptr<const Json::number_integer_t*>()) return *i;
  if (const auto* d = v.get_ptr<const Json::number_float_t*>())  // 2^63 itself is out of range
    if (std::trunc(*d) == *d && std::fabs(*d) < 9223372036854775808.0)
      return static_cast<int64_t>(*d);
  return std::nullopt;
}

// A member of an object, or nullptr (also when obj is not an object).
const Json* member(const Json& obj, const char* key) {
  const auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

// A non-negative integer member, if present. False if present with the wrong type.
bool get_count(const Json& obj, const char* key, uint64_t& out, std::string& err) {
  const Json* v = member(obj, key);
  if (!v) return true;
  const auto n = as_uint64(*v);
  if (!n) {
    err = "\"" + std::string(key) + "\" is not a non-negative integer";
    return false;
  }
  out = *n;
  return true;
}

bool get_count(const Json& obj, const char* key, int64_t& out, std::string& err) {
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
  const auto doc = parse_document(text, err);
  if (!doc) return std::nullopt;
  if (!doc->is_object()) {
    err = "parameters are not a JSON object";
    return std::nullopt;
  }
  TestParams p;
  // Like get_parameters() in iperf_api.c, the protocol and the flags are given by presence.
  p.udp = doc->contains("udp");
  p.sctp = doc->contains("sctp");
  p.tcp = !p.udp && !p.sctp;
  p.reverse = doc->contains("reverse");
  p.bidirectional = doc->contains("bidirectional");
  p.get_server_output = doc->contains("get_server_output");
  if (!get_count(*doc, "omit", p.omit, err) || !get_count(*doc, "time", p.duration, err) ||
      !get_count(*doc, "num", p.bytes, err) || !get_count(*doc, "blockcount", p.blocks, err) ||
      !get_count(*doc, "parallel", p.parallel, err) || !get_count(*doc, "len", p.block_len, err))
    return std::nullopt;
  if (const Json* v = member(*doc, "client_version")) {
    const auto* s = v->get_ptr<const Json::string_t*>();
    if (!s) {
      err = "\"client_version\" is not a string";
      return std::nullopt;
    }
    p.client_version = *s;
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
  const auto doc = parse_document(text, err);
  if (!doc) return std::nullopt;
  const Json* streams = member(*doc, "streams");
  if (!streams || !streams->is_array()) {
    err = "results have no \"streams\" array";
    return std::nullopt;
  }
  std::vector<ClientStream> out;
  for (const Json& s : *streams) {
    const Json* id = member(s, "id");
    const Json* bytes = member(s, "bytes");
    const auto id_v = id ? as_int64(*id) : std::nullopt;
    const auto bytes_v = bytes ? as_uint64(*bytes) : std::nullopt;
    if (!id_v || !bytes_v) {
      err = "a stream result lacks an integer \"id\" or \"bytes\"";
      return std::nullopt;
    }
    out.push_back({*id_v, *bytes_v});
  }
  return out;
}

std::string results_json(const ServerResults& r) {
  // Members in the order send_results() adds them (cJSON keeps insertion order).
  nlohmann::ordered_json j;
  j["cpu_util_total"] = r.cpu_total;
  j["cpu_util_user"] = r.cpu_user;
  j["cpu_util_system"] = r.cpu_system;
  j["sender_has_retransmits"] = r.sender_has_retransmits;
  if (!r.congestion_used.empty()) j["congestion_used"] = r.congestion_used;
  if (r.server_output_text) j["server_output_text"] = *r.server_output_text;
  auto& streams = j["streams"] = nlohmann::ordered_json::array();
  for (const auto& s : r.streams) {
    nlohmann::ordered_json st;
    st["id"] = s.id;
    st["bytes"] = s.bytes;
    st["retransmits"] = s.retransmits;
    // UDP-only fields; the client requires them to be present.
    st["jitter"] = 0;
    st["errors"] = 0;
    st["packets"] = 0;
    st["start_time"] = s.start_time;
    st["end_time"] = s.end_time;
    streams.push_back(std::move(st));
  }
  // Compact, as cJSON_PrintUnformatted; bytes that are not UTF-8 become U+FFFD, not an exception.
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
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
