// AUTOMATIC1111's emphasis syntax (modules/prompt_parser.py,
// parse_prompt_attention), which its webui users write in every prompt:
//   (text)       weight x 1.1        ((text)) x 1.21, and so on
//   [text]       weight / 1.1
//   (text:1.3)   weight x 1.3        spaces allowed around the number
//   \( \) \[ \] \\   the literal character
//   BREAK        (a separate word, upper case) ends the current 75-token chunk
// Brackets left open apply to the end of the prompt; a closing bracket with no
// opener is plain text. Neighbouring pieces of equal weight are merged.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace sd {

struct WeightedText {
  std::string text;  // UTF-8
  double weight;     // Python float arithmetic, as the webui computes it
};

// The webui's marker for a chunk break: text "BREAK" with weight exactly -1.
// (Inside brackets its weight is scaled and it becomes the word "BREAK", as in
// the webui.)
bool is_chunk_break(const WeightedText& piece);

// Never fails on any prompt except a bracketed weight that is not a number,
// such as "(a:1.2.3)", where the webui raises ValueError: an sd::Error naming it.
std::vector<WeightedText> parse_prompt_attention(std::string_view prompt);

}  // namespace sd
