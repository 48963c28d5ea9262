#include "text/unicode.h"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <utility>
#include <vector>

namespace sd::unicode {

namespace {

struct CodeRange {
  uint32_t first, last;
};
struct LowerRun {
  uint32_t first, last;
  int32_t delta;
  uint32_t stride;
};
struct LowerSpecial {
  uint32_t cp;
  uint32_t length;
  uint32_t lower[3];
};
struct CombiningRun {
  uint32_t first, last;
  uint32_t ccc;
};
struct Decomposition {
  uint32_t cp;
  uint32_t offset;
  uint32_t length;
};
struct Composition {
  uint32_t first, second, composite;
};

#include "text/unicode_tables.inc"

template <size_t N>
const CodeRange* find_range(const CodeRange (&table)[N], char32_t cp) {
  const auto it = std::upper_bound(std::begin(table), std::end(table), static_cast<uint32_t>(cp),
                                   [](uint32_t v, const CodeRange& r) { return v < r.first; });
  if (it == std::begin(table)) return nullptr;
  const CodeRange* r = it - 1;
  return cp <= r->last ? r : nullptr;
}

template <size_t N>
bool in_ranges(const CodeRange (&table)[N], char32_t cp) {
  return find_range(table, cp) != nullptr;
}

char32_t lower_single(char32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  const auto it = std::upper_bound(std::begin(kLowerRuns), std::end(kLowerRuns), static_cast<uint32_t>(cp),
                                   [](uint32_t v, const LowerRun& r) { return v < r.first; });
  if (it == std::begin(kLowerRuns)) return cp;
  const LowerRun& r = *(it - 1);
  if (cp > r.last || (cp - r.first) % r.stride != 0) return cp;
  return static_cast<char32_t>(static_cast<int64_t>(cp) + r.delta);
}

bool is_case_ignorable(char32_t cp) { return in_ranges(kCaseIgnorableRanges, cp); }
bool is_cased(char32_t cp) { return in_ranges(kCasedRanges, cp); }

// CPython's handle_capital_sigma: U+03A3 at i becomes final sigma when a cased
// letter precedes it (skipping case-ignorables) and none follows.
bool is_final_sigma(std::u32string_view text, size_t i) {
  size_t j = i;
  char32_t c = 0;
  bool found = false;
  while (j > 0) {
    c = text[--j];
    if (!is_case_ignorable(c)) {
      found = true;
      break;
    }
  }
  if (!found || !is_cased(c)) return false;
  for (j = i + 1; j < text.size(); ++j) {
    if (!is_case_ignorable(text[j])) return !is_cased(text[j]);
  }
  return true;
}

uint32_t combining_class(char32_t cp) {
  if (cp < 0x300) return 0;
  const auto it = std::upper_bound(std::begin(kCombiningRuns), std::end(kCombiningRuns), static_cast<uint32_t>(cp),
                                   [](uint32_t v, const CombiningRun& r) { return v < r.first; });
  if (it == std::begin(kCombiningRuns)) return 0;
  const CombiningRun& r = *(it - 1);
  return cp <= r.last ? r.ccc : 0;
}

// Hangul syllables decompose and compose by arithmetic (Unicode 3.12).
constexpr char32_t kSBase = 0xAC00, kLBase = 0x1100, kVBase = 0x1161, kTBase = 0x11A7;
constexpr uint32_t kLCount = 19, kVCount = 21, kTCount = 28, kNCount = kVCount * kTCount, kSCount = kLCount * kNCount;

void decompose(char32_t cp, std::u32string& out) {
  if (cp >= kSBase && cp < kSBase + kSCount) {
    const uint32_t s = cp - kSBase;
    out.push_back(kLBase + s / kNCount);
    out.push_back(kVBase + (s % kNCount) / kTCount);
    if (s % kTCount != 0) out.push_back(kTBase + s % kTCount);
    return;
  }
  const auto it = std::lower_bound(std::begin(kDecompositions), std::end(kDecompositions), static_cast<uint32_t>(cp),
                                   [](const Decomposition& d, uint32_t v) { return d.cp < v; });
  if (it != std::end(kDecompositions) && it->cp == cp) {
    for (uint32_t k = 0; k < it->length; ++k) out.push_back(kDecompositionData[it->offset + k]);
  } else {
    out.push_back(cp);
  }
}

// The primary composite of (a, b), or 0.
char32_t compose(char32_t a, char32_t b) {
  if (a >= kLBase && a < kLBase + kLCount && b >= kVBase && b < kVBase + kVCount)
    return kSBase + ((a - kLBase) * kVCount + (b - kVBase)) * kTCount;
  if (a >= kSBase && a < kSBase + kSCount && (a - kSBase) % kTCount == 0 && b > kTBase && b < kTBase + kTCount)
    return a + (b - kTBase);
  const auto it = std::lower_bound(std::begin(kCompositions), std::end(kCompositions), std::make_pair(a, b),
                                   [](const Composition& c, const std::pair<char32_t, char32_t>& v) {
                                     return c.first != v.first ? c.first < v.first : c.second < v.second;
                                   });
  if (it != std::end(kCompositions) && it->first == a && it->second == b) return it->composite;
  return 0;
}

}  // namespace

std::u32string decode_utf8(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  const auto* s = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  size_t i = 0;
  while (i < n) {
    const uint8_t b = s[i];
    if (b < 0x80) {
      out.push_back(b);
      ++i;
      continue;
    }
    // Continuation count and the allowed range of the first continuation byte
    // (which rules out overlong forms, surrogates and code points > U+10FFFF).
    int need;
    uint8_t lo = 0x80, hi = 0xBF;
    char32_t cp;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
      cp = b & 0x1F;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      cp = b & 0x0F;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      cp = b & 0x07;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      out.push_back(0xFFFD);
      ++i;
      continue;
    }
    size_t j = i + 1;
    bool ok = true;
    for (int k = 0; k < need; ++k, ++j) {
      const uint8_t lo_k = k == 0 ? lo : 0x80, hi_k = k == 0 ? hi : 0xBF;
      if (j >= n || s[j] < lo_k || s[j] > hi_k) {
        ok = false;
        break;
      }
      cp = (cp << 6) | (s[j] & 0x3F);
    }
    out.push_back(ok ? cp : 0xFFFD);
    i = j;
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

bool is_letter(char32_t cp) {
  if (cp < 0x80) return (cp | 0x20) >= 'a' && (cp | 0x20) <= 'z';
  return in_ranges(kLetterRanges, cp);
}

bool is_number(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9';
  return in_ranges(kNumberRanges, cp);
}

bool is_case_variant_letter(char32_t cp) { return cp >= 0x80 && in_ranges(kCaseVariantLetterRanges, cp); }

bool is_space(char32_t cp) {
  if (cp < 0x80) return cp == ' ' || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  return in_ranges(kSpaceRanges, cp);
}

bool is_word(char32_t cp) {
  if (cp < 0x80) return cp == '_' || ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') || (cp >= '0' && cp <= '9');
  return in_ranges(kWordRanges, cp);
}

int decimal_value(char32_t cp) {
  if (cp < 0x80) return cp >= '0' && cp <= '9' ? static_cast<int>(cp - '0') : -1;
  const CodeRange* r = find_range(kDigitRanges, cp);
  return r ? static_cast<int>((cp - r->first) % 10) : -1;
}

std::u32string to_lower(std::u32string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const char32_t cp = text[i];
    if (cp == 0x3A3) {
      out.push_back(is_final_sigma(text, i) ? 0x3C2 : 0x3C3);
      continue;
    }
    if (cp >= 0x80) {
      const auto it = std::find_if(std::begin(kLowerSpecial), std::end(kLowerSpecial),
                                   [cp](const LowerSpecial& s) { return s.cp == cp; });
      if (it != std::end(kLowerSpecial)) {
        for (uint32_t k = 0; k < it->length; ++k) out.push_back(it->lower[k]);
        continue;
      }
    }
    out.push_back(lower_single(cp));
  }
  return out;
}

std::u32string nfc(std::u32string_view text) {
  // Nothing below U+0300 decomposes differently or combines (NFC quick check).
  if (std::all_of(text.begin(), text.end(), [](char32_t c) { return c < 0x300; })) return std::u32string(text);

  std::u32string d;
  d.reserve(text.size() + 8);
  for (char32_t cp : text) decompose(cp, d);

  // Canonical ordering: each run of non-starters sorted stably by class.
  std::vector<uint32_t> classes(d.size());
  for (size_t i = 0; i < d.size(); ++i) classes[i] = combining_class(d[i]);
  for (size_t i = 0; i < d.size();) {
    if (classes[i] == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < d.size() && classes[j] != 0) ++j;
    if (j - i > 1) {
      std::vector<std::pair<uint32_t, char32_t>> run;
      for (size_t k = i; k < j; ++k) run.emplace_back(classes[k], d[k]);
      std::stable_sort(run.begin(), run.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
      for (size_t k = i; k < j; ++k) {
        classes[k] = run[k - i].first;
        d[k] = run[k - i].second;
      }
    }
    i = j;
  }

  // Canonical composition: a character joins the last starter unless a
  // character of the same or higher class (or a starter) stands between them.
  size_t starter = 0;
  uint32_t last_class = classes[0] == 0 ? 0 : 256;  // a leading non-starter blocks
  size_t kept = 1;
  for (size_t i = 1; i < d.size(); ++i) {
    const char32_t ch = d[i];
    const uint32_t ch_class = classes[i];
    const char32_t composite = compose(d[starter], ch);
    if (composite != 0 && (last_class < ch_class || last_class == 0)) {
      d[starter] = composite;
      continue;
    }
    if (ch_class == 0) starter = kept;
    last_class = ch_class;
    d[kept++] = ch;
  }
  d.resize(kept);
  return d;
}

const char* unicode_version() { return kUnicodeVersion; }

}  // namespace sd::unicode
