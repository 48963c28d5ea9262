#include "text/prompt_chunks.h"

#include <string>

namespace sd {

namespace {

constexpr size_t kChunkLength = ClipTokenizer::kContextLength - 2;  // 75

class ChunkBuilder {
 public:
  ChunkBuilder(const PromptOptions& options, int32_t comma_id) : options_(options), comma_id_(comma_id) {}

  // One token of a piece, with the webui's comma back-tracking when a chunk fills up.
  void add(int32_t token, double weight) {
    if (token == comma_id_) {
      last_comma_ = static_cast<int64_t>(tokens_.size());
    } else if (options_.comma_padding_backtrack != 0 && tokens_.size() == kChunkLength && last_comma_ != -1 &&
               static_cast<int64_t>(tokens_.size()) - last_comma_ <= options_.comma_padding_backtrack) {
      const size_t cut = static_cast<size_t>(last_comma_) + 1;
      std::vector<int32_t> moved_tokens(tokens_.begin() + cut, tokens_.end());
      std::vector<double> moved_weights(weights_.begin() + cut, weights_.end());
      tokens_.resize(cut);
      weights_.resize(cut);
      next_chunk(false);
      tokens_ = std::move(moved_tokens);
      weights_ = std::move(moved_weights);
    }
    if (tokens_.size() == kChunkLength) next_chunk(false);
    tokens_.push_back(token);
    weights_.push_back(weight);
  }

  // The webui's next_chunk(): pads to 75, frames with BOS/EOS. The last
  // chunk counts only its real tokens toward token_count.
  void next_chunk(bool is_last) {
    token_count_ += is_last ? static_cast<int64_t>(tokens_.size()) : static_cast<int64_t>(kChunkLength);
    PromptChunk chunk;
    chunk.ids.reserve(ClipTokenizer::kContextLength);
    chunk.weights.reserve(ClipTokenizer::kContextLength);
    chunk.ids.push_back(ClipTokenizer::kStartOfText);
    chunk.weights.push_back(1.0);
    chunk.ids.insert(chunk.ids.end(), tokens_.begin(), tokens_.end());
    chunk.weights.insert(chunk.weights.end(), weights_.begin(), weights_.end());
    chunk.ids.resize(ClipTokenizer::kContextLength, ClipTokenizer::kEndOfText);
    chunk.weights.resize(ClipTokenizer::kContextLength, 1.0);
    chunks_.push_back(std::move(chunk));
    tokens_.clear();
    weights_.clear();
    last_comma_ = -1;
  }

  void finish() {
    if (!tokens_.empty() || chunks_.empty()) next_chunk(true);
  }

  std::vector<PromptChunk>& chunks() { return chunks_; }
  int64_t token_count() const { return token_count_; }

 private:
  const PromptOptions& options_;
  const int32_t comma_id_;
  std::vector<int32_t> tokens_;
  std::vector<double> weights_;
  int64_t last_comma_ = -1;
  int64_t token_count_ = 0;
  std::vector<PromptChunk> chunks_;
};

}  // namespace

PromptTokens tokenize_prompt(const ClipTokenizer& tokenizer, std::string_view prompt, const PromptOptions& options) {
  PromptTokens result;
  if (options.emphasis == EmphasisMode::None) {
    result.pieces.push_back({std::string(prompt), 1.0});
  } else {
    result.pieces = parse_prompt_attention(prompt);
  }
  ChunkBuilder builder(options, tokenizer.token_id(",</w>"));
  for (const WeightedText& piece : result.pieces) {
    if (is_chunk_break(piece)) {
      builder.next_chunk(false);
      continue;
    }
    for (const int32_t token : tokenizer.encode(piece.text)) builder.add(token, piece.weight);
  }
  builder.finish();
  result.chunks = std::move(builder.chunks());
  result.token_count = builder.token_count();
  return result;
}

std::vector<int32_t> PromptTokens::flat_ids() const {
  std::vector<int32_t> out;
  for (const auto& c : chunks) out.insert(out.end(), c.ids.begin(), c.ids.end());
  return out;
}

std::vector<double> PromptTokens::flat_weights() const {
  std::vector<double> out;
  for (const auto& c : chunks) out.insert(out.end(), c.weights.begin(), c.weights.end());
  return out;
}

}  // namespace sd
