#include "tools/zip_writer.h"

#include "core/error.h"
#include "io/inflate.h"

namespace sd {

namespace {
constexpr uint32_t kSaturated32 = 0xffffffffu;
constexpr uint64_t kAlign = 64;
}  // namespace

ZipWriter::ZipWriter(const std::string& path) : path_(path), out_(path, std::ios::binary | std::ios::trunc) {
  SD_CHECK(out_.good(), "cannot create ", path);
}

void ZipWriter::put(const void* data, size_t n) {
  out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(n));
  SD_CHECK(out_.good(), "writing ", path_, " failed (disk full?)");
  pos_ += n;
}
void ZipWriter::put16(uint16_t v) {
  const uint8_t b[2] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8)};
  put(b, 2);
}
void ZipWriter::put32(uint32_t v) {
  put16(static_cast<uint16_t>(v));
  put16(static_cast<uint16_t>(v >> 16));
}
void ZipWriter::put64(uint64_t v) {
  put32(static_cast<uint32_t>(v));
  put32(static_cast<uint32_t>(v >> 32));
}

void ZipWriter::add(const std::string& name, const std::string& bytes) {
  add(name, bytes.size(), [&](const Sink& write) { write(bytes.data(), bytes.size()); });
}

void ZipWriter::add(const std::string& name, uint64_t size, const std::function<void(const Sink&)>& produce) {
  Entry e;
  e.name = name;
  e.size = size;
  e.offset = pos_;
  const bool zip64 = size >= kSaturated32;
  // Local header, then extra fields: zip64 sizes when needed, then "FB"
  // padding (torch's id 0x4246) so the data starts on a 64-byte boundary.
  const uint64_t fixed = 30 + name.size() + (zip64 ? 20 : 0);
  uint64_t pad = (kAlign - (pos_ + fixed + 4) % kAlign) % kAlign;
  const uint16_t extra_len = static_cast<uint16_t>((zip64 ? 20 : 0) + 4 + pad);
  put32(0x04034b50);
  put16(zip64 ? 45 : 20);
  put16(0x0800);  // UTF-8 names
  put16(0);       // stored
  put16(0);
  put16(0);
  put32(0);  // CRC, patched below
  put32(zip64 ? kSaturated32 : static_cast<uint32_t>(size));
  put32(zip64 ? kSaturated32 : static_cast<uint32_t>(size));
  put16(static_cast<uint16_t>(name.size()));
  put16(extra_len);
  put(name.data(), name.size());
  if (zip64) {
    put16(0x0001);
    put16(16);
    put64(size);
    put64(size);
  }
  put16(0x4246);
  put16(static_cast<uint16_t>(pad));
  const std::string zeros(static_cast<size_t>(pad), 'Z');
  put(zeros.data(), zeros.size());

  uint64_t written = 0;
  uint32_t crc = 0;
  produce([&](const void* data, size_t n) {
    crc = crc32(static_cast<const uint8_t*>(data), n, crc);
    put(data, n);
    written += n;
  });
  SD_CHECK(written == size, "internal: entry ", name, " wrote ", written, " bytes, declared ", size);
  e.crc = crc;
  const auto end = out_.tellp();
  out_.seekp(static_cast<std::streamoff>(e.offset + 14));
  const uint8_t b[4] = {static_cast<uint8_t>(crc), static_cast<uint8_t>(crc >> 8), static_cast<uint8_t>(crc >> 16),
                        static_cast<uint8_t>(crc >> 24)};
  out_.write(reinterpret_cast<const char*>(b), 4);
  out_.seekp(end);
  SD_CHECK(out_.good(), "writing ", path_, " failed");
  entries_.push_back(std::move(e));
}

void ZipWriter::finish() {
  const uint64_t directory_offset = pos_;
  for (const Entry& e : entries_) {
    const bool big_size = e.size >= kSaturated32, big_offset = e.offset >= kSaturated32;
    const uint16_t zip64_len = static_cast<uint16_t>((big_size ? 16 : 0) + (big_offset ? 8 : 0));
    put32(0x02014b50);
    put16(45);  // made by: spec 4.5
    put16(zip64_len ? 45 : 20);
    put16(0x0800);
    put16(0);
    put16(0);
    put16(0);
    put32(e.crc);
    put32(big_size ? kSaturated32 : static_cast<uint32_t>(e.size));
    put32(big_size ? kSaturated32 : static_cast<uint32_t>(e.size));
    put16(static_cast<uint16_t>(e.name.size()));
    put16(zip64_len ? static_cast<uint16_t>(4 + zip64_len) : 0);
    put16(0);  // comment
    put16(0);  // disk
    put16(0);
    put32(0);
    put32(big_offset ? kSaturated32 : static_cast<uint32_t>(e.offset));
    put(e.name.data(), e.name.size());
    if (zip64_len) {
      put16(0x0001);
      put16(zip64_len);
      if (big_size) {
        put64(e.size);
        put64(e.size);
      }
      if (big_offset) put64(e.offset);
    }
  }
  const uint64_t directory_size = pos_ - directory_offset;
  const bool zip64 = directory_offset >= kSaturated32 || entries_.size() >= 0xffff;
  if (zip64) {
    const uint64_t record = pos_;
    put32(0x06064b50);
    put64(44);
    put16(45);
    put16(45);
    put32(0);
    put32(0);
    put64(entries_.size());
    put64(entries_.size());
    put64(directory_size);
    put64(directory_offset);
    put32(0x07064b50);
    put32(0);
    put64(record);
    put32(1);
  }
  put32(0x06054b50);
  put16(0);
  put16(0);
  put16(zip64 ? 0xffff : static_cast<uint16_t>(entries_.size()));
  put16(zip64 ? 0xffff : static_cast<uint16_t>(entries_.size()));
  put32(zip64 ? kSaturated32 : static_cast<uint32_t>(directory_size));
  put32(zip64 ? kSaturated32 : static_cast<uint32_t>(directory_offset));
  put16(0);
  out_.flush();
  SD_CHECK(out_.good(), "writing ", path_, " failed (disk full?)");
  out_.close();
}

}  // namespace sd
