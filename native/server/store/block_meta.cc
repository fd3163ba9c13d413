// Block meta encoding: header, varint fields, CRC32C trailer.
#include "server/store/block_meta.h"

#include "server/store/column_codec.h"
#include "server/store/crc32c.h"

namespace pyrometer::server::store {

uint64_t BlockMeta::disk_bytes() const {
  uint64_t n = 0;
  for (const auto& f : files) n += f.size;
  return n + 512;  // meta itself, roughly
}

const BlockFile* BlockMeta::file(std::string_view name) const {
  for (const auto& f : files) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

void BlockMeta::serialize(std::string* out) const {
  size_t start = out->size();
  put_fixed32(out, kBlockMetaMagic);
  out->push_back(static_cast<char>(version & 0xff));
  out->push_back(static_cast<char>(version >> 8));
  out->append(2, '\0');
  for (uint64_t v : {id, min_time, max_time, wal_seq_end, span_rows, log_rows, metric_rows,
                     trace_count, rollup_rows, profile_rows}) {
    put_varint(out, v);
  }
  put_varint(out, services.size());
  for (const auto& s : services) put_bytes(out, s);
  put_varint(out, span_names.size());
  for (const auto& s : span_names) put_bytes(out, s);
  out->push_back(names_complete ? 1 : 0);
  put_varint(out, files.size());
  for (const auto& f : files) {
    put_bytes(out, f.name);
    put_varint(out, f.size);
    put_fixed32(out, f.crc);
  }
  put_varint(out, parents.size());
  for (uint64_t p : parents) put_varint(out, p);
  put_fixed32(out, crc32c(std::string_view(*out).substr(start)));
}

Status BlockMeta::parse(std::string_view in) {
  if (in.size() < 12 || get_fixed32(in.data()) != kBlockMetaMagic) {
    return Status::corruption("block meta: bad magic");
  }
  if (crc32c(in.substr(0, in.size() - 4)) != get_fixed32(in.data() + in.size() - 4)) {
    return Status::corruption("block meta: checksum mismatch");
  }
  version = static_cast<uint16_t>(static_cast<uint8_t>(in[4]) | (static_cast<uint8_t>(in[5]) << 8));
  if (version != 1 && version != 2) return Status::corruption("block meta: unknown version");
  ByteReader r(in.substr(8, in.size() - 12));
  for (uint64_t* v : {&id, &min_time, &max_time, &wal_seq_end, &span_rows, &log_rows, &metric_rows,
                      &trace_count, &rollup_rows, &profile_rows}) {
    if (!r.varint(v)) return Status::corruption("block meta truncated");
  }
  auto strings = [&](std::vector<std::string>* out) {
    uint64_t n;
    if (!r.varint(&n) || n > in.size()) return false;
    out->clear();
    for (uint64_t i = 0; i < n; ++i) {
      std::string_view s;
      if (!r.bytes(&s)) return false;
      out->emplace_back(s);
    }
    return true;
  };
  std::string_view flag;
  if (!strings(&services) || !strings(&span_names) || !r.raw(1, &flag)) {
    return Status::corruption("block meta summary truncated");
  }
  names_complete = flag[0] != 0;
  uint64_t n;
  if (!r.varint(&n) || n > 1024) return Status::corruption("block meta file table");
  files.clear();
  for (uint64_t i = 0; i < n; ++i) {
    BlockFile f;
    std::string_view name;
    if (!r.bytes(&name) || !r.varint(&f.size) || !r.fixed32(&f.crc)) {
      return Status::corruption("block meta file table truncated");
    }
    f.name.assign(name);
    files.push_back(std::move(f));
  }
  if (!r.varint(&n) || n > 1u << 20) return Status::corruption("block meta parents");
  parents.resize(n);
  for (auto& p : parents) {
    if (!r.varint(&p)) return Status::corruption("block meta parents truncated");
  }
  return Status::ok_status();
}

}  // namespace pyrometer::server::store
