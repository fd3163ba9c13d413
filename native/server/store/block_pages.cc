// Page-level reads of column and dictionary files (pread + CRC + zstd).
#include "server/store/block_pages.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace pyrometer::server::store {

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

void apply_bases(Table* t, size_t from_row) {
  const auto& cols = t->schema().columns;
  for (size_t c = 0; c < cols.size(); ++c) {
    if (cols[c].kind != ColumnKind::kInt || cols[c].base_column < 0) continue;
    auto& v = t->col(static_cast<int>(c)).ints;
    const auto& base = t->col(cols[c].base_column).ints;
    for (size_t r = from_row; r < v.size() && r < base.size(); ++r) v[r] += base[r];
  }
}

ColumnPageReader::~ColumnPageReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status ColumnPageReader::open(const std::string& path) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd_ < 0) return Status::corruption("cannot open " + path + ": " + std::strerror(errno));
  std::string head;
  size_t needed = kColumnHeaderSize;
  for (int attempt = 0; attempt < 2; ++attempt) {
    Status s = pread_all(fd_, 0, needed, &head, path);
    if (s.ok()) s = parse_column_header(head, &header_, &needed);
    if (!s.ok()) return Status::corruption(path + ": " + s.message());
    if (head.size() >= needed) return Status::ok_status();
  }
  return Status::corruption(path + ": column header size");
}

Status ColumnPageReader::read_page(size_t p, const ColumnSpec& spec, Column* col) {
  if (p >= header_.pages.size()) return Status::corruption(path_ + ": page index past directory");
  Status s = pread_all(fd_, header_.pages[p].offset, header_.pages[p].stored_len, &stored_, path_);
  if (s.ok()) s = decode_column_page(header_, p, stored_, spec, col);
  return s.ok() ? s : Status::corruption(path_ + ": " + s.message());
}

Status PagedDictionary::open(const std::string& path, std::shared_ptr<PagedDictionary>* out) {
  auto d = std::make_shared<PagedDictionary>();
  Status s = d->reader_.open(path);
  if (s.ok() && d->reader_.header().kind != static_cast<uint8_t>(ColumnKind::kBlob)) {
    s = Status::corruption(path + ": dictionary kind");
  }
  if (!s.ok()) return s;
  *out = std::move(d);
  return Status::ok_status();
}

bool PagedDictionary::fetch(uint32_t id, std::string_view* out) {
  size_t page = id / reader_.header().page_rows;
  auto it = pages_.find(page);
  if (it == pages_.end()) {
    Column col;
    if (!reader_.read_page(page, dictionary_file_schema().columns[0], &col).ok()) return false;
    it = pages_.emplace(page, std::move(col)).first;
  }
  size_t idx = id % reader_.header().page_rows;
  if (idx >= it->second.ends.size()) return false;
  *out = it->second.blob(idx);
  return true;
}

std::shared_ptr<Dictionary> PagedDictionary::lazy(const std::shared_ptr<PagedDictionary>& self) {
  auto dict = std::make_shared<Dictionary>();
  dict->set_lazy(self->size(),
                 [self](uint32_t id, std::string_view* v) { return self->fetch(id, v); });
  return dict;
}

}  // namespace pyrometer::server::store
