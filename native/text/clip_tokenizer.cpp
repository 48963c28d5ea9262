#include "text/clip_tokenizer.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <queue>
#include <sstream>

#include "core/error.h"
#include "io/inflate.h"
#include "text/ftfy.h"
#include "text/unicode.h"

namespace sd {

namespace {

// openai's vocabulary keeps merges[1 : 49152 - 256 - 2 + 1] of its lines.
constexpr size_t kMergeCount = 49152 - 256 - 2;
constexpr size_t kMaxVocabBytes = 64u << 20;  // the real file inflates to 3.2 MB
// Bounds the BPE cache (transformers' is unbounded); words are short, so
// 64k entries is a few MB.
constexpr size_t kMaxCacheEntries = 1u << 16;
constexpr size_t kMaxCachedPieceBytes = 256;

const std::u32string_view kStartOfTextText = U"<|startoftext|>";
const std::u32string_view kEndOfTextText = U"<|endoftext|>";

// bytes_to_unicode(): printable Latin-1 bytes stand for themselves, the other
// 68 bytes for U+0100.. in increasing byte order; the vocabulary lists the
// printable ones first.
std::vector<std::pair<uint8_t, char32_t>> byte_symbols() {
  std::vector<std::pair<uint8_t, char32_t>> symbols;
  auto printable = [](int b) { return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF); };
  for (int b = 0; b < 256; ++b)
    if (printable(b)) symbols.emplace_back(static_cast<uint8_t>(b), static_cast<char32_t>(b));
  char32_t next = 256;
  for (int b = 0; b < 256; ++b)
    if (!printable(b)) symbols.emplace_back(static_cast<uint8_t>(b), next++);
  return symbols;
}

uint64_t pair_key(int32_t left, int32_t right) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) | static_cast<uint32_t>(right);
}

// The CLIP pattern is matched case-insensitively by the `regex` module; after
// lower-casing, the only other spelling of its literal letters left is U+017F
// (long s), which case-folds to 's'.
bool literal_at(std::u32string_view text, size_t i, std::u32string_view literal) {
  if (text.size() - i < literal.size()) return false;
  for (size_t k = 0; k < literal.size(); ++k) {
    const char32_t c = text[i + k];
    if (c != literal[k] && !(literal[k] == 's' && c == 0x17F)) return false;
  }
  return true;
}

// Outside every class of the pattern: spaces, and (because of IGNORECASE)
// marks whose case variant is a letter; findall skips them.
bool unmatched(char32_t c) { return unicode::is_space(c) || unicode::is_case_variant_letter(c); }

// Length of CLIP's pattern match at i ('s|'t|'re|'ve|'m|'ll|'d and the two
// special tokens first, then [\p{L}]+, [\p{N}], [^\s\p{L}\p{N}]+); 0 where
// nothing matches.
size_t match_length(std::u32string_view text, size_t i) {
  const char32_t c = text[i];
  if (unmatched(c)) return 0;
  if (c == '<') {
    if (literal_at(text, i, kStartOfTextText)) return kStartOfTextText.size();
    if (literal_at(text, i, kEndOfTextText)) return kEndOfTextText.size();
  }
  if (c == '\'') {
    for (const std::u32string_view contraction : {U"'s", U"'t", U"'re", U"'ve", U"'m", U"'ll", U"'d"})
      if (literal_at(text, i, contraction)) return contraction.size();
  }
  size_t j = i + 1;
  if (unicode::is_letter(c)) {
    while (j < text.size() && unicode::is_letter(text[j])) ++j;
  } else if (!unicode::is_number(c)) {
    while (j < text.size() && !unmatched(text[j]) && !unicode::is_letter(text[j]) && !unicode::is_number(text[j]))
      ++j;
  }
  return j - i;
}

std::string read_file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  SD_CHECK(in.good(), "cannot read the CLIP vocabulary ", path,
           " (it ships with sd-setup as assets/bpe_simple_vocab_16e6.txt.gz)");
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::u32string clip_clean_text(std::u32string_view text) {
  const std::u32string fixed = ftfy_fix_text(text);
  // whitespace_clean: re.sub(r"\s+", " ", text).strip()
  std::u32string collapsed;
  collapsed.reserve(fixed.size());
  for (char32_t c : fixed) {
    if (unicode::is_space(c)) {
      if (!collapsed.empty() && collapsed.back() != ' ') collapsed.push_back(' ');
    } else {
      collapsed.push_back(c);
    }
  }
  if (!collapsed.empty() && collapsed.back() == ' ') collapsed.pop_back();
  return unicode::to_lower(collapsed);
}

std::unique_ptr<ClipTokenizer> ClipTokenizer::load(const std::string& gz_path) {
  const std::string gz = read_file_bytes(gz_path);
  std::vector<uint8_t> text;
  try {
    text = gunzip(reinterpret_cast<const uint8_t*>(gz.data()), gz.size(), kMaxVocabBytes);
  } catch (const Error& e) {
    fail("the CLIP vocabulary ", gz_path, " is not a readable .gz file (", e.what(),
         "); reinstall sd-setup or point to an intact bpe_simple_vocab_16e6.txt.gz");
  }
  return std::make_unique<ClipTokenizer>(
      std::string_view(reinterpret_cast<const char*>(text.data()), text.size()), gz_path);
}

ClipTokenizer::ClipTokenizer(std::string_view vocab_text, const std::string& source) {
  // Lines 1..48894 are the merges "left right"; line 0 is a header.
  std::vector<std::pair<std::string_view, std::string_view>> merges;
  merges.reserve(kMergeCount);
  size_t pos = vocab_text.find('\n');
  SD_CHECK(pos != std::string_view::npos, source, " is not a CLIP BPE vocabulary (no merge lines)");
  ++pos;
  for (size_t line = 1; merges.size() < kMergeCount; ++line) {
    SD_CHECK(pos < vocab_text.size(), source, " has only ", merges.size(), " merges; a CLIP vocabulary has ",
             kMergeCount, " (is it bpe_simple_vocab_16e6.txt.gz?)");
    size_t end = vocab_text.find('\n', pos);
    if (end == std::string_view::npos) end = vocab_text.size();
    std::string_view text = vocab_text.substr(pos, end - pos);
    pos = end + 1;
    const size_t space = text.find(' ');
    const bool ok = space != std::string_view::npos && space > 0 && space + 1 < text.size() &&
                    text.find_first_of(" \t\r", space + 1) == std::string_view::npos;
    SD_CHECK(ok, source, " line ", line + 1, " is not a merge \"left right\"");
    merges.emplace_back(text.substr(0, space), text.substr(space + 1));
  }

  const auto symbols = byte_symbols();
  tokens_.reserve(512 + merges.size() + 2);
  for (const auto& [byte, cp] : symbols) {
    std::string s;
    unicode::append_utf8(s, cp);
    tokens_.push_back(s);
  }
  for (size_t i = 0; i < 256; ++i) tokens_.push_back(tokens_[i] + "</w>");
  for (const auto& [left, right] : merges) {
    std::string joined(left);
    joined += right;
    tokens_.push_back(std::move(joined));
  }
  tokens_.emplace_back("<|startoftext|>");
  tokens_.emplace_back("<|endoftext|>");
  SD_CHECK(tokens_.size() == static_cast<size_t>(kEndOfText) + 1, "internal: CLIP vocabulary size ", tokens_.size());

  ids_.reserve(tokens_.size());
  for (size_t id = 0; id < tokens_.size(); ++id) ids_[std::string_view(tokens_[id])] = static_cast<int32_t>(id);
  for (const auto& [byte, cp] : symbols) {
    std::string s;
    unicode::append_utf8(s, cp);
    byte_ids_[byte] = ids_.at(s);
    byte_end_ids_[byte] = ids_.at(s + "</w>");
  }
  merge_ranks_.reserve(merges.size());
  merge_results_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& [left, right] = merges[rank];
    const int32_t l = token_id(left), r = token_id(right);
    SD_CHECK(l >= 0 && r >= 0, source, " line ", rank + 2, ": merge of a symbol that is not in the vocabulary");
    merge_ranks_[pair_key(l, r)] = static_cast<uint32_t>(rank);
    merge_results_.push_back(ids_.at(tokens_[512 + rank]));
  }
}

ClipTokenizer::~ClipTokenizer() = default;

int32_t ClipTokenizer::token_id(std::string_view token) const {
  const auto it = ids_.find(token);
  return it == ids_.end() ? -1 : it->second;
}

// Byte-pair merging of one piece, as openai's bpe(): while some adjacent pair
// has a merge rank, merge every occurrence of the lowest-ranked pair, left to
// right. Done with a heap of candidate pairs so that a long word costs
// O(n log n), not O(n^2): all entries of the lowest rank are taken as one
// round, in position order, which is exactly one pass of the original loop.
std::vector<int32_t> ClipTokenizer::bpe(const std::string& bytes) const {
  const size_t n = bytes.size();
  std::vector<int32_t> symbol(n);
  for (size_t i = 0; i < n; ++i) symbol[i] = byte_ids_[static_cast<uint8_t>(bytes[i])];
  symbol[n - 1] = byte_end_ids_[static_cast<uint8_t>(bytes[n - 1])];
  if (n == 1) return symbol;

  // Doubly linked list over positions; a merged symbol lives at its left position.
  std::vector<int32_t> next(n), prev(n);
  std::vector<bool> alive(n, true);
  for (size_t i = 0; i < n; ++i) {
    next[i] = i + 1 < n ? static_cast<int32_t>(i + 1) : -1;
    prev[i] = static_cast<int32_t>(i) - 1;
  }
  using Candidate = std::pair<uint32_t, int32_t>;  // (rank, left position)
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> heap;
  auto rank_at = [&](int32_t left) -> int64_t {
    if (left < 0 || !alive[left] || next[left] < 0) return -1;
    const auto it = merge_ranks_.find(pair_key(symbol[left], symbol[next[left]]));
    return it == merge_ranks_.end() ? -1 : static_cast<int64_t>(it->second);
  };
  auto push = [&](int32_t left) {
    const int64_t r = rank_at(left);
    if (r >= 0) heap.emplace(static_cast<uint32_t>(r), left);
  };
  for (size_t i = 0; i + 1 < n; ++i) push(static_cast<int32_t>(i));

  std::vector<int32_t> round;
  while (!heap.empty()) {
    const uint32_t rank = heap.top().first;
    round.clear();
    while (!heap.empty() && heap.top().first == rank) {
      round.push_back(heap.top().second);
      heap.pop();
    }
    for (const int32_t left : round) {
      if (rank_at(left) != static_cast<int64_t>(rank)) continue;  // stale: a neighbour was merged
      const int32_t right = next[left];
      symbol[left] = merge_results_[rank];
      alive[right] = false;
      next[left] = next[right];
      if (next[right] >= 0) prev[next[right]] = left;
      // The new neighbours rank above `rank` in this vocabulary, but a new
      // pair is only looked at in a later round either way, as in the original.
      push(prev[left]);
      push(left);
    }
  }
  std::vector<int32_t> ids;
  for (int32_t i = 0; i >= 0; i = next[i]) ids.push_back(symbol[i]);
  return ids;
}

void ClipTokenizer::encode_piece(const std::u32string& piece, std::vector<int32_t>& out) const {
  const std::u32string clean = clip_clean_text(piece);
  const std::u32string_view text = clean;
  size_t i = 0;
  while (i < text.size()) {
    const size_t len = match_length(text, i);
    if (len == 0) {
      ++i;
      continue;
    }
    const std::u32string_view match = text.substr(i, len);
    i += len;
    if (match == kStartOfTextText) {
      out.push_back(kStartOfText);
      continue;
    }
    if (match == kEndOfTextText) {
      out.push_back(kEndOfText);
      continue;
    }
    const std::string bytes = unicode::encode_utf8(match);
    if (bytes.size() <= kMaxCachedPieceBytes) {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      const auto it = cache_.find(bytes);
      if (it != cache_.end()) {
        out.insert(out.end(), it->second.begin(), it->second.end());
        continue;
      }
    }
    std::vector<int32_t> ids = bpe(bytes);
    out.insert(out.end(), ids.begin(), ids.end());
    if (bytes.size() <= kMaxCachedPieceBytes) {
      std::lock_guard<std::mutex> lock(cache_mutex_);
      if (cache_.size() >= kMaxCacheEntries) cache_.clear();
      cache_.emplace(bytes, std::move(ids));
    }
  }
}

std::vector<int32_t> ClipTokenizer::encode(std::string_view text) const {
  // transformers splits the special tokens out before anything else, so the
  // text between them is cleaned (and ftfy'd) piece by piece.
  const std::u32string all = unicode::decode_utf8(text);
  const std::u32string_view view = all;
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (true) {
    const size_t bos = view.find(kStartOfTextText, pos), eos = view.find(kEndOfTextText, pos);
    const size_t at = std::min(bos, eos);
    encode_piece(std::u32string(view.substr(pos, at == std::u32string_view::npos ? std::u32string_view::npos : at - pos)), ids);
    if (at == std::u32string_view::npos) break;
    ids.push_back(at == bos ? kStartOfText : kEndOfText);
    pos = at + (at == bos ? kStartOfTextText.size() : kEndOfTextText.size());
  }
  return ids;
}

std::vector<int32_t> ClipTokenizer::encode_framed(std::string_view text) const {
  const std::vector<int32_t> ids = encode(text);
  std::vector<int32_t> framed;
  framed.reserve(kContextLength);
  framed.push_back(kStartOfText);
  framed.insert(framed.end(), ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(std::min<size_t>(ids.size(), kContextLength - 2)));
  framed.push_back(kEndOfText);
  framed.resize(kContextLength, kEndOfText);
  return framed;
}

}  // namespace sd
