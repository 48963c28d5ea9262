// From a prompt to what the text encoder runs, as AUTOMATIC1111 does it
// (modules/sd_hijack_clip.py, tokenize_line): the emphasis syntax is parsed,
// each piece tokenized, and the tokens cut into chunks of 75, each framed as
// [BOS] + 75 tokens (EOS padding) + [EOS] = 77 ids with one weight per id. The
// encoder runs chunk by chunk; the outputs are concatenated along the tokens.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "text/clip_tokenizer.h"
#include "text/emphasis.h"
#include "text/prompt_parser.h"

namespace sd {

struct PromptOptions {
  EmphasisMode emphasis = EmphasisMode::Original;
  // A full chunk whose last comma is at most this many tokens back moves the
  // tokens after that comma to the next chunk (webui setting "Prompt word wrap
  // length limit"); 0 turns it off.
  int comma_padding_backtrack = 20;
};

struct PromptChunk {
  std::vector<int32_t> ids;     // 77
  std::vector<double> weights;  // 77; 1.0 for BOS, EOS and padding
};

struct PromptTokens {
  std::vector<WeightedText> pieces;  // parse_prompt_attention's result (the whole prompt with weight 1 for mode None)
  std::vector<PromptChunk> chunks;   // at least one
  int64_t token_count = 0;           // the webui's count (the "n/75" it shows)

  std::vector<int32_t> flat_ids() const;      // [chunks * 77]
  std::vector<double> flat_weights() const;   // [chunks * 77]
};

PromptTokens tokenize_prompt(const ClipTokenizer& tokenizer, std::string_view prompt, const PromptOptions& options = {});

}  // namespace sd
