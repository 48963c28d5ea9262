// How attention packs V for the AVX-512 P*V kernel. The head's columns go in
// chunks of 16-lane vectors, each chunk a [nk][16 * vectors] block the kernel
// streams while its accumulators hold `rows` query rows. Chunks fit the head
// width instead of a 32-column GEMM panel: SD's 40-wide heads would otherwise
// compute 64 columns for 40 (37.5% of the P*V work wasted).
#pragma once

#include <cstdint>
#include <vector>

namespace sd {

struct ValueChunk {
  int64_t col0;  // first head column
  int vectors;   // 16-lane vectors across
  int rows;      // query rows per register tile: rows * vectors accumulators
};

inline int value_tile_rows(int vectors) { return vectors == 5 ? 5 : vectors == 3 ? 8 : 14; }

inline std::vector<ValueChunk> value_chunks(int64_t dim) {
  const int total = static_cast<int>((dim + 15) / 16);
  std::vector<ValueChunk> chunks;
  int done = 0;
  const auto add = [&](int n) {
    chunks.push_back({int64_t{done} * 16, n, value_tile_rows(n)});
    done += n;
  };
  if (total == 1 || total == 3 || total == 5) {
    add(total);
    return chunks;
  }
  if (total % 2 == 1) add(3);
  while (done < total) add(2);
  return chunks;
}

// Floats in a packed V of nk keys: every chunk is nk rows of its width.
inline int64_t packed_values_floats(int64_t nk, int64_t dim) { return nk * ((dim + 15) / 16 * 16); }

}  // namespace sd
