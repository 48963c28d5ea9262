#include "text/prompt_parser.h"

#include <charconv>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "text/unicode.h"

namespace sd {

namespace {

constexpr double kRoundMultiplier = 1.1;
constexpr double kSquareMultiplier = 1 / 1.1;
constexpr std::u32string_view kBreak = U"BREAK";
// Each closing bracket rescales every piece after its opener, which is
// quadratic for thousands of nested or unclosed brackets. No real prompt comes
// near this many piece updates (about 0.1 s of work); past it we refuse.
constexpr size_t kMaxWeightUpdates = size_t{1} << 27;

// Python's float() of what `[+-]?[.\d]+` matched (\d: any Unicode decimal digit).
double parse_weight(std::u32string_view number, std::u32string_view whole_match) {
  std::string ascii;
  bool negative = false, has_digit = false;
  int dots = 0;
  for (size_t i = 0; i < number.size(); ++i) {
    const char32_t c = number[i];
    if (i == 0 && (c == '+' || c == '-')) {
      negative = c == '-';
    } else if (c == '.') {
      ++dots;
      ascii.push_back('.');
    } else {
      ascii.push_back(static_cast<char>('0' + unicode::decimal_value(c)));
      has_digit = true;
    }
  }
  SD_CHECK(has_digit && dots <= 1, "the prompt has an emphasis weight that is not a number: \"",
           unicode::encode_utf8(whole_match), "\" (write it like (word:1.2))");
  double value = 0;
  const auto [end, ec] = std::from_chars(ascii.data(), ascii.data() + ascii.size(), value);
  if (ec == std::errc::result_out_of_range) {
    // Python rounds a too-large literal to inf and a too-small one to 0.0.
    const size_t int_digits = ascii.find('.') == std::string::npos ? ascii.size() : ascii.find('.');
    value = ascii.find_first_not_of("0.") < int_digits ? std::numeric_limits<double>::infinity() : 0.0;
  }
  return negative ? -value : value;
}

// Length of `:\s*([+-]?[.\d]+)\s*\)` at i (0 if it does not match); `number`
// receives the group.
size_t match_weight(std::u32string_view text, size_t i, std::u32string_view& number) {
  size_t j = i + 1;
  while (j < text.size() && unicode::is_space(text[j])) ++j;
  const size_t start = j;
  if (j < text.size() && (text[j] == '+' || text[j] == '-')) ++j;
  const size_t digits = j;
  while (j < text.size() && (text[j] == '.' || unicode::decimal_value(text[j]) >= 0)) ++j;
  if (j == digits) return 0;
  number = text.substr(start, j - start);
  while (j < text.size() && unicode::is_space(text[j])) ++j;
  if (j >= text.size() || text[j] != ')') return 0;
  return j + 1 - i;
}

bool is_syntax(char32_t c) { return c == '\\' || c == '(' || c == ')' || c == '[' || c == ']' || c == ':'; }

// re.split(r"\s*\bBREAK\b\s*", text): the pieces between the separators.
std::vector<std::u32string_view> split_on_break(std::u32string_view text) {
  std::vector<std::u32string_view> parts;
  size_t part_start = 0, search = 0;
  while (true) {
    const size_t at = text.find(kBreak, search);
    if (at == std::u32string_view::npos) break;
    const size_t after = at + kBreak.size();
    const bool word_start = at == 0 || !unicode::is_word(text[at - 1]);
    const bool word_end = after == text.size() || !unicode::is_word(text[after]);
    if (!word_start || !word_end) {
      search = at + 1;
      continue;
    }
    size_t begin = at, end = after;
    while (begin > part_start && unicode::is_space(text[begin - 1])) --begin;
    while (end < text.size() && unicode::is_space(text[end])) ++end;
    parts.push_back(text.substr(part_start, begin - part_start));
    part_start = search = end;
  }
  parts.push_back(text.substr(part_start));
  return parts;
}

struct Piece {
  std::u32string text;
  double weight;
};

}  // namespace

bool is_chunk_break(const WeightedText& piece) { return piece.weight == -1.0 && piece.text == "BREAK"; }

std::vector<WeightedText> parse_prompt_attention(std::string_view prompt) {
  const std::u32string text = unicode::decode_utf8(prompt);
  const std::u32string_view view = text;
  std::vector<Piece> res;
  std::vector<size_t> round_brackets, square_brackets;
  size_t updates = 0;
  auto multiply_range = [&res, &updates](size_t start, double multiplier) {
    updates += res.size() - start;
    SD_CHECK(updates <= kMaxWeightUpdates, "the prompt nests or leaves open too many brackets to weigh (",
             res.size(), " pieces); close them, or escape literal ones as \\( \\[");
    for (size_t p = start; p < res.size(); ++p) res[p].weight *= multiplier;
  };
  auto add_text = [&res](std::u32string_view plain) {
    const auto parts = split_on_break(plain);
    for (size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) res.push_back({std::u32string(kBreak), -1.0});
      res.push_back({std::u32string(parts[i]), 1.0});
    }
  };

  // One token of the webui's re_attention at a time, in its order of alternatives.
  size_t i = 0;
  while (i < view.size()) {
    const char32_t c = view[i];
    if (c == '\\') {
      // "\(" "\)" "\[" "\]" "\\" give the character; a lone "\" gives nothing.
      const bool escape = i + 1 < view.size() && (view[i + 1] == '(' || view[i + 1] == ')' || view[i + 1] == '[' ||
                                                   view[i + 1] == ']' || view[i + 1] == '\\');
      res.push_back({escape ? std::u32string(1, view[i + 1]) : std::u32string(), 1.0});
      i += escape ? 2 : 1;
    } else if (c == '(') {
      round_brackets.push_back(res.size());
      ++i;
    } else if (c == '[') {
      square_brackets.push_back(res.size());
      ++i;
    } else if (c == ':') {
      std::u32string_view number;
      const size_t len = match_weight(view, i, number);
      const std::u32string_view token = view.substr(i, len == 0 ? 1 : len);
      if (len > 0 && !round_brackets.empty()) {
        const double weight = parse_weight(number, token);
        multiply_range(round_brackets.back(), weight);
        round_brackets.pop_back();
      } else {
        add_text(token);
      }
      i += token.size();
    } else if (c == ')' && !round_brackets.empty()) {
      multiply_range(round_brackets.back(), kRoundMultiplier);
      round_brackets.pop_back();
      ++i;
    } else if (c == ']' && !square_brackets.empty()) {
      multiply_range(square_brackets.back(), kSquareMultiplier);
      square_brackets.pop_back();
      ++i;
    } else if (c == ')' || c == ']') {
      add_text(view.substr(i, 1));
      ++i;
    } else {
      size_t j = i + 1;
      while (j < view.size() && !is_syntax(view[j])) ++j;
      add_text(view.substr(i, j - i));
      i = j;
    }
  }
  for (const size_t pos : round_brackets) multiply_range(pos, kRoundMultiplier);
  for (const size_t pos : square_brackets) multiply_range(pos, kSquareMultiplier);
  if (res.empty()) res.push_back({std::u32string(), 1.0});

  // Merge runs of identical weights.
  std::vector<WeightedText> merged;
  for (const Piece& p : res) {
    if (!merged.empty() && merged.back().weight == p.weight) {
      merged.back().text += unicode::encode_utf8(p.text);
    } else {
      merged.push_back({unicode::encode_utf8(p.text), p.weight});
    }
  }
  return merged;
}

}  // namespace sd
