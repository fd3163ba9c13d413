// Column file encoding and page decoding.
#include "server/store/column_file.h"

#include <cstring>

#include "server/store/crc32c.h"

namespace pyrometer::server::store {
namespace {

void encode_page(const Table& t, int c, bool rle, size_t begin, size_t end, std::string* raw) {
  const ColumnSpec& spec = t.schema().columns[c];
  const Column& col = t.col(c);
  switch (spec.kind) {
    case ColumnKind::kInt: {
      if (spec.base_column < 0) {
        encode_ints(col.ints, begin, end, spec.encoding, raw);
      } else {
        std::vector<uint64_t> rel(end - begin);
        const auto& base = t.col(spec.base_column).ints;
        for (size_t r = begin; r < end; ++r) rel[r - begin] = col.ints[r] - base[r];
        encode_ints(rel, 0, rel.size(), spec.encoding, raw);
      }
      break;
    }
    case ColumnKind::kFixed: {
      size_t w = spec.width;
      if (!rle) {
        raw->append(col.bytes, begin * w, (end - begin) * w);
        break;
      }
      std::string runs;
      uint64_t n_runs = 0;
      for (size_t r = begin; r < end;) {
        size_t e = r + 1;
        while (e < end && std::memcmp(col.bytes.data() + e * w, col.bytes.data() + r * w, w) == 0)
          ++e;
        runs.append(col.bytes, r * w, w);
        put_varint(&runs, e - r);
        ++n_runs;
        r = e;
      }
      put_varint(raw, n_runs);
      raw->append(runs);
      break;
    }
    case ColumnKind::kBlob: {
      for (size_t r = begin; r < end; ++r) put_varint(raw, col.blob(r).size());
      for (size_t r = begin; r < end; ++r) raw->append(col.blob(r));
      break;
    }
  }
}

}  // namespace

void encode_column_file(const Table& t, int c, bool rle, std::string* out) {
  const ColumnSpec& spec = t.schema().columns[c];
  size_t rows = t.rows();
  size_t pages = (rows + kPageRows - 1) / kPageRows;
  std::string body;
  std::vector<ColumnPage> dir(pages);
  std::string raw;
  size_t data_start = kColumnHeaderSize + pages * kColumnDirEntrySize + 4;
  for (size_t p = 0; p < pages; ++p) {
    raw.clear();
    size_t begin = p * kPageRows, end = std::min(rows, begin + kPageRows);
    encode_page(t, c, rle, begin, end, &raw);
    size_t before = body.size();
    zstd_compress(raw, kZstdLevel, &body);
    dir[p].offset = data_start + before;
    dir[p].stored_len = static_cast<uint32_t>(body.size() - before);
    dir[p].raw_len = static_cast<uint32_t>(raw.size());
    dir[p].crc = crc32c(std::string_view(body).substr(before));
  }
  size_t start = out->size();
  put_fixed32(out, kColumnMagic);
  out->push_back(static_cast<char>(kColumnVersion & 0xff));
  out->push_back(static_cast<char>(kColumnVersion >> 8));
  out->push_back(static_cast<char>(spec.kind));
  out->push_back(static_cast<char>(rle ? 0x80 | static_cast<uint8_t>(spec.encoding)
                                       : static_cast<uint8_t>(spec.encoding)));
  put_fixed32(out, static_cast<uint32_t>(rows));
  put_fixed32(out, kPageRows);
  put_fixed32(out, static_cast<uint32_t>(pages));
  put_fixed32(out, spec.width);
  for (const auto& d : dir) {
    put_fixed64(out, d.offset);
    put_fixed32(out, d.stored_len);
    put_fixed32(out, d.raw_len);
    put_fixed32(out, d.crc);
  }
  put_fixed32(out, crc32c(std::string_view(*out).substr(start)));
  out->append(body);
}

Status parse_column_header(std::string_view have, ColumnHeader* out, size_t* needed) {
  *needed = kColumnHeaderSize;
  if (have.size() < kColumnHeaderSize) return Status::ok_status();
  if (get_fixed32(have.data()) != kColumnMagic) return Status::corruption("column file: bad magic");
  uint16_t version =
      static_cast<uint16_t>(static_cast<uint8_t>(have[4]) | (static_cast<uint8_t>(have[5]) << 8));
  if (version != kColumnVersion) return Status::corruption("column file: unknown version");
  out->kind = static_cast<uint8_t>(have[6]);
  out->encoding = static_cast<uint8_t>(have[7]);
  out->rows = get_fixed32(have.data() + 8);
  out->page_rows = get_fixed32(have.data() + 12);
  uint32_t pages = get_fixed32(have.data() + 16);
  out->width = get_fixed32(have.data() + 20);
  if (out->page_rows == 0 || pages > (1u << 24) ||
      static_cast<uint64_t>(pages) * out->page_rows < out->rows) {
    return Status::corruption("column file: bad header");
  }
  *needed = kColumnHeaderSize + pages * kColumnDirEntrySize + 4;
  if (have.size() < *needed) return Status::ok_status();
  if (crc32c(have.substr(0, *needed - 4)) != get_fixed32(have.data() + *needed - 4)) {
    return Status::corruption("column file: header checksum mismatch");
  }
  out->pages.resize(pages);
  for (uint32_t p = 0; p < pages; ++p) {
    const char* e = have.data() + kColumnHeaderSize + p * kColumnDirEntrySize;
    out->pages[p] = {get_fixed64(e), get_fixed32(e + 8), get_fixed32(e + 12), get_fixed32(e + 16)};
  }
  out->data_start = *needed;
  return Status::ok_status();
}

Status decode_column_page(const ColumnHeader& h, size_t p, std::string_view stored,
                          const ColumnSpec& spec, Column* col) {
  const ColumnPage& page = h.pages[p];
  if (stored.size() != page.stored_len || crc32c(stored) != page.crc) {
    return Status::corruption("column page checksum mismatch");
  }
  if (page.raw_len > (256u << 20)) return Status::corruption("column page too large");
  std::string raw;
  Status s = zstd_decompress(stored, page.raw_len, &raw);
  if (!s.ok()) return s;
  size_t begin = p * h.page_rows;
  if (begin > h.rows) return Status::corruption("column page past end");
  size_t n = std::min<size_t>(h.rows - begin, h.page_rows);
  if (h.kind != static_cast<uint8_t>(spec.kind)) return Status::corruption("column kind mismatch");
  switch (spec.kind) {
    case ColumnKind::kInt:
      return decode_ints(raw, n, static_cast<IntEncoding>(h.encoding & 0x7f), &col->ints);
    case ColumnKind::kFixed: {
      size_t w = spec.width;
      if (h.width != w) return Status::corruption("column width mismatch");
      if (!(h.encoding & 0x80)) {
        if (raw.size() != n * w) return Status::corruption("fixed column size mismatch");
        col->bytes.append(raw);
        return Status::ok_status();
      }
      ByteReader r(raw);
      uint64_t runs, total = 0;
      if (!r.varint(&runs)) return Status::corruption("rle column truncated");
      for (uint64_t i = 0; i < runs; ++i) {
        std::string_view v;
        uint64_t len;
        if (!r.raw(w, &v) || !r.varint(&len) || len > n - total) {
          return Status::corruption("rle column truncated");
        }
        for (uint64_t k = 0; k < len; ++k) col->bytes.append(v);
        total += len;
      }
      if (total != n || !r.done()) return Status::corruption("rle column row count mismatch");
      return Status::ok_status();
    }
    case ColumnKind::kBlob: {
      ByteReader r(raw);
      std::vector<uint64_t> lens(n);
      uint64_t sum = 0;
      for (auto& l : lens) {
        if (!r.varint(&l)) return Status::corruption("blob column truncated");
        sum += l;
      }
      std::string_view data;
      if (!r.raw(sum, &data) || !r.done()) return Status::corruption("blob column size mismatch");
      size_t off = 0;
      for (uint64_t l : lens) {
        col->bytes.append(data.substr(off, l));
        col->ends.push_back(static_cast<uint32_t>(col->bytes.size()));
        off += l;
      }
      return Status::ok_status();
    }
  }
  return Status::corruption("unknown column kind");
}

const TableSchema& dictionary_file_schema() {
  static const TableSchema kSchema{"dict", {{"string", ColumnKind::kBlob}}};
  return kSchema;
}

void encode_dictionary_file(const Dictionary& d, std::string* out) {
  Table t(&dictionary_file_schema());
  for (size_t i = 0; i < d.size(); ++i) {
    t.col(0).bytes.append(d.at(static_cast<uint32_t>(i)));
    t.col(0).ends.push_back(static_cast<uint32_t>(t.col(0).bytes.size()));
    t.end_row();
  }
  encode_column_file(t, 0, false, out);
}

Status decode_dictionary_file(std::string_view file, Dictionary* out) {
  ColumnHeader h;
  size_t needed;
  Status s = parse_column_header(file, &h, &needed);
  if (s.ok() && (file.size() < needed || h.rows == 0)) s = Status::corruption("dictionary header");
  Column col;
  const ColumnSpec& spec = dictionary_file_schema().columns[0];
  for (size_t p = 0; s.ok() && p < h.pages.size(); ++p) {
    const ColumnPage& pg = h.pages[p];
    if (pg.offset > file.size() || pg.stored_len > file.size() - pg.offset) {
      return Status::corruption("dictionary page past end of file");
    }
    s = decode_column_page(h, p, file.substr(pg.offset, pg.stored_len), spec, &col);
  }
  if (!s.ok()) return s;
  *out = Dictionary();
  for (size_t i = 0; i < col.ends.size(); ++i) {
    // Strings are unique by construction; a repeat would shift every later id.
    if (out->intern(col.blob(i)) != i) return Status::corruption("dictionary repeats a string");
  }
  return Status::ok_status();
}

}  // namespace pyrometer::server::store
