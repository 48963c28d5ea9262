// A small JSON reader and writer: manifests, safetensors headers and model
// configs. Strict (RFC 8259), depth-limited, and every error names the offset,
// because these bytes come from files we do not trust.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace sd {

class Json {
 public:
  enum class Type { Null, Bool, Number, String, Array, Object };
  using Array = std::vector<Json>;
  using Object = std::vector<std::pair<std::string, Json>>;  // keeps file order

  Json() = default;
  static Json boolean(bool b);
  static Json number(double d);
  static Json string(std::string s);
  static Json array(Array a = {});
  static Json object(Object o = {});

  static Json parse(std::string_view text, size_t max_depth = 64);

  Type type() const { return type_; }
  bool is_null() const { return type_ == Type::Null; }
  bool is_bool() const { return type_ == Type::Bool; }
  bool is_number() const { return type_ == Type::Number; }
  bool is_string() const { return type_ == Type::String; }
  bool is_array() const { return type_ == Type::Array; }
  bool is_object() const { return type_ == Type::Object; }

  // Typed access; each throws sd::Error naming `what` when the type is wrong.
  bool as_bool(const char* what = "value") const;
  double as_number(const char* what = "value") const;
  int64_t as_int(const char* what = "value") const;  // must be integral
  const std::string& as_string(const char* what = "value") const;
  const Array& as_array(const char* what = "value") const;
  const Object& as_object(const char* what = "value") const;

  // Object member or nullptr.
  const Json* find(std::string_view key) const;
  // Object member; throws naming the key when absent.
  const Json& at(std::string_view key) const;
  bool has(std::string_view key) const { return find(key) != nullptr; }

  // Builders.
  Json& set(std::string key, Json value);
  Json& push(Json value);

  std::string dump() const;

 private:
  Type type_ = Type::Null;
  bool bool_ = false;
  double number_ = 0;
  std::string string_;
  std::shared_ptr<Array> array_;
  std::shared_ptr<Object> object_;
};

}  // namespace sd
