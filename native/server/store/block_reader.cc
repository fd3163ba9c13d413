// Block reader implementation. Page reads use pread on the column files, so a
// trace lookup reads a few KB per column instead of whole files.
#include "server/store/block_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "server/store/block_writer.h"
#include "server/store/column_file.h"
#include "server/store/crc32c.h"
#include "server/store/file_ops.h"
#include "server/store/log_table.h"
#include "server/store/metric_table.h"
#include "server/store/span_table.h"

namespace pyrometer::server::store {
namespace {

const TableSchema& schema_of(BlockTable t) {
  switch (t) {
    case BlockTable::kSpans:
      return span_schema();
    case BlockTable::kLogs:
      return log_schema();
    default:
      return metric_schema();
  }
}

// Undo "value - base" for columns stored relative to another column.
void apply_bases(Table* t, size_t from_row) {
  const auto& cols = t->schema().columns;
  for (size_t c = 0; c < cols.size(); ++c) {
    if (cols[c].kind != ColumnKind::kInt || cols[c].base_column < 0) continue;
    auto& v = t->col(static_cast<int>(c)).ints;
    const auto& base = t->col(cols[c].base_column).ints;
    for (size_t r = from_row; r < v.size() && r < base.size(); ++r) v[r] += base[r];
  }
}

Status pread_all(int fd, uint64_t off, size_t n, std::string* out, const std::string& path) {
  out->resize(n);
  size_t got = 0;
  while (got < n) {
    ssize_t k = ::pread(fd, out->data() + got, n - got, static_cast<off_t>(off + got));
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return Status::io_error("pread " + path + ": " + std::strerror(errno));
    if (k == 0) return Status::corruption("short file " + path);
    got += static_cast<size_t>(k);
  }
  return Status::ok_status();
}

// Reads and checks the header + page directory of an open column file.
Status read_column_header(int fd, const std::string& path, ColumnHeader* h) {
  std::string head;
  size_t needed = kColumnHeaderSize;
  for (int attempt = 0; attempt < 2; ++attempt) {
    Status s = pread_all(fd, 0, needed, &head, path);
    if (s.ok()) s = parse_column_header(head, h, &needed);
    if (!s.ok()) return s;
    if (head.size() >= needed) return Status::ok_status();
  }
  return Status::corruption("column header size");
}

// A dictionary file read page by page on demand (find_trace), so a lookup
// costs the pages its rows reference, not the whole dictionary.
class PagedDictionary {
 public:
  static Status open(const std::string& path, std::shared_ptr<PagedDictionary>* out) {
    auto d = std::make_shared<PagedDictionary>();
    d->path_ = path;
    d->fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (d->fd_ < 0) return Status::corruption("cannot open " + path + ": " + std::strerror(errno));
    Status s = read_column_header(d->fd_, path, &d->header_);
    if (s.ok() && d->header_.kind != static_cast<uint8_t>(ColumnKind::kBlob)) {
      s = Status::corruption("dictionary kind");
    }
    if (!s.ok()) return Status::corruption(path + ": " + s.message());
    *out = std::move(d);
    return Status::ok_status();
  }
  ~PagedDictionary() {
    if (fd_ >= 0) ::close(fd_);
  }
  size_t size() const { return header_.rows; }
  bool fetch(uint32_t id, std::string_view* out) {
    size_t page = id / header_.page_rows;
    auto it = pages_.find(page);
    if (it == pages_.end()) {
      if (page >= header_.pages.size()) return false;
      std::string stored;
      Column col;
      Status s = pread_all(fd_, header_.pages[page].offset, header_.pages[page].stored_len, &stored,
                           path_);
      if (s.ok())
        s = decode_column_page(header_, page, stored, dictionary_file_schema().columns[0], &col);
      if (!s.ok()) return false;
      it = pages_.emplace(page, std::move(col)).first;
    }
    size_t idx = id % header_.page_rows;
    if (idx >= it->second.ends.size()) return false;
    *out = it->second.blob(idx);
    return true;
  }

 private:
  std::string path_;
  int fd_ = -1;
  ColumnHeader header_;
  std::unordered_map<size_t, Column> pages_;  // node-based: views stay valid
};

}  // namespace

Status Block::open(const std::string& dir, std::shared_ptr<Block>* out) {
  auto b = std::make_shared<Block>();
  b->dir_ = dir;
  std::string data;
  Status s = read_file(dir + "/meta", &data);
  if (!s.ok())
    return s.code() == Status::Code::kNotFound ? Status::corruption("missing meta in " + dir) : s;
  s = b->meta_.parse(data);
  if (!s.ok()) return Status::corruption(dir + ": " + s.message());
  if (b->meta_.span_rows > 0) {
    s = b->read_checked("spans.trace_index", &data);
    if (s.ok()) s = b->index_.parse(data);
    if (!s.ok()) return Status::corruption(dir + ": " + s.message());
  }
  *out = std::move(b);
  return Status::ok_status();
}

bool Block::has_service(std::string_view s) const {
  return std::find(meta_.services.begin(), meta_.services.end(), s) != meta_.services.end();
}

bool Block::may_have_span_name(std::string_view name) const {
  if (!meta_.names_complete) return true;
  return std::find(meta_.span_names.begin(), meta_.span_names.end(), name) !=
         meta_.span_names.end();
}

Status Block::read_checked(const std::string& name, std::string* data) const {
  const BlockFile* f = meta_.file(name);
  if (!f) return Status::corruption(dir_ + ": meta lists no file " + name);
  Status s = read_file(dir_ + "/" + name, data);
  if (!s.ok())
    return s.code() == Status::Code::kNotFound ? Status::corruption("missing " + dir_ + "/" + name)
                                               : s;
  if (data->size() != f->size || crc32c(*data) != f->crc) {
    return Status::corruption(dir_ + "/" + name + ": checksum mismatch");
  }
  return Status::ok_status();
}

Status Block::read_dict(const std::string& table, std::shared_ptr<Dictionary>* out) const {
  std::string file;
  Status s = read_checked(table + ".dict", &file);
  if (!s.ok()) return s;
  auto d = std::make_shared<Dictionary>();
  s = decode_dictionary_file(file, d.get());
  if (!s.ok()) return Status::corruption(dir_ + "/" + table + ".dict: " + s.message());
  *out = std::move(d);
  return Status::ok_status();
}

Status Block::read_table(BlockTable which, Table* out) const {
  const TableSchema& schema = schema_of(which);
  uint64_t rows = which == BlockTable::kSpans  ? meta_.span_rows
                  : which == BlockTable::kLogs ? meta_.log_rows
                                               : meta_.metric_rows;
  if (rows == 0) return Status::ok_status();
  std::shared_ptr<Dictionary> dict;
  Status s = read_dict(schema.name, &dict);
  if (!s.ok()) return s;
  Table t(&schema, dict);
  std::string data;
  for (size_t c = 0; c < schema.columns.size(); ++c) {
    std::string name = std::string(schema.name) + "." + schema.columns[c].name;
    s = read_checked(name, &data);
    if (!s.ok()) return s;
    ColumnHeader h;
    size_t needed;
    s = parse_column_header(data, &h, &needed);
    if (s.ok() && (data.size() < needed || h.rows != rows)) s = Status::corruption("column header");
    for (size_t p = 0; s.ok() && p < h.pages.size(); ++p) {
      const ColumnPage& pg = h.pages[p];
      if (pg.offset > data.size() || pg.stored_len > data.size() - pg.offset) {
        s = Status::corruption("page past end of file");
        break;
      }
      s = decode_column_page(h, p, std::string_view(data).substr(pg.offset, pg.stored_len),
                             schema.columns[c], &t.col(static_cast<int>(c)));
    }
    if (!s.ok()) return Status::corruption(dir_ + "/" + name + ": " + s.message());
  }
  t.set_rows(rows);
  apply_bases(&t, 0);
  *out = std::move(t);
  return Status::ok_status();
}

Status Block::read_pages(const TableSchema& schema, size_t first, size_t last, Table* out) const {
  size_t rows = 0;
  for (size_t c = 0; c < schema.columns.size(); ++c) {
    std::string path = dir_ + "/" + schema.name + "." + schema.columns[c].name;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::corruption("cannot open " + path + ": " + std::strerror(errno));
    ColumnHeader h;
    Status s = read_column_header(fd, path, &h);
    if (s.ok() && (h.pages.empty() || last >= h.pages.size())) s = Status::corruption("page index");
    std::string stored;
    for (size_t p = first; s.ok() && p <= last; ++p) {
      s = pread_all(fd, h.pages[p].offset, h.pages[p].stored_len, &stored, path);
      if (s.ok())
        s = decode_column_page(h, p, stored, schema.columns[c], &out->col(static_cast<int>(c)));
    }
    ::close(fd);
    if (!s.ok()) return Status::corruption(path + ": " + s.message());
    size_t col_rows = std::min<size_t>(h.rows, (last + 1) * h.page_rows) - first * h.page_rows;
    if (c == 0) rows = col_rows;
    // Every column must hold the same rows, or materialising would misread.
    if (col_rows != rows || h.rows != meta_.span_rows) {
      return Status::corruption(path + ": row count differs from the other columns");
    }
  }
  out->set_rows(rows);
  apply_bases(out, 0);
  return Status::ok_status();
}

Status Block::find_trace(std::string_view trace_id, std::vector<SpanRow>* out) const {
  if (trace_id.size() != 16 || meta_.span_rows == 0 || !index_.may_contain(trace_id)) {
    return Status::ok_status();
  }
  size_t first, last;
  if (!index_.pages_for(trace_id, &first, &last)) return Status::ok_status();
  std::shared_ptr<PagedDictionary> paged;
  Status s = PagedDictionary::open(dir_ + "/spans.dict", &paged);
  if (!s.ok()) return s;
  auto dict = std::make_shared<Dictionary>();
  dict->set_lazy(paged->size(),
                 [paged](uint32_t id, std::string_view* v) { return paged->fetch(id, v); });
  Table t(&span_schema(), dict);
  s = read_pages(span_schema(), first, last, &t);
  if (!s.ok()) return s;
  for (size_t r = 0; r < t.rows(); ++r) {
    if (t.fixed_at(kSpanTraceId, r) != trace_id) continue;
    SpanRow row;
    s = materialize_span(t, r, &row);
    if (s.ok() && dict->failed()) s = Status::corruption("unreadable dictionary page");
    if (!s.ok()) return Status::corruption(dir_ + ": " + s.message());
    out->push_back(std::move(row));
  }
  return Status::ok_status();
}

Status Block::read_rollups(RollupSet* out) const {
  if (meta_.rollup_rows == 0) return Status::ok_status();
  std::string file, raw;
  Status s = read_checked("rollups", &file);
  if (s.ok()) s = decode_blob_file(file, &raw);
  if (s.ok()) s = out->parse(raw);
  return s.ok() ? s : Status::corruption(dir_ + "/rollups: " + s.message());
}

Status Block::read_profiles(ProfileSet* out) const {
  if (meta_.profile_rows == 0) return Status::ok_status();
  std::string file, raw;
  Status s = read_checked("profiles", &file);
  if (s.ok()) s = decode_blob_file(file, &raw);
  if (s.ok()) s = out->parse(raw);
  return s.ok() ? s : Status::corruption(dir_ + "/profiles: " + s.message());
}

Status Block::verify() const {
  std::string data;
  for (const auto& f : meta_.files) {
    Status s = read_checked(f.name, &data);
    if (!s.ok()) return s;
  }
  return Status::ok_status();
}

}  // namespace pyrometer::server::store
