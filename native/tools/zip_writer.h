// A minimal zip writer for sd-driver's test checkpoints (not part of the
// engine): stored entries only, streamed, with zip64 records when sizes or
// offsets pass 4 GiB, and data aligned to 64 bytes the way torch.save does
// (padding in an extra field), so the written file loads zero-copy.
#pragma once

#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace sd {

class ZipWriter {
 public:
  explicit ZipWriter(const std::string& path);

  // Writes one stored entry of exactly `size` bytes; `produce(write)` must
  // call write(data, n) with the bytes in order.
  using Sink = std::function<void(const void* data, size_t n)>;
  void add(const std::string& name, uint64_t size, const std::function<void(const Sink&)>& produce);
  void add(const std::string& name, const std::string& bytes);
  // Writes the central directory; the archive is complete after this.
  void finish();

 private:
  struct Entry {
    std::string name;
    uint32_t crc = 0;
    uint64_t size = 0;
    uint64_t offset = 0;
  };
  void put(const void* data, size_t n);
  void put16(uint16_t v);
  void put32(uint32_t v);
  void put64(uint64_t v);

  std::string path_;
  std::ofstream out_;
  uint64_t pos_ = 0;
  std::vector<Entry> entries_;
};

}  // namespace sd
