// DEFLATE (RFC 1951) and gzip (RFC 1952) decoding without zlib, so the addon
// builds anywhere with nothing but a compiler. Output is bounded: a stream
// that would inflate past `max_output` is refused (zip-bomb defence).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace sd {

// Decodes a raw DEFLATE stream. Throws sd::Error if it is malformed, if it
// needs more than `max_output` bytes, or if `expected_size` (when not
// SIZE_MAX) does not match.
std::vector<uint8_t> inflate_raw(const uint8_t* data, size_t size, size_t max_output,
                                 size_t expected_size = SIZE_MAX);
// Same, into a caller-provided buffer of exactly `out_size` bytes.
void inflate_raw_into(const uint8_t* data, size_t size, uint8_t* out, size_t out_size);

// Decodes a .gz file (one member), verifying its CRC-32 and length.
std::vector<uint8_t> gunzip(const uint8_t* data, size_t size, size_t max_output);

uint32_t crc32(const uint8_t* data, size_t size, uint32_t crc = 0);

}  // namespace sd
