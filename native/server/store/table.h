// Table: the columnar layout shared by the head (in memory) and blocks (on
// disk): per-column vectors plus one string dictionary per table.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/store/column_codec.h"

namespace pyrometer::server::store {

class DictRemap;  // row_codec.h

enum class ColumnKind : uint8_t {
  kInt = 0,    // uint64 values (times, counts, dictionary ids)
  kFixed = 1,  // exactly `width` bytes per row (ids)
  kBlob = 2,   // variable bytes per row
};

// What a column's values refer to, so rows can move between dictionaries.
enum class ColumnRef : uint8_t {
  kNone = 0,
  kDictId = 1,       // kInt: id of a string in the table dictionary
  kDictAttrSet = 2,  // kInt: id of a dictionary string holding encoded attributes
  kAttrs = 3,        // kBlob: encoded attribute list (row_codec.h)
  kSpanExtras = 4,   // kBlob: encoded span events + links
  kAnyValue = 5,     // kBlob: one encoded AnyValue
};

struct ColumnSpec {
  const char* name;  // also the block file name suffix
  ColumnKind kind;
  IntEncoding encoding = IntEncoding::kVarint;  // kInt on disk
  uint8_t width = 0;                            // kFixed
  ColumnRef ref = ColumnRef::kNone;
  int base_column = -1;  // kInt: stored on disk as value - row's value of this column
};

struct TableSchema {
  const char* name;  // "spans", "logs", "metrics"
  std::vector<ColumnSpec> columns;
};

struct Column {
  std::vector<uint64_t> ints;  // kInt
  std::string bytes;           // kFixed, kBlob
  std::vector<uint32_t> ends;  // kBlob: end offset of each row in `bytes`
  std::string_view blob(size_t row) const {
    uint32_t b = row == 0 ? 0 : ends[row - 1];
    return std::string_view(bytes).substr(b, ends[row] - b);
  }
};

// Not thread-safe; the owner locks.
class Table {
 public:
  explicit Table(const TableSchema* schema)
      : schema_(schema), cols_(schema->columns.size()), dict_(std::make_shared<Dictionary>()) {}
  // A table reading a block shares the block's (immutable) dictionary.
  Table(const TableSchema* schema, std::shared_ptr<Dictionary> dict)
      : schema_(schema), cols_(schema->columns.size()), dict_(std::move(dict)) {}
  const TableSchema& schema() const { return *schema_; }
  size_t rows() const { return rows_; }
  // Approximate heap bytes, for the memory bound.
  size_t bytes() const;
  Dictionary& dict() { return *dict_; }
  const Dictionary& dict() const { return *dict_; }
  Column& col(int i) { return cols_[i]; }
  const Column& col(int i) const { return cols_[i]; }
  uint64_t int_at(int c, size_t row) const { return cols_[c].ints[row]; }
  std::string_view fixed_at(int c, size_t row) const {
    size_t w = schema_->columns[c].width;
    return std::string_view(cols_[c].bytes).substr(row * w, w);
  }
  std::string_view str_at(int c, size_t row) const {
    return dict_->at(static_cast<uint32_t>(cols_[c].ints[row]));
  }
  // Sets the row count after columns were filled directly (block reader).
  void set_rows(size_t n) { rows_ = n; }

  // Row building: push one value per column, in column order, then end_row().
  void push_int(int c, uint64_t v) {
    grow(&cols_[c].ints, 1);
    cols_[c].ints.push_back(v);
  }
  void push_fixed(int c, std::string_view v);  // padded/truncated to width
  void push_blob(int c, std::string_view v) {
    grow(&cols_[c].bytes, v.size());
    cols_[c].bytes.append(v);
    grow(&cols_[c].ends, 1);
    cols_[c].ends.push_back(static_cast<uint32_t>(cols_[c].bytes.size()));
  }

  // Capacity grows by 1/4, not the library's 2x, so one insert can raise
  // bytes() by at most a quarter: the memory bound's admission check relies
  // on that (see EmbeddedStore::append).
  static constexpr size_t kGrowthDivisor = 4;
  template <typename V>
  static void grow(V* v, size_t extra) {
    if (v->size() + extra <= v->capacity()) return;
    v->reserve(std::max(v->size() + extra, v->capacity() + v->capacity() / kGrowthDivisor + 256));
  }
  void end_row() { ++rows_; }

  // Appends row `row` of `src` (same schema), re-interning every string into
  // this table's dictionary. Corruption if src's encoded blobs are malformed.
  // Consecutive calls with the same source dictionary reuse one id mapping,
  // so each distinct string is interned once, not once per row.
  Status append_from(const Table& src, size_t row);

 private:
  Status append_from_unchecked(const Table& src, size_t row);

  const TableSchema* schema_;
  std::vector<Column> cols_;
  std::shared_ptr<Dictionary> dict_;
  size_t rows_ = 0;
  // The id mapping of the last append_from source; holding its dictionary
  // keeps the address from being reused by another one while cached.
  std::shared_ptr<const Dictionary> remap_src_;
  std::shared_ptr<DictRemap> remap_;
  std::vector<uint32_t> attr_set_ids_;  // source attribute-set id → own id + 1
};

}  // namespace pyrometer::server::store
