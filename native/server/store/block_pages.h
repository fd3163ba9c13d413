// Page-level reads of a block's column files: pread one page, check its CRC,
// decode it; and a dictionary fetched page by page, so a reader of a few rows
// decodes only the dictionary pages those rows reference.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"
#include "server/store/column_file.h"
#include "server/store/table.h"

namespace pyrometer::server::store {

// Reads exactly `n` bytes at `off`; Corruption on a short file.
Status pread_all(int fd, uint64_t off, size_t n, std::string* out, const std::string& path);

// Undo "value - base" for int columns stored relative to another column,
// for rows >= from_row (the block stores duration as end - start).
void apply_bases(Table* t, size_t from_row);

// One open column file. Not thread-safe; one per reader. Owns the fd.
class ColumnPageReader {
 public:
  ColumnPageReader() = default;
  ColumnPageReader(const ColumnPageReader&) = delete;
  ColumnPageReader& operator=(const ColumnPageReader&) = delete;
  ~ColumnPageReader();
  // Opens `path` and reads + CRC-checks its header and page directory.
  Status open(const std::string& path);
  bool is_open() const { return fd_ >= 0; }
  const ColumnHeader& header() const { return header_; }
  // Appends page `p` (CRC-checked, decoded) to `col`. Corruption if p is past
  // the directory or the bytes do not match.
  Status read_page(size_t p, const ColumnSpec& spec, Column* col);

 private:
  std::string path_;
  int fd_ = -1;
  ColumnHeader header_;
  std::string stored_;
};

// A dictionary file read page by page on demand. Not thread-safe.
class PagedDictionary {
 public:
  static Status open(const std::string& path, std::shared_ptr<PagedDictionary>* out);
  size_t size() const { return reader_.header().rows; }
  // False when the page holding `id` is unreadable (the caller reports it).
  bool fetch(uint32_t id, std::string_view* out);
  // A lazy Dictionary view over this file (keeps `self` alive).
  static std::shared_ptr<Dictionary> lazy(const std::shared_ptr<PagedDictionary>& self);

 private:
  ColumnPageReader reader_;
  std::unordered_map<size_t, Column> pages_;  // node-based: views stay valid
};

}  // namespace pyrometer::server::store
