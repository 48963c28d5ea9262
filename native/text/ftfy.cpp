#include "text/ftfy.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <iterator>

#include "text/unicode.h"

namespace sd {

namespace {

struct CodeRange {
  uint32_t first, last;
};
struct HtmlEntity {
  const char* name;
  uint32_t length;
  uint32_t value[3];
};
struct Replacement {
  uint32_t cp;
  uint32_t length;
  uint32_t value[3];
};
struct CharrefFixup {
  uint32_t number, cp;
};

#include "text/ftfy_tables.inc"

// ftfy fixes text in segments: lines (with their '\n'), cut every million code
// points when a line is longer (TextFixerConfig.max_decode_length).
constexpr size_t kMaxSegment = 1000000;
// ftfy repeats its fixes until the text stops changing. Each extra pass can only
// undo one more level of nested escaping ("&amp;amp;..."), so this cap bounds
// the work on hostile input without touching any text a person would write.
constexpr int kMaxPasses = 64;

bool is_ascii_alnum(char32_t c) { return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'); }

template <size_t N>
const Replacement* find_replacement(const Replacement (&table)[N], char32_t cp) {
  const auto it = std::lower_bound(std::begin(table), std::end(table), static_cast<uint32_t>(cp),
                                   [](const Replacement& r, uint32_t v) { return r.cp < v; });
  return it != std::end(table) && it->cp == cp ? it : nullptr;
}

void append_value(std::u32string& out, const uint32_t* value, uint32_t length) {
  for (uint32_t k = 0; k < length; ++k) out.push_back(value[k]);
}

const HtmlEntity* find_entity(const std::string& name) {
  const auto it = std::lower_bound(std::begin(kHtmlEntities), std::end(kHtmlEntities), name,
                                   [](const HtmlEntity& e, const std::string& v) { return std::strcmp(e.name, v.c_str()) < 0; });
  return it != std::end(kHtmlEntities) && name == it->name ? it : nullptr;
}

// html.unescape() of a whole "&#...;" reference. Returns false when it would
// decode only part of it (then ftfy keeps the text).
bool decode_charref(std::u32string_view digits, std::u32string& out) {
  const bool hex = !digits.empty() && (digits[0] == 'x' || digits[0] == 'X');
  if (hex) digits.remove_prefix(1);
  if (digits.empty()) return false;
  uint32_t number = 0;
  for (char32_t c : digits) {
    int v;
    if (c >= '0' && c <= '9') v = static_cast<int>(c - '0');
    else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f') v = static_cast<int>((c | 0x20) - 'a' + 10);
    else return false;
    number = std::min<uint32_t>(number * (hex ? 16 : 10) + v, 0x110000);  // saturates past U+10FFFF
  }
  const auto fix = std::find_if(std::begin(kCharrefFixups), std::end(kCharrefFixups),
                                [number](const CharrefFixup& f) { return f.number == number; });
  if (fix != std::end(kCharrefFixups)) {
    out.push_back(fix->cp);
    return true;
  }
  if ((number >= 0xD800 && number <= 0xDFFF) || number > 0x10FFFF) {
    out.push_back(0xFFFD);
    return true;
  }
  for (const CodeRange& r : kCharrefDropped)
    if (number >= r.first && number <= r.last) return true;
  out.push_back(number);
  return true;
}

char32_t uncurl_quote(char32_t c) {
  if (c == 0x2BC || (c >= 0x2018 && c <= 0x201B)) return '\'';
  if (c >= 0x201C && c <= 0x201F) return '"';
  return c;
}

// fix_c1_controls, fix_latin_ligatures, fix_character_width, uncurl_quotes:
// each maps single code points, so they run as one pass, each step seeing what
// the previous one made (a C1 0x91 becomes U+2018 and then a straight quote;
// the ligature U+0149 becomes U+02BC 'n' and then "'n").
std::u32string map_chars(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t c : text) {
    if (c >= 0x80 && c <= 0x9F) c = kC1ToCp1252[c - 0x80];
    const Replacement* r = c >= 0x132 ? find_replacement(kLigatures, c) : nullptr;
    if (!r && (c == 0x3000 || (c >= 0xFF01 && c <= 0xFFEF))) r = find_replacement(kWidthMap, c);
    if (!r) {
      out.push_back(uncurl_quote(c));
      continue;
    }
    // No ligature expands into a width form, so one table lookup is enough.
    for (uint32_t k = 0; k < r->length; ++k) out.push_back(uncurl_quote(r->value[k]));
  }
  return out;
}

std::u32string fix_line_breaks(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == '\r') {
      out.push_back('\n');
      if (i + 1 < text.size() && text[i + 1] == '\n') ++i;
    } else if (c == 0x2028 || c == 0x2029 || c == 0x85) {
      out.push_back('\n');
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// remove_terminal_escapes (ESC '[' (\d|;)* [A-Za-z]) then remove_control_chars.
std::u32string remove_escapes_and_controls(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t c = text[i];
    if (c == 0x1B && i + 1 < text.size() && text[i + 1] == '[') {
      size_t j = i + 2;
      while (j < text.size() && (text[j] == ';' || unicode::decimal_value(text[j]) >= 0)) ++j;
      if (j < text.size() && (text[j] | 0x20) >= 'a' && (text[j] | 0x20) <= 'z') {
        i = j;
        continue;
      }
    }
    const bool control = c <= 0x08 || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
                         (c >= 0x206A && c <= 0x206F) || c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFC);
    if (!control) out.push_back(c);
  }
  return out;
}

std::u32string fix_segment(std::u32string_view segment, bool unescape) {
  std::u32string text(segment);
  for (int pass = 0; pass < kMaxPasses; ++pass) {
    std::u32string fixed = unescape ? ftfy_unescape_html(text) : text;
    fixed = map_chars(fixed);
    fixed = fix_line_breaks(fixed);
    fixed = remove_escapes_and_controls(fixed);
    fixed = unicode::nfc(fixed);
    if (fixed == text) break;
    text = std::move(fixed);
  }
  return text;
}

}  // namespace

std::u32string ftfy_unescape_html(std::u32string_view text) {
  // ftfy's HTML_ENTITY_RE: '&' '#'? [0-9A-Za-z]{1,24} ';'
  std::u32string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    if (text[i] != '&') {
      out.push_back(text[i++]);
      continue;
    }
    size_t j = i + 1;
    const bool numeric = j < text.size() && text[j] == '#';
    if (numeric) ++j;
    size_t k = j;
    while (k < text.size() && k - j <= 24 && is_ascii_alnum(text[k])) ++k;
    const size_t run = k - j;
    if (run < 1 || run > 24 || k >= text.size() || text[k] != ';') {
      out.push_back(text[i++]);
      continue;
    }
    const std::u32string_view body = text.substr(j, run);
    bool replaced = false;
    if (numeric) {
      replaced = decode_charref(body, out);
    } else {
      std::string name;
      for (char32_t c : body) name.push_back(static_cast<char>(c));
      if (const HtmlEntity* e = find_entity(name)) {
        append_value(out, e->value, e->length);
        replaced = true;
      }
    }
    if (!replaced) out.append(text.substr(i, k + 1 - i));
    i = k + 1;
  }
  return out;
}

std::u32string ftfy_fix_text(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  bool unescape = true;  // "auto": off for good once a segment contains '<'
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find(U'\n', pos);
    end = end == std::u32string_view::npos ? text.size() : end + 1;
    end = std::min(end, pos + kMaxSegment);
    const std::u32string_view segment = text.substr(pos, end - pos);
    if (unescape && segment.find(U'<') != std::u32string_view::npos) unescape = false;
    out += fix_segment(segment, unescape);
    pos = end;
  }
  return out;
}

}  // namespace sd
