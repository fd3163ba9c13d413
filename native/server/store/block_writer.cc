// Block writer implementation: sort, re-dictionary, encode columns, fsync,
// rename. Spans are sorted by start into segments and by trace id inside
// each: the trace-id column stays a run-length list (one 16-byte id per
// trace), a trace's spans stay in one page, and time windows skip segments.
#include "server/store/block_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <set>

#include "server/store/block_page_index.h"
#include "server/store/column_codec.h"
#include "server/store/column_file.h"
#include "server/store/crc32c.h"
#include "server/store/log_table.h"
#include "server/store/metric_table.h"
#include "server/store/profile_trace_file.h"
#include "server/store/span_table.h"
#include "server/store/trace_index.h"

namespace pyrometer::server::store {
namespace {

Status write_synced(FileOps* ops, const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::io_error("create " + path + ": " + std::strerror(errno));
  Status s = ops->write_all(fd, data, path);
  if (s.ok()) s = ops->sync(fd, path);
  ::close(fd);
  return s;
}

Status copy_rows(const Table& src, const std::vector<uint32_t>& perm, Table* out) {
  for (uint32_t r : perm) {
    Status s = out->append_from(src, r);
    if (!s.ok()) return s;
  }
  return Status::ok_status();
}

template <typename Less>
Status sorted_copy(const Table& src, Less less, Table* out) {
  std::vector<uint32_t> perm(src.rows());
  std::iota(perm.begin(), perm.end(), 0);
  std::stable_sort(perm.begin(), perm.end(), less);
  return copy_rows(src, perm, out);
}

// Version 2 span order: by start, cut into segments of kSpanSegmentPages
// pages, each segment re-sorted by (trace id, start). Version 1: (trace id, start).
Status sort_spans(const Table& t, uint16_t version, Table* out) {
  const std::string& ids = t.col(kSpanTraceId).bytes;
  auto by_trace = [&](uint32_t a, uint32_t b) {
    int c = std::memcmp(ids.data() + a * 16ull, ids.data() + b * 16ull, 16);
    return c != 0 ? c < 0 : t.int_at(kSpanStart, a) < t.int_at(kSpanStart, b);
  };
  std::vector<uint32_t> perm(t.rows());
  std::iota(perm.begin(), perm.end(), 0);
  if (version < 2) {
    std::stable_sort(perm.begin(), perm.end(), by_trace);
    return copy_rows(t, perm, out);
  }
  std::stable_sort(perm.begin(), perm.end(), [&](uint32_t a, uint32_t b) {
    return t.int_at(kSpanStart, a) < t.int_at(kSpanStart, b);
  });
  const size_t seg = static_cast<size_t>(kSpanSegmentPages) * kPageRows;
  for (size_t b = 0; b < perm.size(); b += seg) {
    auto end = perm.begin() + static_cast<ptrdiff_t>(std::min(perm.size(), b + seg));
    std::stable_sort(perm.begin() + static_cast<ptrdiff_t>(b), end, by_trace);
  }
  return copy_rows(t, perm, out);
}

}  // namespace

const TableSchema& span_classes_schema() {
  static const TableSchema kSchema{"spans", {{"classes", ColumnKind::kInt}}};
  return kSchema;
}

void encode_blob_file(std::string_view raw, std::string* out) {
  size_t start = out->size();
  put_fixed32(out, kBlobFileMagic);
  out->push_back(static_cast<char>(kBlobFileVersion & 0xff));
  out->push_back(static_cast<char>(kBlobFileVersion >> 8));
  out->append(2, '\0');
  put_fixed64(out, raw.size());
  zstd_compress(raw, kZstdLevel, out);
  put_fixed32(out, crc32c(std::string_view(*out).substr(start)));
}

Status decode_blob_file(std::string_view file, std::string* raw) {
  if (file.size() < 20 || get_fixed32(file.data()) != kBlobFileMagic) {
    return Status::corruption("blob file: bad magic");
  }
  if (crc32c(file.substr(0, file.size() - 4)) != get_fixed32(file.data() + file.size() - 4)) {
    return Status::corruption("blob file: checksum mismatch");
  }
  uint64_t n = get_fixed64(file.data() + 8);
  if (n > (1ull << 32)) return Status::corruption("blob file: size");
  return zstd_decompress(file.substr(16, file.size() - 20), n, raw);
}

std::string block_dir_name(uint64_t id) {
  char name[24];
  std::snprintf(name, sizeof name, "%016" PRIx64, id);
  return name;
}

void remove_dir(const std::string& dir) {
  if (DIR* d = ::opendir(dir.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      ::unlink((dir + "/" + n).c_str());
    }
    ::closedir(d);
  }
  ::rmdir(dir.c_str());
}

Status write_block(const std::string& blocks_dir, uint64_t id, const BlockInput& in, FileOps* ops,
                   BlockMeta* meta) {
  *meta = BlockMeta();
  meta->id = id;
  meta->wal_seq_end = in.wal_seq_end;
  meta->parents = in.parents;
  meta->min_time = UINT64_MAX;
  meta->max_time = 0;
  auto widen = [&](uint64_t t) {
    meta->min_time = std::min(meta->min_time, t);
    meta->max_time = std::max(meta->max_time, t);
  };

  // Sort and rebuild dictionaries (only strings still referenced survive).
  Table spans(&span_schema()), logs(&log_schema()), metrics(&metric_schema());
  Status s;
  const uint16_t version = in.format_version;
  meta->version = version;
  if (in.spans) {
    s = sort_spans(*in.spans, version, &spans);
    if (!s.ok()) return s;
  }
  if (in.logs && s.ok()) {
    const Table& t = *in.logs;
    s = sorted_copy(
        t, [&](uint32_t a, uint32_t b) { return t.int_at(kLogTime, a) < t.int_at(kLogTime, b); },
        &logs);
    if (!s.ok()) return s;
  }
  if (in.metrics) {
    const Table& t = *in.metrics;
    s = sorted_copy(
        t,
        [&](uint32_t a, uint32_t b) {
          std::string_view na = t.str_at(kMetName, a), nb = t.str_at(kMetName, b);
          if (na != nb) return na < nb;
          return t.int_at(kMetTime, a) < t.int_at(kMetTime, b);
        },
        &metrics);
    if (!s.ok()) return s;
  }

  std::string tmp_dir = blocks_dir + "/" + block_dir_name(id) + ".tmp";
  std::string final_dir = blocks_dir + "/" + block_dir_name(id);
  remove_dir(tmp_dir);
  if (::mkdir(tmp_dir.c_str(), 0755) != 0) {
    return Status::io_error("mkdir " + tmp_dir + ": " + std::strerror(errno));
  }
  auto put_file = [&](const std::string& name, std::string_view data) {
    Status st = write_synced(ops, tmp_dir + "/" + name, data);
    if (st.ok()) meta->files.push_back({name, data.size(), crc32c(data)});
    return st;
  };
  std::string buf;
  std::set<std::string> services;
  auto write_table = [&](const Table& t, int rle_col) -> Status {
    if (t.rows() == 0) return Status::ok_status();
    std::string name = t.schema().name;
    buf.clear();
    encode_dictionary_file(t.dict(), &buf);
    Status st = put_file(name + ".dict", buf);
    for (size_t c = 0; st.ok() && c < t.schema().columns.size(); ++c) {
      buf.clear();
      encode_column_file(t, static_cast<int>(c), static_cast<int>(c) == rle_col, &buf);
      st = put_file(name + "." + t.schema().columns[c].name, buf);
    }
    return st;
  };

  s = write_table(spans, kSpanTraceId);
  if (s.ok() && spans.rows() > 0) {
    TraceIndex idx =
        TraceIndex::build(spans, kSpanTraceId, kPageRows, version < 2 ? 0 : kSpanSegmentPages);
    meta->trace_count = idx.trace_count();
    buf.clear();
    idx.serialize(&buf, version < 2 ? 1 : kTraceIndexVersion);
    s = put_file("spans.trace_index", buf);
    if (s.ok() && version >= 2) {
      Table classes(&span_classes_schema());
      auto& col = classes.col(0).ints;
      col.reserve(spans.rows());
      for (size_t r = 0; r < spans.rows(); ++r) col.push_back(span_classes(spans, r));
      classes.set_rows(spans.rows());
      buf.clear();
      encode_column_file(classes, 0, false, &buf);
      s = put_file("spans.classes", buf);
      if (s.ok()) {
        buf.clear();
        SpanPageIndex::build(spans, col, kPageRows).serialize(&buf);
        s = put_file("spans.page_index", buf);
      }
    }
    std::set<std::string> names;
    for (size_t r = 0; r < spans.rows(); ++r) {
      widen(spans.int_at(kSpanStart, r));
      services.emplace(spans.str_at(kSpanService, r));
      if (names.size() <= kMetaMaxNames) names.emplace(spans.str_at(kSpanName, r));
    }
    meta->names_complete = names.size() <= kMetaMaxNames;
    if (!meta->names_complete) names.erase(std::prev(names.end()));
    meta->span_names.assign(names.begin(), names.end());
  }
  if (s.ok()) s = write_table(logs, -1);
  for (size_t r = 0; r < logs.rows(); ++r) {
    widen(logs.int_at(kLogTime, r));
    services.emplace(logs.str_at(kLogService, r));
  }
  if (s.ok()) s = write_table(metrics, -1);
  for (size_t r = 0; r < metrics.rows(); ++r) {
    widen(metrics.int_at(kMetTime, r));
    services.emplace(metrics.str_at(kMetService, r));
  }
  if (s.ok() && in.rollups && in.rollups->size() > 0) {
    std::string raw;
    in.rollups->serialize(&raw);
    buf.clear();
    encode_blob_file(raw, &buf);
    s = put_file("rollups", buf);
    widen(in.rollups->min_minute());
    widen(in.rollups->max_minute());
    meta->rollup_rows = in.rollups->size();
  }
  // The per-trace index goes to its own file (a trace lookup then reads one
  // chunk of it instead of decompressing `profiles`); legacy_profile_traces
  // keeps the older layout with the index inside `profiles`.
  bool separate_traces =
      !in.legacy_profile_traces && in.profiles && !in.profiles->trace_index().empty();
  if (s.ok() && in.profiles && in.profiles->size() > 0) {
    std::string raw;
    in.profiles->serialize(&raw, !separate_traces);
    buf.clear();
    encode_blob_file(raw, &buf);
    s = put_file("profiles", buf);
    widen(in.profiles->min_minute());
    widen(in.profiles->max_minute());
    meta->profile_rows = in.profiles->size();
  }
  if (s.ok() && separate_traces) {
    write_profile_trace_file(in.profiles->trace_index(), &buf);
    s = put_file(std::string(kProfileTraceFileName), buf);
  }
  meta->span_rows = spans.rows();
  meta->log_rows = logs.rows();
  meta->metric_rows = metrics.rows();
  meta->services.assign(services.begin(), services.end());
  if (meta->min_time > meta->max_time) meta->min_time = meta->max_time = 0;
  if (s.ok()) {
    buf.clear();
    meta->serialize(&buf);
    s = write_synced(ops, tmp_dir + "/meta", buf);
  }
  if (s.ok()) s = sync_dir(tmp_dir);
  if (s.ok() && ::rename(tmp_dir.c_str(), final_dir.c_str()) != 0) {
    s = Status::io_error("rename " + tmp_dir + ": " + std::strerror(errno));
  }
  if (s.ok()) s = sync_dir(blocks_dir);
  if (!s.ok()) remove_dir(tmp_dir);
  return s;
}

}  // namespace pyrometer::server::store
