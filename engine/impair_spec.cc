#include "engine/impair_spec.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace tuntcp::engine {
namespace {

// 'text', for error messages. Built by appending: GCC 12 warns (-Wrestrict, a false positive,
// GCC PR 105329) on "'" + std::string(...) at -O3.
std::string quoted(std::string_view text) {
  std::string q(1, '\'');
  q.append(text);
  q += '\'';
  return q;
}

constexpr uint64_t kMaxTimeUs = 3600ull * 1000000;  // one hour: anything longer is a typo

// A decimal number followed by exactly the rest of `text`; `unit` receives that rest.
bool split_number(std::string_view text, double& value, std::string_view& unit) {
  const char* b = text.data();
  const char* e = b + text.size();
  auto [p, ec] = std::from_chars(b, e, value, std::chars_format::fixed);
  if (ec != std::errc() || p == b || !std::isfinite(value) || value < 0) return false;
  unit = std::string_view(p, static_cast<size_t>(e - p));
  return true;
}

bool parse_percent(std::string_view text, double& out) {
  double v;
  std::string_view unit;
  if (!split_number(text, v, unit) || unit != "%" || v > 100) return false;
  out = v / 100;
  return true;
}

bool parse_time(std::string_view text, uint64_t& out_us) {
  double v;
  std::string_view unit;
  if (!split_number(text, v, unit)) return false;
  double scale;
  if (unit == "us") scale = 1;
  else if (unit == "ms") scale = 1e3;
  else if (unit == "s") scale = 1e6;
  else return false;
  const double us = std::round(v * scale);
  if (us > static_cast<double>(kMaxTimeUs)) return false;
  out_us = static_cast<uint64_t>(us);
  return true;
}

bool parse_rate(std::string_view text, uint64_t& out_bps) {
  double v;
  std::string_view unit;
  if (!split_number(text, v, unit)) return false;
  double scale;
  if (unit == "bit") scale = 1;
  else if (unit == "kbit") scale = 1e3;
  else if (unit == "mbit") scale = 1e6;
  else if (unit == "gbit") scale = 1e9;
  else return false;
  const double bps = std::round(v * scale);
  if (bps < 8 || bps > 1e12) return false;  // at least a byte per second, at most a terabit
  out_bps = static_cast<uint64_t>(bps);
  return true;
}

std::string fmt_percent(double p) {
  char b[32];
  std::snprintf(b, sizeof b, "%g%%", p * 100);
  return b;
}

std::string fmt_time(uint64_t us) {
  char b[32];
  if (us % 1000000 == 0) std::snprintf(b, sizeof b, "%llus", static_cast<unsigned long long>(us / 1000000));
  else if (us % 1000 == 0) std::snprintf(b, sizeof b, "%llums", static_cast<unsigned long long>(us / 1000));
  else std::snprintf(b, sizeof b, "%lluus", static_cast<unsigned long long>(us));
  return b;
}

}  // namespace

bool parse_impair_spec(std::string_view text, ImpairSpec& out, std::string& err) {
  out = ImpairSpec{};
  if (text.empty() || text == "none") return true;
  std::vector<std::string_view> seen;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    const std::string_view item = text.substr(pos, comma - pos);
    pos = comma + 1;
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos) {
      err = quoted(item) + ": expected KEY=VALUE";
      return false;
    }
    const std::string_view key = item.substr(0, eq), val = item.substr(eq + 1);
    auto bad = [&](const char* want) {
      err = quoted(item) + ": expected " + want;
      return false;
    };
    if (key != "blackout") {
      for (auto k : seen)
        if (k == key) {
          err = quoted(key) + " given twice";
          return false;
        }
      seen.push_back(key);
    }
    if (key == "loss") {
      if (!parse_percent(val, out.loss)) return bad("a percentage such as 1%");
    } else if (key == "loss-corr") {
      if (!parse_percent(val, out.loss_corr) || out.loss_corr >= 1)
        return bad("a percentage below 100%");
    } else if (key == "delay") {
      if (!parse_time(val, out.delay_us)) return bad("a time such as 20ms (us, ms or s)");
    } else if (key == "jitter") {
      if (!parse_time(val, out.jitter_us)) return bad("a time such as 5ms (us, ms or s)");
    } else if (key == "dist") {
      if (val == "uniform") out.dist = JitterDist::kUniform;
      else if (val == "normal") out.dist = JitterDist::kNormal;
      else return bad("uniform or normal");
    } else if (key == "reorder") {
      if (!parse_percent(val, out.reorder)) return bad("a percentage such as 25%");
    } else if (key == "duplicate") {
      if (!parse_percent(val, out.duplicate)) return bad("a percentage such as 5%");
    } else if (key == "corrupt") {
      if (!parse_percent(val, out.corrupt)) return bad("a percentage such as 1%");
    } else if (key == "rate") {
      if (!parse_rate(val, out.rate_bps)) return bad("a rate such as 100mbit (bit, kbit, mbit or gbit)");
    } else if (key == "limit") {
      unsigned v = 0;
      auto [p, ec] = std::from_chars(val.data(), val.data() + val.size(), v);
      if (ec != std::errc() || p != val.data() + val.size() || v < 1 || v > 1000000)
        return bad("a packet count from 1 to 1000000");
      out.limit = v;
    } else if (key == "blackout") {
      const size_t at = val.find('@');
      Blackout w;
      if (at == std::string_view::npos || !parse_time(val.substr(0, at), w.length_us) ||
          !parse_time(val.substr(at + 1), w.start_us) || w.length_us == 0)
        return bad("LENGTH@START such as 5s@3s (dark for 5 s from 3 s after start)");
      out.blackouts.push_back(w);
    } else {
      err = "unknown key '" + std::string(key) +
            "' (known: loss, loss-corr, delay, jitter, dist, reorder, duplicate, corrupt, rate, "
            "limit, blackout)";
      return false;
    }
  }
  // netem refuses the same: only packets that are delayed can be overtaken.
  if (out.reorder > 0 && out.delay_us == 0) {
    err = "reorder needs delay=... (reordered packets overtake delayed ones)";
    return false;
  }
  if (out.loss_corr > 0 && out.loss == 0) {
    err = "loss-corr needs loss=...";
    return false;
  }
  return true;
}

std::string describe(const ImpairSpec& s) {
  if (!s.active()) return "none";
  std::string out;
  auto add = [&](const std::string& item) { out += (out.empty() ? "" : ",") + item; };
  if (s.loss > 0) add("loss=" + fmt_percent(s.loss));
  if (s.loss_corr > 0) add("loss-corr=" + fmt_percent(s.loss_corr));
  if (s.delay_us) add("delay=" + fmt_time(s.delay_us));
  if (s.jitter_us) add("jitter=" + fmt_time(s.jitter_us));
  if (s.jitter_us && s.dist == JitterDist::kNormal) add("dist=normal");
  if (s.reorder > 0) add("reorder=" + fmt_percent(s.reorder));
  if (s.duplicate > 0) add("duplicate=" + fmt_percent(s.duplicate));
  if (s.corrupt > 0) add("corrupt=" + fmt_percent(s.corrupt));
  if (s.rate_bps) add("rate=" + std::to_string(s.rate_bps) + "bit");
  if (s.holds()) add("limit=" + std::to_string(s.limit));
  for (const auto& b : s.blackouts) add("blackout=" + fmt_time(b.length_us) + "@" + fmt_time(b.start_us));
  return out;
}

}  // namespace tuntcp::engine
