// Span page index: build from a block's span table, (de)serialise with CRC.
#include "server/store/block_page_index.h"

#include <algorithm>
#include <map>

#include "server/store/column_codec.h"
#include "server/store/crc32c.h"
#include "server/store/span_table.h"

namespace pyrometer::server::store {
namespace {

uint64_t bit_of(size_t i) { return uint64_t{1} << std::min(i, kPageIndexServiceBits - 1); }

}  // namespace

SpanPageIndex SpanPageIndex::build(const Table& spans, const std::vector<uint64_t>& classes,
                                   uint32_t page_rows) {
  SpanPageIndex idx;
  idx.page_rows_ = page_rows;
  std::map<std::string, uint32_t> by_name;
  for (size_t r = 0; r < spans.rows(); ++r) {
    uint32_t id = static_cast<uint32_t>(spans.int_at(kSpanService, r));
    by_name.emplace(std::string(spans.dict().at(id)), id);
  }
  std::map<uint32_t, uint64_t> bit_by_id;
  for (const auto& [name, id] : by_name) {
    bit_by_id[id] = bit_of(idx.services_.size());
    idx.services_.emplace_back(name, id);
  }
  for (size_t b = 0; b < spans.rows(); b += page_rows) {
    SpanPageSummary p;
    p.min_start = UINT64_MAX;
    for (size_t r = b; r < std::min(spans.rows(), b + page_rows); ++r) {
      uint64_t t = spans.int_at(kSpanStart, r);
      p.min_start = std::min(p.min_start, t);
      p.max_start = std::max(p.max_start, t);
      p.service_mask |= bit_by_id[static_cast<uint32_t>(spans.int_at(kSpanService, r))];
      p.classes |= static_cast<uint32_t>(classes[r]);
    }
    idx.pages_.push_back(p);
  }
  return idx;
}

bool SpanPageIndex::service(std::string_view name, uint64_t* bit, uint32_t* dict_id) const {
  auto it = std::lower_bound(services_.begin(), services_.end(), name,
                             [](const auto& e, std::string_view n) { return e.first < n; });
  if (it == services_.end() || it->first != name) return false;
  *bit = bit_of(static_cast<size_t>(it - services_.begin()));
  *dict_id = it->second;
  return true;
}

void SpanPageIndex::serialize(std::string* out) const {
  size_t start = out->size();
  put_fixed32(out, kPageIndexMagic);
  out->push_back(static_cast<char>(kPageIndexVersion & 0xff));
  out->push_back(static_cast<char>(kPageIndexVersion >> 8));
  out->append(2, '\0');
  put_fixed32(out, page_rows_);
  put_fixed32(out, static_cast<uint32_t>(pages_.size()));
  put_fixed32(out, static_cast<uint32_t>(services_.size()));
  put_fixed32(out, 0);  // reserved
  for (const auto& p : pages_) {
    put_fixed64(out, p.min_start);
    put_fixed64(out, p.max_start);
    put_fixed64(out, p.service_mask);
    put_fixed32(out, p.classes);
  }
  for (const auto& [name, id] : services_) {
    put_varint(out, id);
    put_bytes(out, name);
  }
  put_fixed32(out, crc32c(std::string_view(*out).substr(start)));
}

Status SpanPageIndex::parse(std::string_view in) {
  if (in.size() < 28 || get_fixed32(in.data()) != kPageIndexMagic) {
    return Status::corruption("span page index: bad magic");
  }
  if (crc32c(in.substr(0, in.size() - 4)) != get_fixed32(in.data() + in.size() - 4)) {
    return Status::corruption("span page index: checksum mismatch");
  }
  uint16_t version =
      static_cast<uint16_t>(static_cast<uint8_t>(in[4]) | (static_cast<uint8_t>(in[5]) << 8));
  if (version != kPageIndexVersion) return Status::corruption("span page index: unknown version");
  page_rows_ = get_fixed32(in.data() + 8);
  uint64_t n_pages = get_fixed32(in.data() + 12);
  uint64_t n_services = get_fixed32(in.data() + 16);
  if (page_rows_ == 0 || 24 + n_pages * kPageSummarySize + 4 > in.size()) {
    return Status::corruption("span page index: bad sizes");
  }
  pages_.resize(n_pages);
  const char* p = in.data() + 24;
  for (auto& pg : pages_) {
    pg.min_start = get_fixed64(p);
    pg.max_start = get_fixed64(p + 8);
    pg.service_mask = get_fixed64(p + 16);
    pg.classes = get_fixed32(p + 24);
    p += kPageSummarySize;
  }
  ByteReader r(
      in.substr(24 + n_pages * kPageSummarySize, in.size() - 4 - 24 - n_pages * kPageSummarySize));
  services_.clear();
  for (uint64_t i = 0; i < n_services; ++i) {
    uint64_t id;
    std::string_view name;
    if (!r.varint(&id) || id > UINT32_MAX || !r.bytes(&name)) {
      return Status::corruption("span page index: services truncated");
    }
    if (!services_.empty() && services_.back().first >= name) {
      return Status::corruption("span page index: services out of order");
    }
    services_.emplace_back(std::string(name), static_cast<uint32_t>(id));
  }
  if (!r.done()) return Status::corruption("span page index: trailing bytes");
  return Status::ok_status();
}

}  // namespace pyrometer::server::store
