#include "io/zip_reader.h"

#include <algorithm>
#include <cstring>
#include <new>

#include "core/error.h"
#include "io/inflate.h"

namespace sd {

namespace {

// Record signatures (APPNOTE.TXT 4.3).
constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kCentralHeader = 0x02014b50;
constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr uint16_t kZip64ExtraId = 0x0001;

constexpr size_t kLocalHeaderSize = 30;
constexpr size_t kCentralHeaderSize = 46;
constexpr size_t kEndOfDirectorySize = 22;
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EndOfDirectorySize = 56;

uint16_t u16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }
uint32_t u32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}
uint64_t u64(const uint8_t* p) { return static_cast<uint64_t>(u32(p)) | (static_cast<uint64_t>(u32(p + 4)) << 32); }

// a + b <= limit without overflowing.
bool fits(uint64_t a, uint64_t b, uint64_t limit) { return a <= limit && b <= limit - a; }

// The values a zip64 extra field replaces, in the order the format stores them.
struct Zip64Fields {
  uint64_t* size;
  uint64_t* compressed_size;
  uint64_t* offset;
  uint32_t* disk;
};

// Replaces each field saturated in the 32-bit record with its zip64 value.
// Returns false when the extra data is malformed or lacks a needed value.
bool apply_zip64_extra(const uint8_t* extra, size_t len, Zip64Fields f) {
  bool need_size = *f.size == 0xffffffffu, need_csize = *f.compressed_size == 0xffffffffu;
  bool need_offset = f.offset && *f.offset == 0xffffffffu, need_disk = f.disk && *f.disk == 0xffffu;
  size_t pos = 0;
  while (pos + 4 <= len) {
    const uint16_t id = u16(extra + pos);
    const size_t size = u16(extra + pos + 2);
    if (pos + 4 + size > len) return false;
    if (id == kZip64ExtraId) {
      const uint8_t* p = extra + pos + 4;
      size_t left = size;
      const auto take64 = [&](uint64_t* out) {
        if (left < 8) return false;
        *out = u64(p);
        p += 8;
        left -= 8;
        return true;
      };
      if (need_size && !take64(f.size)) return false;
      if (need_csize && !take64(f.compressed_size)) return false;
      if (need_offset && !take64(f.offset)) return false;
      if (need_disk) {
        if (left < 4) return false;
        *f.disk = u32(p);
      }
      need_size = need_csize = need_offset = need_disk = false;
    }
    pos += 4 + size;
  }
  return !(need_size || need_csize || need_offset || need_disk);
}

}  // namespace

ZipReader::ZipReader(std::shared_ptr<MappedFile> file, std::string what) : file_(std::move(file)), what_(std::move(what)) {
  read_directory();
}

void ZipReader::bad(const std::string& why) const {
  fail(what_, " is not a valid PyTorch checkpoint (zip archive): ", why);
}

void ZipReader::read_directory() {
  const uint8_t* base = file_->data();
  const uint64_t size = file_->size();
  if (size < kEndOfDirectorySize) bad(concat("it is only ", size, " bytes long (truncated?)"));

  // The end-of-directory record is the last 22 bytes plus a comment of up to
  // 64 KiB; take the last candidate whose comment ends exactly at the end.
  uint64_t eocd = UINT64_MAX;
  const uint64_t lowest = size > kEndOfDirectorySize + 0xffff ? size - kEndOfDirectorySize - 0xffff : 0;
  for (uint64_t pos = size - kEndOfDirectorySize + 1; pos-- > lowest;) {
    if (u32(base + pos) == kEndOfDirectory && pos + kEndOfDirectorySize + u16(base + pos + 20) == size) {
      eocd = pos;
      break;
    }
  }
  if (eocd == UINT64_MAX) bad("no end-of-directory record at the end of the file (truncated download?)");
  const uint8_t* e = base + eocd;
  uint64_t disk = u16(e + 4), directory_disk = u16(e + 6);
  uint64_t count_here = u16(e + 8), count = u16(e + 10);
  uint64_t directory_size = u32(e + 12), directory_offset = u32(e + 16);
  uint64_t directory_limit = eocd;  // the central directory must end before this

  if (eocd >= kZip64LocatorSize && u32(base + eocd - kZip64LocatorSize) == kZip64Locator) {
    const uint8_t* loc = base + eocd - kZip64LocatorSize;
    const uint64_t record = u64(loc + 8);
    if (u32(loc + 4) != 0 || u32(loc + 16) > 1) bad("multi-part archives are not supported");
    if (!fits(record, kZip64EndOfDirectorySize, eocd - kZip64LocatorSize))
      bad(concat("the zip64 end-of-directory offset ", record, " is outside the file"));
    const uint8_t* z = base + record;
    if (u32(z) != kZip64EndOfDirectory) bad("the zip64 end-of-directory record is missing or damaged");
    const uint64_t record_size = u64(z + 4);
    if (record_size < kZip64EndOfDirectorySize - 12 || !fits(record + 12, record_size, eocd - kZip64LocatorSize))
      bad(concat("the zip64 end-of-directory record has an invalid size ", record_size));
    // The 32-bit record must repeat each value or saturate it; anything else
    // means one of the two records is damaged.
    const auto agree = [](uint64_t narrow, uint64_t saturated, uint64_t wide) { return narrow == saturated || narrow == wide; };
    if (!agree(disk, 0xffff, u32(z + 16)) || !agree(directory_disk, 0xffff, u32(z + 20)) ||
        !agree(count_here, 0xffff, u64(z + 24)) || !agree(count, 0xffff, u64(z + 32)) ||
        !agree(directory_size, 0xffffffffu, u64(z + 40)) || !agree(directory_offset, 0xffffffffu, u64(z + 48)))
      bad("its end-of-directory record and zip64 end-of-directory record disagree (the file is damaged)");
    disk = u32(z + 16);
    directory_disk = u32(z + 20);
    count_here = u64(z + 24);
    count = u64(z + 32);
    directory_size = u64(z + 40);
    directory_offset = u64(z + 48);
    directory_limit = record;
  } else if (count == 0xffff || directory_size == 0xffffffffu || directory_offset == 0xffffffffu) {
    bad("the end-of-directory record refers to a zip64 record that is missing");
  }
  if (disk != 0 || directory_disk != 0 || count_here != count) bad("multi-part archives are not supported");
  if (count > kMaxEntries) bad(concat("it claims ", count, " entries (more than ", kMaxEntries, ")"));
  if (!fits(directory_offset, directory_size, directory_limit))
    bad(concat("the central directory (", directory_size, " bytes at offset ", directory_offset,
               ") does not fit in the file (truncated?)"));
  if (count * kCentralHeaderSize > directory_size)
    bad(concat("the central directory is ", directory_size, " bytes, too small for ", count, " entries"));

  entries_.reserve(static_cast<size_t>(count));
  uint64_t pos = directory_offset;
  const uint64_t directory_end = directory_offset + directory_size;
  for (uint64_t i = 0; i < count; ++i) {
    if (!fits(pos, kCentralHeaderSize, directory_end) || u32(base + pos) != kCentralHeader)
      bad(concat("central directory entry ", i, " is damaged"));
    const uint8_t* h = base + pos;
    ZipEntry z;
    z.flags = u16(h + 8);
    z.method = u16(h + 10);
    z.crc32 = u32(h + 16);
    z.compressed_size = u32(h + 20);
    z.size = u32(h + 24);
    const size_t name_len = u16(h + 28), extra_len = u16(h + 30), comment_len = u16(h + 32);
    uint32_t start_disk = u16(h + 34);
    z.local_header_offset = u32(h + 42);
    if (!fits(pos + kCentralHeaderSize, name_len + extra_len + comment_len, directory_end))
      bad(concat("central directory entry ", i, " runs past the end of the directory"));
    z.name.assign(reinterpret_cast<const char*>(h + kCentralHeaderSize), name_len);
    if (z.name.empty()) bad(concat("central directory entry ", i, " has no name"));
    if (!apply_zip64_extra(h + kCentralHeaderSize + name_len, extra_len,
                           {&z.size, &z.compressed_size, &z.local_header_offset, &start_disk}))
      bad(concat("entry \"", z.name, "\" has a damaged zip64 extra field"));
    if (start_disk != 0) bad("multi-part archives are not supported");
    if (z.flags & 0x41) bad(concat("entry \"", z.name, "\" is encrypted"));
    if (z.method != 0 && z.method != 8)
      bad(concat("entry \"", z.name, "\" uses compression method ", z.method, " (only stored and deflate are supported)"));
    if (z.method == 0 && z.compressed_size != z.size)
      bad(concat("stored entry \"", z.name, "\" has different compressed (", z.compressed_size, ") and real (", z.size,
                 ") sizes"));
    if (z.method == 8 && z.size / kMaxDeflateRatio > z.compressed_size)
      bad(concat("entry \"", z.name, "\" claims to inflate ", z.compressed_size, " bytes to ", z.size,
                 ", more than DEFLATE can (a zip bomb?)"));
    check_local_header(z, directory_offset);
    if (!by_name_.emplace(z.name, entries_.size()).second) bad(concat("entry \"", z.name, "\" appears twice"));
    entries_.push_back(std::move(z));
    pos += kCentralHeaderSize + name_len + extra_len + comment_len;
  }
  if (pos != directory_end) bad("the central directory holds more data than its entries");

  // Overlapping entries let a small file expand into many large ones.
  std::vector<const ZipEntry*> order;
  order.reserve(entries_.size());
  for (const auto& z : entries_) order.push_back(&z);
  std::sort(order.begin(), order.end(),
            [](const ZipEntry* a, const ZipEntry* b) { return a->local_header_offset < b->local_header_offset; });
  for (size_t i = 1; i < order.size(); ++i) {
    if (order[i - 1]->data_offset + order[i - 1]->compressed_size > order[i]->local_header_offset)
      bad(concat("entries \"", order[i - 1]->name, "\" and \"", order[i]->name, "\" overlap"));
  }
}

void ZipReader::check_local_header(ZipEntry& z, uint64_t directory_start) const {
  const uint8_t* base = file_->data();
  const uint64_t off = z.local_header_offset;
  if (!fits(off, kLocalHeaderSize, directory_start) || u32(base + off) != kLocalHeader)
    bad(concat("entry \"", z.name, "\" points to offset ", off, ", where there is no local header"));
  const uint8_t* h = base + off;
  const size_t name_len = u16(h + 26), extra_len = u16(h + 28);
  if (!fits(off + kLocalHeaderSize, name_len + extra_len, directory_start))
    bad(concat("the local header of \"", z.name, "\" runs into the central directory"));
  if (name_len != z.name.size() || std::memcmp(h + kLocalHeaderSize, z.name.data(), name_len) != 0)
    bad(concat("the local header at offset ", off, " names a different file than the directory entry \"", z.name, "\""));
  if (u16(h + 8) != z.method) bad(concat("entry \"", z.name, "\" has different methods in its two headers"));
  // With a data descriptor (flag bit 3, what torch.save writes) the local
  // CRC and sizes may be zero; otherwise they must agree with the directory.
  if ((u16(h + 6) & 0x08) == 0) {
    uint64_t size = u32(h + 22), csize = u32(h + 18);
    if (!apply_zip64_extra(h + kLocalHeaderSize + name_len, extra_len, {&size, &csize, nullptr, nullptr}))
      bad(concat("the local header of \"", z.name, "\" has a damaged zip64 extra field"));
    if (u32(h + 14) != z.crc32 || size != z.size || csize != z.compressed_size)
      bad(concat("the two headers of \"", z.name, "\" disagree about its CRC or size"));
  }
  z.data_offset = off + kLocalHeaderSize + name_len + extra_len;
  if (!fits(z.data_offset, z.compressed_size, directory_start))
    bad(concat("the data of \"", z.name, "\" (", z.compressed_size, " bytes at offset ", z.data_offset,
               ") runs past the end of the file or into the directory (truncated?)"));
}

const ZipEntry* ZipReader::find(std::string_view name) const {
  const auto it = by_name_.find(std::string(name));
  return it == by_name_.end() ? nullptr : &entries_[it->second];
}

ZipData ZipReader::read(const ZipEntry& e, uint64_t max_size, bool verify_crc) const {
  const uint8_t* src = file_->data() + e.data_offset;
  if (e.size > max_size)
    fail(what_, ": entry \"", e.name, "\" is ", e.size, " bytes, more than the ", max_size, " expected");
  if (e.stored()) {
    if (verify_crc && crc32(src, static_cast<size_t>(e.size)) != e.crc32)
      fail(what_, ": entry \"", e.name, "\" fails its CRC check (the file is corrupt; download it again)");
    return ZipData(src, static_cast<size_t>(e.size));
  }
  if (e.size > kMaxInflatedBytes)
    fail(what_, ": entry \"", e.name, "\" would inflate to ", e.size, " bytes (over the ", kMaxInflatedBytes,
         "-byte limit for compressed entries)");
  const auto n = static_cast<size_t>(e.size);
  std::unique_ptr<uint8_t[]> out(new (std::nothrow) uint8_t[n == 0 ? 1 : n]);  // uninitialised: untouched pages stay free
  if (!out) fail(what_, ": not enough memory to inflate entry \"", e.name, "\" (", n, " bytes)");
  try {
    inflate_raw_into(src, static_cast<size_t>(e.compressed_size), out.get(), n);
  } catch (const Error& err) {
    fail(what_, ": entry \"", e.name, "\": ", err.what(), " (the file is corrupt; download it again)");
  }
  // Always checked here: the inflater has read every byte anyway.
  if (crc32(out.get(), n) != e.crc32)
    fail(what_, ": entry \"", e.name, "\" fails its CRC check (the file is corrupt; download it again)");
  return ZipData(std::move(out), n);
}

void ZipReader::release(const ZipEntry& e) const { file_->release(static_cast<size_t>(e.data_offset), static_cast<size_t>(e.compressed_size)); }

}  // namespace sd
