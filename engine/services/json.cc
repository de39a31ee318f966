#include "engine/services/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace tuntcp::engine::services::json {

// Recursive descent over the text; every failure records its reason and offset and unwinds.
class Parser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  bool parse_document(Value& out) {
    skip_ws();
    if (!parse_value(out, 0)) return false;
    skip_ws();
    if (pos_ != s_.size()) return fail("trailing characters");
    return true;
  }
  std::string error() const { return err_ + " at offset " + std::to_string(pos_); }

 private:
  bool fail(const char* why) {
    if (err_.empty()) err_ = why;
    return false;
  }
  void skip_ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return fail("invalid literal");
    pos_ += word.size();
    return true;
  }

  bool parse_value(Value& v, int depth) {
    if (depth > Value::kMaxDepth) return fail("nesting too deep");
    if (pos_ >= s_.size()) return fail("unexpected end");
    switch (s_[pos_]) {
      case '{':
        return parse_object(v, depth);
      case '[':
        return parse_array(v, depth);
      case '"':
        v.type_ = Value::Type::kString;
        return parse_string(v.string_);
      case 't':
        v.type_ = Value::Type::kBool;
        v.bool_ = true;
        return literal("true");
      case 'f':
        v.type_ = Value::Type::kBool;
        v.bool_ = false;
        return literal("false");
      case 'n':
        v.type_ = Value::Type::kNull;
        return literal("null");
      default:
        return parse_number(v);
    }
  }

  bool parse_object(Value& v, int depth) {
    v.type_ = Value::Type::kObject;
    ++pos_;  // '{'
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') return fail("expected a member name");
      std::string key;
      if (!parse_string(key)) return false;
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') return fail("expected ':'");
      ++pos_;
      skip_ws();
      Value member;
      if (!parse_value(member, depth + 1)) return false;
      v.keys_.push_back(std::move(key));
      v.items_.push_back(std::move(member));
      skip_ws();
      if (pos_ >= s_.size()) return fail("unterminated object");
      if (s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      if (s_[pos_] != ',') return fail("expected ',' or '}'");
      ++pos_;
    }
  }

  bool parse_array(Value& v, int depth) {
    v.type_ = Value::Type::kArray;
    ++pos_;  // '['
    skip_ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      skip_ws();
      Value item;
      if (!parse_value(item, depth + 1)) return false;
      v.items_.push_back(std::move(item));
      skip_ws();
      if (pos_ >= s_.size()) return fail("unterminated array");
      if (s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      if (s_[pos_] != ',') return fail("expected ',' or ']'");
      ++pos_;
    }
  }

  bool hex4(uint32_t& out) {
    if (pos_ + 4 > s_.size()) return fail("short \\u escape");
    out = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      out <<= 4;
      if (c >= '0' && c <= '9')
        out |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f')
        out |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F')
        out |= static_cast<uint32_t>(c - 'A' + 10);
      else
        return fail("bad hex digit in \\u escape");
    }
    return true;
  }

  static void put_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xc0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xe0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (cp & 0x3f));
    }
  }

  bool parse_string(std::string& out) {
    ++pos_;  // '"'
    while (true) {
      if (pos_ >= s_.size()) return fail("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return true;
      if (static_cast<unsigned char>(c) < 0x20) return fail("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) return fail("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          uint32_t cp;
          if (!hex4(cp)) return false;
          if (cp >= 0xd800 && cp <= 0xdbff) {  // high surrogate: a low one must follow
            uint32_t lo;
            if (s_.substr(pos_, 2) != "\\u") return fail("lone surrogate");
            pos_ += 2;
            if (!hex4(lo)) return false;
            if (lo < 0xdc00 || lo > 0xdfff) return fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            return fail("lone surrogate");
          }
          put_utf8(out, cp);
          break;
        }
        default:
          return fail("invalid escape");
      }
    }
  }

  // RFC 8259 6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool parse_number(Value& v) {
    const size_t start = pos_;
    auto digits = [&] {
      const size_t d = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - d;
    };
    bool negative = false;
    if (pos_ < s_.size() && s_[pos_] == '-') {
      negative = true;
      ++pos_;
    }
    const size_t int_start = pos_;
    const size_t int_digits = digits();
    if (int_digits == 0) return fail("invalid value");
    if (int_digits > 1 && s_[int_start] == '0') return fail("leading zero");
    bool integral = true;
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return fail("digits expected after '.'");
      integral = false;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return fail("digits expected in exponent");
      integral = false;
    }
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    v.type_ = Value::Type::kNumber;
    const auto [end, ec] = std::from_chars(first, last, v.number_);
    if (end != last) return fail("invalid number");
    if (ec == std::errc::result_out_of_range) v.number_ = negative ? -HUGE_VAL : HUGE_VAL;
    if (integral) {
      uint64_t mag = 0;
      const auto r = std::from_chars(s_.data() + int_start, last, mag);
      if (r.ec == std::errc() && r.ptr == last) {
        v.integral_ = true;
        v.negative_ = negative;
        v.magnitude_ = mag;
      }
    }
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  std::string err_;
};

std::optional<Value> Value::parse(std::string_view text, std::string* err) {
  Parser p(text);
  Value v;
  if (!p.parse_document(v)) {
    if (err) *err = p.error();
    return std::nullopt;
  }
  return v;
}

std::optional<int64_t> Value::as_int64() const {
  if (type_ != Type::kNumber) return std::nullopt;
  if (integral_) {
    if (!negative_ && magnitude_ <= static_cast<uint64_t>(INT64_MAX))
      return static_cast<int64_t>(magnitude_);
    if (negative_ && magnitude_ <= static_cast<uint64_t>(INT64_MAX) + 1)
      return static_cast<int64_t>(0 - magnitude_);
    return std::nullopt;
  }
  // 3.0 or 1e3: integral values written as doubles; 2^63 itself is out of range.
  if (std::trunc(number_) != number_ || !(std::fabs(number_) < 9223372036854775808.0))
    return std::nullopt;
  return static_cast<int64_t>(number_);
}

std::optional<uint64_t> Value::as_uint64() const {
  if (type_ != Type::kNumber) return std::nullopt;
  if (integral_) {
    if (negative_ && magnitude_ != 0) return std::nullopt;
    return magnitude_;
  }
  if (std::trunc(number_) != number_ || !(number_ >= 0 && number_ < 18446744073709551616.0))
    return std::nullopt;
  return static_cast<uint64_t>(number_);
}

const Value* Value::find(std::string_view key) const {
  if (type_ != Type::kObject) return nullptr;
  for (size_t i = keys_.size(); i-- > 0;)
    if (keys_[i] == key) return &items_[i];
  return nullptr;
}

void Writer::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_.empty()) {
    if (!first_.back()) out_ += ',';
    first_.back() = false;
  }
}

Writer& Writer::begin_object() {
  before_value();
  out_ += '{';
  first_.push_back(true);
  return *this;
}

Writer& Writer::end_object() {
  out_ += '}';
  first_.pop_back();
  return *this;
}

Writer& Writer::begin_array() {
  before_value();
  out_ += '[';
  first_.push_back(true);
  return *this;
}

Writer& Writer::end_array() {
  out_ += ']';
  first_.pop_back();
  return *this;
}

Writer& Writer::key(std::string_view k) {
  before_value();
  string(k);
  out_ += ':';
  after_key_ = true;
  return *this;
}

void Writer::string(std::string_view s) {
  out_ += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out_ += "\\\"";
        break;
      case '\\':
        out_ += "\\\\";
        break;
      case '\n':
        out_ += "\\n";
        break;
      case '\r':
        out_ += "\\r";
        break;
      case '\t':
        out_ += "\\t";
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out_ += buf;
        } else {
          out_ += ch;
        }
    }
  }
  out_ += '"';
}

Writer& Writer::value(std::string_view s) {
  before_value();
  string(s);
  return *this;
}

Writer& Writer::value(bool b) {
  before_value();
  out_ += b ? "true" : "false";
  return *this;
}

Writer& Writer::value(int64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}

Writer& Writer::value(uint64_t v) {
  before_value();
  out_ += std::to_string(v);
  return *this;
}

Writer& Writer::value(double v) {
  if (!std::isfinite(v)) return null();
  before_value();
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, r.ptr);
  return *this;
}

Writer& Writer::null() {
  before_value();
  out_ += "null";
  return *this;
}

}  // namespace tuntcp::engine::services::json
