// The CLIP BPE tokenizer every SD1 model uses: transformers' CLIPTokenizer on
// openai's bpe_simple_vocab_16e6 (the vocabulary format is in
// test/fixtures/README.md, "The vocabulary"). Text goes through ftfy
// (text/ftfy.h), whitespace collapsing and lower-casing, is split by CLIP's
// pattern, and each piece is BPE-merged into token ids.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace sd {

class ClipTokenizer {
 public:
  static constexpr int32_t kStartOfText = 49406;
  static constexpr int32_t kEndOfText = 49407;  // also the padding id of SD1
  static constexpr int kContextLength = 77;     // BOS + 75 tokens + EOS

  // Reads a gzipped vocabulary (assets/bpe_simple_vocab_16e6.txt.gz).
  static std::unique_ptr<ClipTokenizer> load(const std::string& gz_path);
  // From the uncompressed vocabulary text; `source` names it in errors.
  ClipTokenizer(std::string_view vocab_text, const std::string& source);
  ~ClipTokenizer();
  ClipTokenizer(const ClipTokenizer&) = delete;
  ClipTokenizer& operator=(const ClipTokenizer&) = delete;

  // Token ids of `text` (UTF-8, invalid bytes read as U+FFFD), no BOS/EOS, no
  // truncation: CLIPTokenizer(text, add_special_tokens=False).
  std::vector<int32_t> encode(std::string_view text) const;
  // What CompVis' FrozenCLIPEmbedder feeds the text model: BOS, the first 75
  // ids, EOS, then EOS padding to 77.
  std::vector<int32_t> encode_framed(std::string_view text) const;

  // The id of a vocabulary entry in its byte-symbol spelling (",</w>" -> 267), or -1.
  int32_t token_id(std::string_view token) const;
  size_t vocab_size() const { return tokens_.size(); }

 private:
  void encode_piece(const std::u32string& piece, std::vector<int32_t>& out) const;
  std::vector<int32_t> bpe(const std::string& bytes) const;

  std::vector<std::string> tokens_;                     // id -> byte-symbol spelling
  std::unordered_map<std::string_view, int32_t> ids_;   // spelling (viewing tokens_) -> id; the last id wins, as in a dict
  std::unordered_map<uint64_t, uint32_t> merge_ranks_;  // (left id << 32 | right id) -> rank
  std::vector<int32_t> merge_results_;                  // rank -> id of the merged symbol
  int32_t byte_ids_[256] = {};                          // byte -> id of its symbol
  int32_t byte_end_ids_[256] = {};                      // byte -> id of its symbol + "</w>"

  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;  // piece bytes -> ids
};

// CLIPTokenizer's text clean-up before splitting: ftfy.fix_text, every
// whitespace run -> one space, strip, lower-case. Exposed for tests.
std::u32string clip_clean_text(std::u32string_view text);

}  // namespace sd
