// Block::scan_spans: the raw-span scan of one block. Version 2 blocks are
// read page by page: the in-memory page index drops pages outside the time
// window or without the asked service / span classes, the filter columns
// (start, service, classes, trace id) are decoded first, and the remaining
// columns and dictionary pages only for pages holding a matching row.
#include <memory>
#include <vector>

#include "server/store/block_pages.h"
#include "server/store/block_reader.h"
#include "server/store/block_writer.h"
#include "server/store/span_table.h"

namespace pyrometer::server::store {

Status Block::scan_spans_whole(const SpanFilter& f,
                               const std::function<bool(const SpanRow&)>& visit,
                               bool* stopped) const {
  Table t(&span_schema());
  Status s = read_table(BlockTable::kSpans, &t);
  if (!s.ok()) return s;
  ResolvedSpanFilter rf = resolve_span_filter(t, f);
  SpanRow row;
  for (size_t r = 0; r < t.rows() && !rf.impossible; ++r) {
    if (!span_matches(t, r, rf) || !materialize_span(t, r, &row).ok()) continue;
    if (!visit(row)) {
      *stopped = true;
      break;
    }
  }
  return Status::ok_status();
}

Status Block::scan_spans(const SpanFilter& f, const std::function<bool(const SpanRow&)>& visit,
                         bool* stopped) const {
  *stopped = false;
  if (meta_.span_rows == 0) return Status::ok_status();
  if (meta_.version < 2) return scan_spans_whole(f, visit, stopped);

  uint64_t service_bit = 0;
  uint32_t service_id = 0;
  if (!f.service.empty() && !page_index_.service(f.service, &service_bit, &service_id)) {
    return Status::ok_status();
  }
  std::vector<size_t> pages;
  const auto& summaries = page_index_.pages();
  for (size_t p = 0; p < summaries.size(); ++p) {
    const SpanPageSummary& s = summaries[p];
    if (s.max_start < f.start_unix_nano || s.min_start >= f.end_unix_nano) continue;
    if (service_bit != 0 && (s.service_mask & service_bit) == 0) continue;
    if (f.any_of != 0 && (s.classes & f.any_of) == 0) continue;
    pages.push_back(p);
  }
  if (pages.empty()) return Status::ok_status();

  // Name and route filters look strings up by value: they need the whole
  // dictionary. Every other scan fetches dictionary pages on demand.
  const bool by_value = !f.name.empty() || !f.route.empty();
  std::shared_ptr<Dictionary> dict;
  Status s;
  if (by_value) {
    s = read_dict("spans", &dict);
  } else {
    std::shared_ptr<PagedDictionary> paged;
    s = PagedDictionary::open(dir_ + "/spans.dict", &paged);
    if (s.ok()) dict = PagedDictionary::lazy(paged);
  }
  if (!s.ok()) return s;
  ResolvedSpanFilter rf;
  if (by_value) {
    Table probe(&span_schema(), dict);
    rf = resolve_span_filter(probe, f);
    if (rf.impossible) return Status::ok_status();
  }

  const TableSchema& schema = span_schema();
  const size_t n_cols = schema.columns.size();
  std::vector<std::unique_ptr<ColumnPageReader>> readers(n_cols + 1);  // + classes
  auto reader = [&](size_t c, ColumnPageReader** out) -> Status {
    if (!readers[c]) {
      auto r = std::make_unique<ColumnPageReader>();
      std::string name = c < n_cols ? std::string(schema.name) + "." + schema.columns[c].name
                                    : std::string("spans.classes");
      Status st = r->open(dir_ + "/" + name);
      if (st.ok() && r->header().rows != meta_.span_rows) {
        st = Status::corruption(name + ": row count differs from the other columns");
      }
      if (!st.ok()) return st;
      readers[c] = std::move(r);
    }
    *out = readers[c].get();
    return Status::ok_status();
  };
  auto read = [&](size_t c, size_t p, Column* col) -> Status {
    ColumnPageReader* r;
    Status st = reader(c, &r);
    if (st.ok()) {
      st = r->read_page(p, c < n_cols ? schema.columns[c] : span_classes_schema().columns[0], col);
    }
    return st;
  };

  const uint32_t page_rows = page_index_.page_rows();
  std::vector<uint32_t> hits;
  SpanRow row;
  for (size_t p : pages) {
    size_t n = std::min<uint64_t>(page_rows, meta_.span_rows - p * page_rows);
    Table t(&schema, dict);
    // Filter columns first; a page without a matching row costs only these.
    std::vector<bool> decoded(n_cols, false);
    Column classes;
    s = read(kSpanStart, p, &t.col(kSpanStart));
    decoded[kSpanStart] = true;
    if (s.ok() && service_bit != 0) {
      s = read(kSpanService, p, &t.col(kSpanService));
      decoded[kSpanService] = true;
    }
    if (s.ok() && f.any_of != 0) s = read(n_cols, p, &classes);
    if (s.ok() && (f.trace_ids != nullptr || f.ids_only)) {
      s = read(kSpanTraceId, p, &t.col(kSpanTraceId));
      decoded[kSpanTraceId] = true;
    }
    if (!s.ok()) return s;
    hits.clear();
    const auto& start = t.col(kSpanStart).ints;
    for (size_t r = 0; r < n; ++r) {
      if (start[r] < f.start_unix_nano || start[r] >= f.end_unix_nano) continue;
      if (service_bit != 0 && t.col(kSpanService).ints[r] != service_id) continue;
      if (f.any_of != 0 && (classes.ints[r] & f.any_of) == 0) continue;
      if (f.trace_ids != nullptr &&
          f.trace_ids->find(std::string_view(t.col(kSpanTraceId).bytes).substr(r * 16, 16)) ==
              f.trace_ids->end()) {
        continue;
      }
      hits.push_back(static_cast<uint32_t>(r));
    }
    if (hits.empty()) continue;
    if (f.ids_only && !by_value) {
      for (uint32_t r : hits) {
        row.trace_id.assign(std::string_view(t.col(kSpanTraceId).bytes).substr(r * 16, 16));
        row.start_time_unix_nano = start[r];
        if (!visit(row)) {
          *stopped = true;
          return Status::ok_status();
        }
      }
      continue;
    }
    // Columns of skipped fields stay empty; materialize_span does not read them.
    auto skipped = [&](size_t c) {
      return ((f.skip_fields & kSpanFieldResource) && c == kSpanResource) ||
             ((f.skip_fields & kSpanFieldExtras) && c == kSpanExtras) ||
             ((f.skip_fields & kSpanFieldScope) && (c == kSpanScopeName || c == kSpanScopeVersion));
    };
    for (size_t c = 0; s.ok() && c < n_cols; ++c) {
      if (!decoded[c] && !(skipped(c) && !by_value)) s = read(c, p, &t.col(static_cast<int>(c)));
    }
    if (!s.ok()) return s;
    t.set_rows(n);
    apply_bases(&t, 0);
    for (uint32_t r : hits) {
      if (by_value && !span_matches(t, r, rf)) continue;
      s = materialize_span(t, r, &row, by_value ? 0 : f.skip_fields);
      if (s.ok() && dict->failed()) s = Status::corruption("unreadable dictionary page");
      if (!s.ok()) return Status::corruption(dir_ + ": " + s.message());
      if (!visit(row)) {
        *stopped = true;
        return Status::ok_status();
      }
    }
  }
  return Status::ok_status();
}

}  // namespace pyrometer::server::store
