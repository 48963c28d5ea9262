// A read-only zip reader for PyTorch checkpoints (torch.save writes a zip
// since 1.6). The whole central directory is validated when the archive is
// opened: zip64 records, every local header, entries inside the file and not
// overlapping, sizes consistent, no encryption, only stored or deflated data,
// deflated entries no larger than DEFLATE can possibly expand (zip bombs).
// Stored entries are served straight from the memory map (zero-copy);
// deflated ones are inflated into a buffer bounded by their declared size.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/mapped_file.h"

namespace sd {

struct ZipEntry {
  std::string name;
  uint16_t method = 0;  // 0 stored, 8 deflated
  uint16_t flags = 0;
  uint32_t crc32 = 0;
  uint64_t compressed_size = 0;
  uint64_t size = 0;  // uncompressed
  uint64_t local_header_offset = 0;
  uint64_t data_offset = 0;  // first byte of the (compressed) data in the file

  bool stored() const { return method == 0; }
};

// The bytes of one entry: a view into the map for stored entries, or an
// owned buffer for inflated ones. The buffer is left uninitialised so that
// a lying size commits only the pages the inflater actually writes.
class ZipData {
 public:
  ZipData() = default;
  ZipData(const uint8_t* view, size_t size) : data_(view), size_(size) {}
  ZipData(std::unique_ptr<uint8_t[]> owned, size_t size) : owned_(std::move(owned)), data_(owned_.get()), size_(size) {}

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  std::unique_ptr<uint8_t[]> owned_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

class ZipReader {
 public:
  // Refused outright: more entries than any checkpoint has, and a bound on
  // what one deflated entry may inflate to (stored entries are not copied,
  // so they are limited only by the file).
  static constexpr size_t kMaxEntries = 1u << 20;
  static constexpr uint64_t kMaxInflatedBytes = uint64_t{8} << 30;
  // DEFLATE cannot expand by more than 1032:1 (258-byte matches coded in as
  // little as 2 bits); a larger declared ratio is a lie, i.e. a zip bomb.
  static constexpr uint64_t kMaxDeflateRatio = 1032;

  // `what` names the file in error messages.
  ZipReader(std::shared_ptr<MappedFile> file, std::string what);

  const std::vector<ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(std::string_view name) const;

  // The entry's uncompressed bytes. Deflated entries larger than `max_size`
  // are refused before inflating; `verify_crc` checks the CRC-32 (stored
  // entries: reads every byte once).
  ZipData read(const ZipEntry& e, uint64_t max_size, bool verify_crc) const;
  // Drops the entry's pages from this process's memory after use.
  void release(const ZipEntry& e) const;

  const MappedFile& file() const { return *file_; }

 private:
  [[noreturn]] void bad(const std::string& why) const;
  void read_directory();
  void check_local_header(ZipEntry& e, uint64_t directory_start) const;

  std::shared_ptr<MappedFile> file_;
  std::string what_;
  std::vector<ZipEntry> entries_;
  std::unordered_map<std::string, size_t> by_name_;
};

}  // namespace sd
