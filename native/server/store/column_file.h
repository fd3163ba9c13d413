// Column files: one table column on disk as independently zstd-compressed,
// CRC32C-checked pages of kPageRows rows, so a reader can decode only the
// pages it needs (find_trace touches one or two pages per column).
// Layout: docs/storage-format.md §Column file.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "server/store/table.h"

namespace pyrometer::server::store {

inline constexpr uint32_t kColumnMagic = 0x4C4F4350;  // bytes 'P','C','O','L'
inline constexpr uint16_t kColumnVersion = 1;
inline constexpr uint32_t kPageRows = 4096;
inline constexpr size_t kColumnHeaderSize = 24;
inline constexpr size_t kColumnDirEntrySize = 20;
inline constexpr int kZstdLevel = 3;

// Encodes column `c` of `t` (all rows, table order) as a column file image.
// kFixed columns flagged `rle` are run-length encoded (sorted trace ids).
void encode_column_file(const Table& t, int c, bool rle, std::string* out);

struct ColumnPage {
  uint64_t offset = 0;
  uint32_t stored_len = 0, raw_len = 0, crc = 0;
};

struct ColumnHeader {
  uint8_t kind = 0, encoding = 0;
  uint32_t rows = 0, page_rows = 0, width = 0;
  std::vector<ColumnPage> pages;
  size_t data_start = 0;  // offset of the first page
};

// Parses and CRC-checks header + page directory from the first bytes of a file.
// `have` may be a prefix of the file; Corruption if malformed, NotFound-free.
Status parse_column_header(std::string_view have, ColumnHeader* out, size_t* needed);

// Decodes page `p` (its stored bytes in `stored`) of a column with `spec`,
// appending to `col` (base-column adjustment is the caller's).
Status decode_column_page(const ColumnHeader& h, size_t p, std::string_view stored,
                          const ColumnSpec& spec, Column* col);

// Dictionaries are column files too (kind blob, one row per string, row = id),
// so a reader of a few rows fetches only the dictionary pages it needs.
const TableSchema& dictionary_file_schema();
void encode_dictionary_file(const Dictionary& d, std::string* out);
// Decodes a whole dictionary file (CRC of header and every page checked).
Status decode_dictionary_file(std::string_view file, Dictionary* out);

}  // namespace pyrometer::server::store
