// GaugeStore: series keyed by an encoding of name + sorted attributes; the
// exporter thread snapshots them under the lock and builds points outside it.
#include "agent/gauge_store.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace pyrometer::agent {
namespace {

bool is_scalar(const AttrValue& v) { return !std::holds_alternative<std::vector<AttrScalar>>(v); }

// Type tag + bytes, so 1 (int), 1.0 (double), "1" and true are distinct series.
void encode_value(const AttrValue& v, std::string* out) {
  std::visit(
      [out](const auto& x) {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<X, std::string>) {
          out->push_back('s');
          out->append(std::to_string(x.size()));
          out->push_back(':');
          out->append(x);
        } else if constexpr (std::is_same_v<X, int64_t>) {
          out->push_back('i');
          out->append(std::to_string(x));
        } else if constexpr (std::is_same_v<X, double>) {
          char buf[sizeof(double)];
          std::memcpy(buf, &x, sizeof buf);
          out->push_back('d');
          out->append(buf, sizeof buf);
        } else if constexpr (std::is_same_v<X, bool>) {
          out->push_back(x ? 'T' : 'F');
        }
      },
      v);
}

// Length-prefixed fields: no separator byte can make two series collide.
std::string series_key(std::string_view name, const std::vector<Attribute>& attrs) {
  std::string key;
  key.append(std::to_string(name.size())).push_back(':');
  key.append(name);
  for (const Attribute& a : attrs) {
    key.append(std::to_string(a.key.size())).push_back(':');
    key.append(a.key);
    encode_value(a.value, &key);
  }
  return key;
}

// Sorted by key; of repeated keys the last one given wins.
void canonicalise(std::vector<Attribute>* attrs) {
  std::stable_sort(attrs->begin(), attrs->end(),
                   [](const Attribute& a, const Attribute& b) { return a.key < b.key; });
  std::vector<Attribute> out;
  out.reserve(attrs->size());
  for (Attribute& a : *attrs) {
    if (!out.empty() && out.back().key == a.key) {
      out.back() = std::move(a);
    } else {
      out.push_back(std::move(a));
    }
  }
  attrs->swap(out);
}

const char* reason(GaugeRecordResult why) {
  switch (why) {
    case GaugeRecordResult::kSeriesLimit:
      return "series limit reached; new series are dropped until old ones go stale";
    case GaugeRecordResult::kInvalid:
      return "invalid reading (empty or long name, non-finite value, too many or non-scalar "
             "attributes); dropped";
    case GaugeRecordResult::kConflict:
      return "name already used by a metric of another type; dropped";
    case GaugeRecordResult::kRecorded:
      break;
  }
  return "";
}

}  // namespace

void GaugeStore::refuse(GaugeRecordResult why, std::string_view name) {
  dropped_.fetch_add(1, std::memory_order_relaxed);
  if (diag_ == nullptr) return;
  // Once per kind, not per name: a runaway caller must not fill the once-set.
  diag_->error("gauge." + std::to_string(static_cast<int>(why)),
               "gauges: " + std::string(name.substr(0, 80)) + ": " + reason(why));
}

GaugeRecordResult GaugeStore::record(std::string_view name, GaugeValue value,
                                     std::vector<Attribute> attributes, std::string_view unit,
                                     uint64_t now_unix_nano) {
  bool valid = !name.empty() && name.size() <= kMaxNameBytes &&
               attributes.size() <= kMaxAttributes &&
               (value.is_int || std::isfinite(value.as_double));
  for (const Attribute& a : attributes) valid = valid && !a.key.empty() && is_scalar(a.value);
  std::string key;
  if (valid) {
    canonicalise(&attributes);
    key = series_key(name, attributes);
    valid = key.size() <= kMaxSeriesKeyBytes;
  }
  if (!valid) {
    refuse(GaugeRecordResult::kInvalid, name);
    return GaugeRecordResult::kInvalid;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = series_.find(key);
    if (it != series_.end()) {
      it->second.value = value;
      it->second.updated_unix_nano = now_unix_nano;
      return GaugeRecordResult::kRecorded;
    }
    if (series_.size() < max_series_) {
      Series& s = series_[std::move(key)];
      s.name.assign(name);
      s.unit.assign(unit);
      s.attributes = std::move(attributes);
      s.value = value;
      s.updated_unix_nano = now_unix_nano;
      return GaugeRecordResult::kRecorded;
    }
  }
  refuse(GaugeRecordResult::kSeriesLimit, name);  // outside mu_: diagnostics locks first at fork
  return GaugeRecordResult::kSeriesLimit;
}

void GaugeStore::collect(MetricsBuilder* out, uint64_t /*start_ns*/, uint64_t now_ns) {
  std::vector<std::pair<std::string, Series>> live;  // (series key, series)
  {
    std::lock_guard<std::mutex> lock(mu_);
    live.reserve(series_.size());
    for (auto it = series_.begin(); it != series_.end();) {
      const Series& s = it->second;
      if (now_ns > s.updated_unix_nano && now_ns - s.updated_unix_nano > stale_after_ns_) {
        it = series_.erase(it);
      } else {
        live.emplace_back(it->first, s);
        ++it;
      }
    }
  }
  // Stable output: grouped by name (one Metric each), then by attributes.
  std::sort(live.begin(), live.end(), [](const auto& a, const auto& b) {
    if (a.second.name != b.second.name) return a.second.name < b.second.name;
    return a.first < b.first;
  });
  MetricsBuilder::Attrs attrs;
  for (size_t begin = 0, end = 0; begin < live.size(); begin = end) {
    const std::string& name = live[begin].second.name;
    std::string_view unit;  // the first series of the name that has a unit gives it
    for (end = begin; end < live.size() && live[end].second.name == name; ++end) {
      if (unit.empty()) unit = live[end].second.unit;
    }
    otlp::Metric* m = out->metric(name, unit, "", otlp::Metric::Type::kGauge);
    if (m->type != otlp::Metric::Type::kGauge) {
      refuse(GaugeRecordResult::kConflict, name);
      continue;
    }
    for (size_t i = begin; i < end; ++i) {
      const Series& s = live[i].second;
      attrs.clear();
      // Views into `live`, which outlives the builder calls; strings are copied.
      for (const Attribute& a : s.attributes) attrs.push_back({a.key, to_any_value(a.value)});
      if (s.value.is_int) {
        out->add_gauge_int(name, unit, "", s.value.as_int, attrs, now_ns);
      } else {
        out->add_gauge(name, unit, "", s.value.as_double, attrs, now_ns);
      }
    }
  }
}

size_t GaugeStore::series() const {
  std::lock_guard<std::mutex> lock(mu_);
  return series_.size();
}

void GaugeStore::reset_in_child() {
  // Called with mu_ held by lock_for_fork in the forking thread.
  series_.clear();
  dropped_.store(0, std::memory_order_relaxed);
  mu_.unlock();
}

}  // namespace pyrometer::agent
