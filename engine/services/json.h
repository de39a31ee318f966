// A small JSON reader and writer (RFC 8259) for the iperf3 control protocol, whose parameters
// and results are JSON objects of a few hundred bytes. Not for the data path.
//
// The reader builds a tree and rejects anything malformed (bad syntax, trailing bytes, control
// characters or invalid escapes in strings, nesting deeper than kMaxDepth), because its input
// comes from the network. Integers that fit 64 bits keep their exact value (byte counts
// exceed 2^53 only after petabytes, but exactness costs nothing).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tuntcp::engine::services::json {

class Value {
 public:
  enum class Type : uint8_t { kNull, kBool, kNumber, kString, kArray, kObject };
  static constexpr int kMaxDepth = 64;

  // Parses one complete JSON text; nullopt (and a reason in *err) if it is not valid JSON.
  static std::optional<Value> parse(std::string_view text, std::string* err = nullptr);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }

  bool as_bool() const { return bool_; }
  double as_double() const { return number_; }
  // The number as an exact integer in range, if it is one (3 and 3.0 are; 3.5 and 1e30 not).
  std::optional<int64_t> as_int64() const;
  std::optional<uint64_t> as_uint64() const;
  const std::string& as_string() const { return string_; }

  // Arrays: the elements. Objects: the member values, in document order.
  const std::vector<Value>& items() const { return items_; }
  // Objects: the member called `key` (the last one if repeated), or nullptr.
  const Value* find(std::string_view key) const;

 private:
  friend class Parser;
  Type type_ = Type::kNull;
  bool bool_ = false;
  bool integral_ = false;  // the number was written without fraction or exponent
  bool negative_ = false;  // sign of the integer held in magnitude_
  uint64_t magnitude_ = 0;
  double number_ = 0;
  std::string string_;
  std::vector<std::string> keys_;  // objects: one per element of items_
  std::vector<Value> items_;
};

// Writes compact JSON (no whitespace), as cJSON_PrintUnformatted does. Commas are placed
// automatically; keys are written with key() before each member value.
class Writer {
 public:
  Writer& begin_object();
  Writer& end_object();
  Writer& begin_array();
  Writer& end_array();
  Writer& key(std::string_view k);
  Writer& value(std::string_view s);
  Writer& value(const char* s) { return value(std::string_view(s)); }
  Writer& value(bool b);
  Writer& value(int64_t v);
  Writer& value(uint64_t v);
  Writer& value(int v) { return value(static_cast<int64_t>(v)); }
  Writer& value(double v);  // shortest round-trip form; NaN and infinities become null
  Writer& null();
  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void before_value();
  void string(std::string_view s);
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

}  // namespace tuntcp::engine::services::json
