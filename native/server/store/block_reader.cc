// Block reader implementation. Page reads use pread on the column files, so a
// trace lookup reads a few KB per column instead of whole files.
#include "server/store/block_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <unordered_map>

#include "server/store/block_pages.h"
#include "server/store/block_writer.h"
#include "server/store/column_file.h"
#include "server/store/crc32c.h"
#include "server/store/file_ops.h"
#include "server/store/log_table.h"
#include "server/store/metric_table.h"
#include "server/store/profile_trace_file.h"
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
    if (b->meta_.version >= 2) {
      s = b->read_checked("spans.page_index", &data);
      if (s.ok()) s = b->page_index_.parse(data);
      // spans.classes is small (a few bytes per page once compressed): check
      // it whole here, since scans without span classes never read it.
      if (s.ok()) s = b->read_checked("spans.classes", &data);
      if (s.ok() &&
          b->page_index_.pages().size() != (b->meta_.span_rows + kPageRows - 1) / kPageRows) {
        s = Status::corruption("span page index: page count");
      }
      if (!s.ok()) return Status::corruption(dir + ": " + s.message());
    }
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
    ColumnPageReader reader;
    Status s = reader.open(path);
    const ColumnHeader& h = reader.header();
    if (s.ok() && (h.pages.empty() || last >= h.pages.size())) s = Status::corruption("page index");
    for (size_t p = first; s.ok() && p <= last; ++p) {
      s = reader.read_page(p, schema.columns[c], &out->col(static_cast<int>(c)));
    }
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
  std::vector<std::pair<size_t, size_t>> ranges;
  index_.pages_for(trace_id, &ranges);
  if (ranges.empty()) return Status::ok_status();
  std::shared_ptr<PagedDictionary> paged;
  Status s = PagedDictionary::open(dir_ + "/spans.dict", &paged);
  if (!s.ok()) return s;
  std::shared_ptr<Dictionary> dict = PagedDictionary::lazy(paged);
  for (const auto& [first, last] : ranges) {
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

bool Block::has_profiles() const {
  return meta_.profile_rows > 0 || meta_.file(std::string(kProfileTraceFileName)) != nullptr;
}

Status Block::read_profiles(ProfileSet* out) const {
  std::string file, raw;
  if (meta_.profile_rows > 0) {
    Status s = read_checked("profiles", &file);
    if (s.ok()) s = decode_blob_file(file, &raw);
    if (s.ok()) s = out->parse(raw);
    if (!s.ok()) return Status::corruption(dir_ + "/profiles: " + s.message());
  }
  const std::string traces(kProfileTraceFileName);
  if (meta_.file(traces)) {
    Status s = read_checked(traces, &file);
    if (s.ok()) s = parse_profile_trace_file(file, out->mutable_trace_index());
    if (!s.ok()) return Status::corruption(dir_ + "/" + traces + ": " + s.message());
  }
  return Status::ok_status();
}

Status Block::read_trace_profiles(std::string_view trace_id, ProfileSet* out) const {
  const std::string traces(kProfileTraceFileName);
  if (meta_.file(traces)) {
    return read_profile_trace_file_one(dir_ + "/" + traces, trace_id, out->mutable_trace_index());
  }
  // Older layout: the index sits after the rows inside `profiles`.
  out->set_trace_only(std::string(trace_id));
  return read_profiles(out);
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
