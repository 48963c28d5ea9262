// A read-only memory map of a whole file. Checkpoints are read through it so
// that loading never holds a second copy of the file in anonymous memory, and
// pages already converted can be handed back to the OS (release()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace sd {

class MappedFile {
 public:
  explicit MappedFile(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

  // Drops the pages of [offset, offset + length) from this process's memory
  // (they are re-read from disk if touched again). Keeps peak RSS at about one
  // tensor while a multi-GB checkpoint is converted.
  void release(size_t offset, size_t length) const;

 private:
  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
#ifdef _WIN32
  void* file_ = nullptr;
  void* mapping_ = nullptr;
#endif
};

}  // namespace sd
