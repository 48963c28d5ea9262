#include "io/inflate.h"

#include <array>
#include <cstring>

#include "core/error.h"

namespace sd {

namespace {

// Canonical Huffman decoding table: `fast` resolves codes of up to kFastBits
// bits in one lookup; longer codes fall back to the count/symbol walk.
constexpr int kFastBits = 10;

struct Huffman {
  std::array<uint16_t, 16> count{};     // codes per length
  std::array<uint16_t, 288> symbol{};   // symbols ordered by code
  std::array<uint16_t, 1 << kFastBits> fast{};  // (length << 9) | symbol, 0 = slow path
};

class Inflater {
 public:
  Inflater(const uint8_t* in, size_t in_size, uint8_t* out, size_t out_cap, std::vector<uint8_t>* grow, size_t max_out)
      : in_(in), in_size_(in_size), out_(out), out_cap_(out_cap), grow_(grow), max_out_(max_out) {}

  size_t run() {
    int last;
    do {
      last = static_cast<int>(bits(1));
      const unsigned type = bits(2);
      if (type == 0) stored();
      else if (type == 1) codes(fixed_lit(), fixed_dist());
      else if (type == 2) dynamic();
      else fail("corrupt deflate data: invalid block type");
    } while (!last);
    return out_pos_;
  }

 private:
  const uint8_t* in_;
  size_t in_size_;
  size_t in_pos_ = 0;
  uint64_t bit_buf_ = 0;
  int bit_count_ = 0;
  uint8_t* out_;
  size_t out_cap_;
  size_t out_pos_ = 0;
  std::vector<uint8_t>* grow_;
  size_t max_out_;

  void refill() {
    while (bit_count_ <= 56) {
      if (in_pos_ < in_size_) {
        bit_buf_ |= static_cast<uint64_t>(in_[in_pos_++]) << bit_count_;
      } else if (bit_count_ == 0 || overrun_ > 8) {
        break;
      } else {
        ++overrun_;  // zero padding past the end; used only if a code really needs it
      }
      bit_count_ += 8;
    }
  }
  int overrun_ = 0;

  unsigned bits(int n) {
    if (bit_count_ < n) {
      refill();
      SD_CHECK(bit_count_ >= n, "corrupt deflate data: unexpected end of input");
    }
    const unsigned v = static_cast<unsigned>(bit_buf_ & ((1ull << n) - 1));
    bit_buf_ >>= n;
    bit_count_ -= n;
    return v;
  }

  void check_overrun() const {
    SD_CHECK(overrun_ == 0 || static_cast<size_t>(bit_count_) >= static_cast<size_t>(overrun_) * 8,
             "corrupt deflate data: unexpected end of input");
  }

  void ensure(size_t n) {
    if (out_pos_ + n <= out_cap_) return;
    SD_CHECK(grow_ != nullptr, "corrupt deflate data: more output than the declared size");
    SD_CHECK(out_pos_ + n <= max_out_, "compressed data expands past the ", max_out_, "-byte limit (zip bomb?)");
    size_t cap = out_cap_ ? out_cap_ * 2 : 1 << 16;
    while (cap < out_pos_ + n) cap *= 2;
    if (cap > max_out_) cap = max_out_;
    grow_->resize(cap);
    out_ = grow_->data();
    out_cap_ = cap;
  }

  void stored() {
    // Skip to a byte boundary: drop the partial byte, then unread whole bytes.
    bit_buf_ >>= (bit_count_ & 7);
    bit_count_ -= bit_count_ & 7;
    const unsigned len = bits(16);
    const unsigned nlen = bits(16);
    check_overrun();
    SD_CHECK(len == (~nlen & 0xffffu), "corrupt deflate data: stored block length check failed");
    ensure(len);
    size_t left = len;
    while (left > 0 && bit_count_ >= 8) {
      // Zero padding added past the input's end sits at the top of the buffer.
      SD_CHECK(bit_count_ / 8 > overrun_, "corrupt deflate data: stored block past the end of input");
      out_[out_pos_++] = static_cast<uint8_t>(bits(8));
      --left;
    }
    SD_CHECK(in_pos_ + left <= in_size_, "corrupt deflate data: stored block past the end of input");
    std::memcpy(out_ + out_pos_, in_ + in_pos_, left);
    in_pos_ += left;
    out_pos_ += left;
  }

  static void build(Huffman& h, const uint16_t* lengths, int n) {
    h.count.fill(0);
    h.fast.fill(0);
    for (int i = 0; i < n; ++i) h.count[lengths[i]]++;
    h.count[0] = 0;
    int left = 1;
    for (int len = 1; len < 16; ++len) {
      left <<= 1;
      left -= h.count[static_cast<size_t>(len)];
      SD_CHECK(left >= 0, "corrupt deflate data: over-subscribed Huffman code");
    }
    std::array<uint16_t, 16> offs{};
    for (int len = 1; len < 15; ++len) offs[static_cast<size_t>(len + 1)] = offs[static_cast<size_t>(len)] + h.count[static_cast<size_t>(len)];
    for (int i = 0; i < n; ++i)
      if (lengths[i]) h.symbol[offs[lengths[i]]++] = static_cast<uint16_t>(i);
    // Fast table: enumerate codes in canonical order, store bit-reversed.
    int code = 0, index = 0;
    for (int len = 1; len <= kFastBits; ++len) {
      for (int k = 0; k < h.count[static_cast<size_t>(len)]; ++k, ++index, ++code) {
        int rev = 0;
        for (int b = 0; b < len; ++b) rev |= ((code >> b) & 1) << (len - 1 - b);
        for (int fill = rev; fill < (1 << kFastBits); fill += 1 << len)
          h.fast[static_cast<size_t>(fill)] = static_cast<uint16_t>((len << 9) | h.symbol[static_cast<size_t>(index)]);
      }
      code <<= 1;
    }
  }

  int decode(const Huffman& h) {
    if (bit_count_ < 15) refill();
    const uint16_t entry = h.fast[bit_buf_ & ((1u << kFastBits) - 1)];
    if (entry) {
      const int len = entry >> 9;
      SD_CHECK(bit_count_ >= len, "corrupt deflate data: unexpected end of input");
      bit_buf_ >>= len;
      bit_count_ -= len;
      return entry & 0x1ff;
    }
    int code = 0, first = 0, index = 0;
    for (int len = 1; len < 16; ++len) {
      code |= static_cast<int>(bits(1));
      const int count = h.count[static_cast<size_t>(len)];
      if (code - count < first) return h.symbol[static_cast<size_t>(index + (code - first))];
      index += count;
      first += count;
      first <<= 1;
      code <<= 1;
    }
    fail("corrupt deflate data: invalid Huffman code");
  }

  const Huffman& fixed_lit() {
    static const Huffman h = [] {
      Huffman t;
      uint16_t lengths[288];
      for (int i = 0; i < 144; ++i) lengths[i] = 8;
      for (int i = 144; i < 256; ++i) lengths[i] = 9;
      for (int i = 256; i < 280; ++i) lengths[i] = 7;
      for (int i = 280; i < 288; ++i) lengths[i] = 8;
      build(t, lengths, 288);
      return t;
    }();
    return h;
  }

  const Huffman& fixed_dist() {
    static const Huffman h = [] {
      Huffman t;
      uint16_t lengths[30];
      for (auto& l : lengths) l = 5;
      build(t, lengths, 30);
      return t;
    }();
    return h;
  }

  void dynamic() {
    const int nlen = static_cast<int>(bits(5)) + 257;
    const int ndist = static_cast<int>(bits(5)) + 1;
    const int ncode = static_cast<int>(bits(4)) + 4;
    SD_CHECK(nlen <= 286 && ndist <= 30, "corrupt deflate data: bad code counts");
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    uint16_t lengths[320] = {};
    for (int i = 0; i < ncode; ++i) lengths[order[i]] = static_cast<uint16_t>(bits(3));
    Huffman lencode;
    build(lencode, lengths, 19);
    int index = 0;
    while (index < nlen + ndist) {
      int sym = decode(lencode);
      if (sym < 16) {
        lengths[index++] = static_cast<uint16_t>(sym);
        continue;
      }
      uint16_t len = 0;
      int repeat;
      if (sym == 16) {
        SD_CHECK(index > 0, "corrupt deflate data: repeat with no previous length");
        len = lengths[index - 1];
        repeat = 3 + static_cast<int>(bits(2));
      } else if (sym == 17) {
        repeat = 3 + static_cast<int>(bits(3));
      } else {
        repeat = 11 + static_cast<int>(bits(7));
      }
      SD_CHECK(index + repeat <= nlen + ndist, "corrupt deflate data: too many code lengths");
      while (repeat--) lengths[index++] = len;
    }
    SD_CHECK(lengths[256] != 0, "corrupt deflate data: no end-of-block code");
    Huffman lit, dist;
    build(lit, lengths, nlen);
    build(dist, lengths + nlen, ndist);
    codes(lit, dist);
  }

  void codes(const Huffman& lit, const Huffman& dist) {
    static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                          31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
    static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
    static const uint16_t dist_base[30] = {1,   2,   3,   4,   5,   7,    9,    13,   17,   25,   33,   49,   65,    97,    129,
                                           193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
    static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};
    for (;;) {
      const int sym = decode(lit);
      if (sym < 256) {
        ensure(1);
        out_[out_pos_++] = static_cast<uint8_t>(sym);
        continue;
      }
      if (sym == 256) {
        check_overrun();
        return;
      }
      const int li = sym - 257;
      SD_CHECK(li < 29, "corrupt deflate data: invalid length code");
      const size_t len = len_base[li] + bits(len_extra[li]);
      const int di = decode(dist);
      SD_CHECK(di < 30, "corrupt deflate data: invalid distance code");
      const size_t d = dist_base[di] + bits(dist_extra[di]);
      SD_CHECK(d <= out_pos_, "corrupt deflate data: distance reaches before the start of the output");
      ensure(len);
      uint8_t* dst = out_ + out_pos_;
      const uint8_t* src = dst - d;
      if (d >= len) {
        std::memcpy(dst, src, len);
      } else {
        for (size_t i = 0; i < len; ++i) dst[i] = src[i];  // overlapping copy repeats the pattern
      }
      out_pos_ += len;
    }
  }
};

}  // namespace

std::vector<uint8_t> inflate_raw(const uint8_t* data, size_t size, size_t max_output, size_t expected_size) {
  std::vector<uint8_t> out;
  if (expected_size != SIZE_MAX) {
    SD_CHECK(expected_size <= max_output, "declared size ", expected_size, " is over the ", max_output, "-byte limit");
    out.resize(expected_size);
    inflate_raw_into(data, size, out.data(), expected_size);
    return out;
  }
  Inflater inf(data, size, nullptr, 0, &out, max_output);
  const size_t n = inf.run();
  out.resize(n);
  return out;
}

void inflate_raw_into(const uint8_t* data, size_t size, uint8_t* out, size_t out_size) {
  Inflater inf(data, size, out, out_size, nullptr, out_size);
  const size_t n = inf.run();
  SD_CHECK(n == out_size, "corrupt deflate data: ", n, " bytes decoded, ", out_size, " declared");
}

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc) {
  // Slicing-by-8 (8 table lookups per 8 bytes): a stored multi-GB checkpoint
  // is checked at a few GB/s instead of a few hundred MB/s.
  static const auto tables = [] {
    std::array<std::array<uint32_t, 256>, 8> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i)
      for (size_t k = 1; k < 8; ++k) t[k][i] = (t[k - 1][i] >> 8) ^ t[0][t[k - 1][i] & 0xff];
    return t;
  }();
  crc = ~crc;
  while (size >= 8) {
    const uint32_t lo = crc ^ (static_cast<uint32_t>(data[0]) | (static_cast<uint32_t>(data[1]) << 8) |
                               (static_cast<uint32_t>(data[2]) << 16) | (static_cast<uint32_t>(data[3]) << 24));
    crc = tables[7][lo & 0xff] ^ tables[6][(lo >> 8) & 0xff] ^ tables[5][(lo >> 16) & 0xff] ^ tables[4][lo >> 24] ^
          tables[3][data[4]] ^ tables[2][data[5]] ^ tables[1][data[6]] ^ tables[0][data[7]];
    data += 8;
    size -= 8;
  }
  for (size_t i = 0; i < size; ++i) crc = tables[0][(crc ^ data[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

std::vector<uint8_t> gunzip(const uint8_t* data, size_t size, size_t max_output) {
  SD_CHECK(size >= 18 && data[0] == 0x1f && data[1] == 0x8b, "not a gzip file");
  SD_CHECK(data[2] == 8, "gzip: unsupported compression method");
  const uint8_t flags = data[3];
  size_t pos = 10;
  if (flags & 4) {  // FEXTRA
    SD_CHECK(pos + 2 <= size, "gzip: truncated header");
    const size_t xlen = data[pos] | (data[pos + 1] << 8);
    pos += 2 + xlen;
  }
  for (const uint8_t bit : {uint8_t{8}, uint8_t{16}}) {  // FNAME, FCOMMENT: zero-terminated
    if (flags & bit) {
      while (pos < size && data[pos] != 0) ++pos;
      ++pos;
    }
  }
  if (flags & 2) pos += 2;  // FHCRC
  SD_CHECK(pos + 8 <= size, "gzip: truncated header");
  const uint8_t* trailer = data + size - 8;
  const uint32_t want_crc = trailer[0] | (trailer[1] << 8) | (trailer[2] << 16) | (static_cast<uint32_t>(trailer[3]) << 24);
  const uint32_t want_len = trailer[4] | (trailer[5] << 8) | (trailer[6] << 16) | (static_cast<uint32_t>(trailer[7]) << 24);
  std::vector<uint8_t> out = inflate_raw(data + pos, size - 8 - pos, max_output);
  SD_CHECK(static_cast<uint32_t>(out.size()) == want_len, "gzip: length check failed (corrupt file)");
  SD_CHECK(crc32(out.data(), out.size()) == want_crc, "gzip: CRC check failed (corrupt file)");
  return out;
}

}  // namespace sd
