#include "core/json.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/error.h"

namespace sd {

Json Json::boolean(bool b) {
  Json j;
  j.type_ = Type::Bool;
  j.bool_ = b;
  return j;
}
Json Json::number(double d) {
  Json j;
  j.type_ = Type::Number;
  j.number_ = d;
  return j;
}
Json Json::string(std::string s) {
  Json j;
  j.type_ = Type::String;
  j.string_ = std::move(s);
  return j;
}
Json Json::array(Array a) {
  Json j;
  j.type_ = Type::Array;
  j.array_ = std::make_shared<Array>(std::move(a));
  return j;
}
Json Json::object(Object o) {
  Json j;
  j.type_ = Type::Object;
  j.object_ = std::make_shared<Object>(std::move(o));
  return j;
}

namespace {

const char* type_name(Json::Type t) {
  switch (t) {
    case Json::Type::Null: return "null";
    case Json::Type::Bool: return "a boolean";
    case Json::Type::Number: return "a number";
    case Json::Type::String: return "a string";
    case Json::Type::Array: return "an array";
    case Json::Type::Object: return "an object";
  }
  return "?";
}

class Parser {
 public:
  Parser(std::string_view text, size_t max_depth) : s_(text), max_depth_(max_depth) {}

  Json parse_document() {
    skip_ws();
    Json v = parse_value(0);
    skip_ws();
    if (pos_ != s_.size()) error("unexpected data after the JSON value");
    return v;
  }

 private:
  std::string_view s_;
  size_t pos_ = 0;
  size_t max_depth_;

  [[noreturn]] void error(const char* what) const { fail("invalid JSON at byte ", pos_, ": ", what); }

  void skip_ws() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r')) ++pos_;
  }

  bool consume(char c) {
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  void expect_word(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) error("unknown literal");
    pos_ += word.size();
  }

  Json parse_value(size_t depth) {
    if (depth > max_depth_) error("nested too deeply");
    if (pos_ >= s_.size()) error("unexpected end of input");
    const char c = s_[pos_];
    switch (c) {
      case '{': return parse_object(depth);
      case '[': return parse_array(depth);
      case '"': return Json::string(parse_string());
      case 't': expect_word("true"); return Json::boolean(true);
      case 'f': expect_word("false"); return Json::boolean(false);
      case 'n': expect_word("null"); return Json();
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return Json::number(parse_number());
        error("unexpected character");
    }
  }

  Json parse_object(size_t depth) {
    ++pos_;
    Json::Object members;
    skip_ws();
    if (consume('}')) return Json::object(std::move(members));
    for (;;) {
      skip_ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') error("expected a string key");
      std::string key = parse_string();
      skip_ws();
      if (!consume(':')) error("expected ':'");
      skip_ws();
      members.emplace_back(std::move(key), parse_value(depth + 1));
      skip_ws();
      if (consume(',')) continue;
      if (consume('}')) break;
      error("expected ',' or '}'");
    }
    return Json::object(std::move(members));
  }

  Json parse_array(size_t depth) {
    ++pos_;
    Json::Array items;
    skip_ws();
    if (consume(']')) return Json::array(std::move(items));
    for (;;) {
      skip_ws();
      items.push_back(parse_value(depth + 1));
      skip_ws();
      if (consume(',')) continue;
      if (consume(']')) break;
      error("expected ',' or ']'");
    }
    return Json::array(std::move(items));
  }

  double parse_number() {
    const size_t start = pos_;
    consume('-');
    if (consume('0')) {
    } else if (pos_ < s_.size() && s_[pos_] >= '1' && s_[pos_] <= '9') {
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    } else {
      error("invalid number");
    }
    if (consume('.')) {
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') error("invalid number");
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (!consume('+')) consume('-');
      if (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9') error("invalid number");
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    }
    double value = 0;
    const char* first = s_.data() + start;
    const char* last = s_.data() + pos_;
    auto result = std::from_chars(first, last, value);
    if (result.ptr != last) {
      // from_chars reports out-of-range for huge exponents; JSON allows them, clamp like JS.
      if (result.ec == std::errc::result_out_of_range) {
        value = (*first == '-') ? -HUGE_VAL : HUGE_VAL;
      } else {
        error("invalid number");
      }
    }
    return value;
  }

  unsigned parse_hex4() {
    if (pos_ + 4 > s_.size()) error("truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; ++i) {
      const char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<unsigned>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<unsigned>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<unsigned>(c - 'A' + 10);
      else error("invalid \\u escape");
    }
    return v;
  }

  static void append_utf8(std::string& out, unsigned cp) {
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

  std::string parse_string() {
    ++pos_;  // opening quote
    std::string out;
    for (;;) {
      if (pos_ >= s_.size()) error("unterminated string");
      const char c = s_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) error("control character in string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= s_.size()) error("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'u': {
          unsigned cp = parse_hex4();
          if (cp >= 0xd800 && cp <= 0xdbff) {
            if (pos_ + 2 > s_.size() || s_[pos_] != '\\' || s_[pos_ + 1] != 'u') error("lone surrogate");
            pos_ += 2;
            const unsigned low = parse_hex4();
            if (low < 0xdc00 || low > 0xdfff) error("invalid surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          } else if (cp >= 0xdc00 && cp <= 0xdfff) {
            error("lone surrogate");
          }
          append_utf8(out, cp);
          break;
        }
        default: error("invalid escape");
      }
    }
  }
};

void dump_string(std::string& out, const std::string& s) {
  out += '"';
  for (const char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
          out += buf;
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

void dump_value(std::string& out, const Json& j) {
  switch (j.type()) {
    case Json::Type::Null: out += "null"; return;
    case Json::Type::Bool: out += j.as_bool() ? "true" : "false"; return;
    case Json::Type::Number: {
      const double d = j.as_number();
      if (!std::isfinite(d)) {
        out += "null";
        return;
      }
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, d);
      out.append(buf, r.ptr);
      return;
    }
    case Json::Type::String: dump_string(out, j.as_string()); return;
    case Json::Type::Array: {
      out += '[';
      bool first = true;
      for (const auto& item : j.as_array()) {
        if (!first) out += ',';
        first = false;
        dump_value(out, item);
      }
      out += ']';
      return;
    }
    case Json::Type::Object: {
      out += '{';
      bool first = true;
      for (const auto& [key, value] : j.as_object()) {
        if (!first) out += ',';
        first = false;
        dump_string(out, key);
        out += ':';
        dump_value(out, value);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

Json Json::parse(std::string_view text, size_t max_depth) { return Parser(text, max_depth).parse_document(); }

bool Json::as_bool(const char* what) const {
  SD_CHECK(type_ == Type::Bool, what, " must be a boolean, found ", type_name(type_));
  return bool_;
}
double Json::as_number(const char* what) const {
  SD_CHECK(type_ == Type::Number, what, " must be a number, found ", type_name(type_));
  return number_;
}
int64_t Json::as_int(const char* what) const {
  const double d = as_number(what);
  SD_CHECK(std::floor(d) == d && std::fabs(d) <= 9007199254740992.0, what, " must be a whole number, found ", d);
  return static_cast<int64_t>(d);
}
const std::string& Json::as_string(const char* what) const {
  SD_CHECK(type_ == Type::String, what, " must be a string, found ", type_name(type_));
  return string_;
}
const Json::Array& Json::as_array(const char* what) const {
  SD_CHECK(type_ == Type::Array, what, " must be an array, found ", type_name(type_));
  return *array_;
}
const Json::Object& Json::as_object(const char* what) const {
  SD_CHECK(type_ == Type::Object, what, " must be an object, found ", type_name(type_));
  return *object_;
}

const Json* Json::find(std::string_view key) const {
  if (type_ != Type::Object) return nullptr;
  for (const auto& [k, v] : *object_)
    if (k == key) return &v;
  return nullptr;
}

const Json& Json::at(std::string_view key) const {
  const Json* v = find(key);
  SD_CHECK(v != nullptr, "missing key \"", std::string(key), "\"");
  return *v;
}

Json& Json::set(std::string key, Json value) {
  if (type_ == Type::Null) *this = object();
  SD_CHECK(type_ == Type::Object, "Json::set on a non-object");
  for (auto& [k, v] : *object_) {
    if (k == key) {
      v = std::move(value);
      return v;
    }
  }
  object_->emplace_back(std::move(key), std::move(value));
  return object_->back().second;
}

Json& Json::push(Json value) {
  if (type_ == Type::Null) *this = array();
  SD_CHECK(type_ == Type::Array, "Json::push on a non-array");
  array_->push_back(std::move(value));
  return array_->back();
}

std::string Json::dump() const {
  std::string out;
  dump_value(out, *this);
  return out;
}

}  // namespace sd
