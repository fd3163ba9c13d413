// Table implementation: memory accounting and dictionary-remapping row copy
// (used when head rows become block rows and when blocks are compacted).
#include "server/store/table.h"

#include "server/store/row_codec.h"

namespace pyrometer::server::store {

size_t Table::bytes() const {
  size_t n = dict_->bytes();
  for (const auto& c : cols_) {
    n += c.ints.capacity() * sizeof(uint64_t) + c.bytes.capacity() + c.ends.capacity() * 4;
  }
  return n;
}

void Table::push_fixed(int c, std::string_view v) {
  size_t w = schema_->columns[c].width;
  std::string& b = cols_[c].bytes;
  grow(&b, w);
  b.append(v.substr(0, w));
  if (v.size() < w) b.append(w - v.size(), '\0');
}

Status Table::append_from(const Table& src, size_t row) {
  Status s = append_from_unchecked(src, row);
  if (!s.ok()) {
    // Undo the columns already pushed so every column keeps rows_ values.
    for (size_t c = 0; c < cols_.size(); ++c) {
      const ColumnSpec& spec = schema_->columns[c];
      Column& col = cols_[c];
      if (spec.kind == ColumnKind::kInt) col.ints.resize(rows_);
      if (spec.kind == ColumnKind::kFixed) col.bytes.resize(rows_ * spec.width);
      if (spec.kind == ColumnKind::kBlob) {
        col.ends.resize(rows_);
        col.bytes.resize(rows_ == 0 ? 0 : col.ends.back());
      }
    }
  }
  return s;
}

Status Table::append_from_unchecked(const Table& src, size_t row) {
  if (remap_src_ != src.dict_ || !remap_) {
    remap_src_ = src.dict_;
    remap_ = std::make_shared<DictRemap>(*src.dict_, dict_.get());
    attr_set_ids_.clear();
  }
  DictRemap& remap = *remap_;
  const size_t src_dict_size = src.dict_->size();
  std::string tmp;
  for (size_t c = 0; c < cols_.size(); ++c) {
    const ColumnSpec& spec = schema_->columns[c];
    const Column& s = src.cols_[c];
    switch (spec.kind) {
      case ColumnKind::kInt: {
        uint64_t v = s.ints[row];
        if (spec.ref == ColumnRef::kDictId) {
          // An id past the source dictionary reads as "" (Dictionary::at).
          v = v < src_dict_size ? remap.id(static_cast<uint32_t>(v)) : dict_->intern("");
        } else if (spec.ref == ColumnRef::kDictAttrSet) {
          if (attr_set_ids_.size() < src_dict_size) attr_set_ids_.resize(src_dict_size, 0);
          if (v < src_dict_size && attr_set_ids_[v] != 0) {
            v = attr_set_ids_[v] - 1;
          } else {
            tmp.clear();
            if (!remap_attrs(src.dict_->at(static_cast<uint32_t>(v)), &remap, &tmp)) {
              return Status::corruption(std::string("bad attribute set in column ") + spec.name);
            }
            uint32_t id = dict_->intern(tmp);
            if (v < src_dict_size) attr_set_ids_[v] = id + 1;
            v = id;
          }
        }
        cols_[c].ints.push_back(v);
        break;
      }
      case ColumnKind::kFixed:
        cols_[c].bytes.append(src.fixed_at(static_cast<int>(c), row));
        break;
      case ColumnKind::kBlob: {
        std::string_view in = s.blob(row);
        bool ok = true;
        tmp.clear();
        switch (spec.ref) {
          case ColumnRef::kAttrs:
            ok = remap_attrs(in, &remap, &tmp);
            break;
          case ColumnRef::kAnyValue:
            ok = remap_any(in, &remap, &tmp);
            break;
          case ColumnRef::kSpanExtras:
            ok = remap_extras(in, &remap, &tmp);
            break;
          default:
            tmp.assign(in);
        }
        if (!ok) return Status::corruption(std::string("bad encoded value in column ") + spec.name);
        push_blob(static_cast<int>(c), tmp);
        break;
      }
    }
  }
  ++rows_;
  return Status::ok_status();
}

}  // namespace pyrometer::server::store
