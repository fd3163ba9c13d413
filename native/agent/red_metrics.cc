// RED aggregation: key extraction from span attributes, striped-lock updates,
// delta export as OTLP exponential histograms and sums.
#include "agent/red_metrics.h"

#include <cstdio>
#include <functional>
#include <string_view>
#include <vector>

#include "agent/sql_fingerprint.h"

namespace pyrometer::agent {
namespace {

using common::otlp::SpanKind;
using common::otlp::StatusCode;

const AttrValue* find_attr(const SpanRecord& s, std::string_view key) {
  for (const Attribute& a : s.attributes) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

const std::string* find_str(const SpanRecord& s, std::string_view key) {
  const AttrValue* v = find_attr(s, key);
  return v ? std::get_if<std::string>(v) : nullptr;
}

int64_t find_int(const SpanRecord& s, std::string_view key) {
  const AttrValue* v = find_attr(s, key);
  if (v == nullptr) return -1;
  if (const auto* i = std::get_if<int64_t>(v)) return *i;
  if (const auto* str = std::get_if<std::string>(v)) {  // some libraries send "200"
    int64_t n = 0;
    for (char c : *str) {
      if (c < '0' || c > '9') return -1;
      n = n * 10 + (c - '0');
      if (n > 999) return -1;
    }
    return str->empty() ? -1 : n;
  }
  return -1;
}

const char* kind_name(SpanKind k) {
  switch (k) {
    case SpanKind::kServer:
      return "server";
    case SpanKind::kClient:
      return "client";
    case SpanKind::kProducer:
      return "producer";
    case SpanKind::kConsumer:
      return "consumer";
    default:
      return "internal";
  }
}

const char* family_metric(RedFamily f) {
  switch (f) {
    case RedFamily::kServer:
      return "http.server.request.duration";
    case RedFamily::kClient:
      return "http.client.request.duration";
    case RedFamily::kDb:
      return "db.client.operation.duration";
    default:
      return "pyrometer.span.duration";
  }
}

constexpr std::string_view kOther = "__other__";

}  // namespace

void RedMetrics::key_of(const SpanRecord& span, RedKey* key) {
  const std::string* db_system = find_str(span, "db.system");
  if (db_system == nullptr) db_system = find_str(span, "db.system.name");
  const std::string* host = find_str(span, "server.address");
  int64_t http_status = find_int(span, "http.response.status_code");
  key->kind = span.kind;
  key->db_system.clear();
  key->db_summary.clear();
  if (db_system != nullptr) {
    key->family = RedFamily::kDb;
    key->db_system = *db_system;
    const std::string* text = find_str(span, "db.query.text");
    if (text == nullptr) text = find_str(span, "db.statement");
    if (text != nullptr && !text->empty()) {
      uint64_t fp = sql_fingerprint(*text, key->db_system, &key->db_summary);
      char hex[17];
      std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(fp));
      key->name.assign(hex, 16);
    } else {
      const std::string* op = find_str(span, "db.operation.name");
      key->db_summary = op ? *op : span.name;
      char hex[17];
      std::snprintf(hex, sizeof(hex), "%016llx",
                    static_cast<unsigned long long>(std::hash<std::string>{}(key->db_summary)));
      key->name.assign(hex, 16);
    }
  } else if (span.kind == SpanKind::kServer) {
    key->family = RedFamily::kServer;
    const std::string* route = find_str(span, "http.route");
    key->name = route ? *route : span.name;
  } else if (span.kind == SpanKind::kClient && host != nullptr) {
    key->family = RedFamily::kClient;
    key->name = *host;
  } else {
    key->family = RedFamily::kSpan;
    key->name = span.name;
  }
  bool error = span.status_code == StatusCode::kError;
  if (http_status >= 100 && http_status <= 599) {
    char cls[4] = {static_cast<char>('0' + http_status / 100), 'x', 'x', 0};
    key->status_class = cls;
    if (span.kind == SpanKind::kServer && http_status >= 500) error = true;
    if (span.kind == SpanKind::kClient && http_status >= 400) error = true;
  } else {
    key->status_class = error ? "error" : "ok";
  }
  key->error = error;
}

uint64_t RedMetrics::hash_key(const RedKey& k) {
  std::hash<std::string_view> h;
  uint64_t x = h(k.name);
  x = x * 0x9E3779B97F4A7C15ull ^ h(k.status_class);
  x = x * 0x9E3779B97F4A7C15ull ^ h(k.db_system);
  x = x * 0x9E3779B97F4A7C15ull ^
      (static_cast<uint64_t>(k.family) << 8 | static_cast<uint64_t>(k.kind));
  return x ^ (x >> 29);
}

RedMetrics::Agg* RedMetrics::find(Shard& shard, uint64_t h, const RedKey& key, bool create) {
  // Open addressing on the 64-bit hash: a colliding different key moves on to h+1.
  for (;; ++h) {
    auto it = shard.aggs.find(h);
    if (it == shard.aggs.end()) break;
    const RedKey& k = it->second->key;
    if (k.family == key.family && k.kind == key.kind && k.name == key.name &&
        k.status_class == key.status_class && k.db_system == key.db_system) {
      return it->second.get();
    }
  }
  if (!create) return nullptr;
  common::ExpHistogram::Options window_opts;
  window_opts.max_buckets = 64;  // p99 oracle: coarse is fine, memory matters at 1000 keys
  auto agg = std::make_unique<Agg>(window_opts);
  agg->key = key;
  Agg* raw = agg.get();
  shard.aggs.emplace(h, std::move(agg));
  return raw;
}

void RedMetrics::on_span_end(const SpanRecord& span) {
  thread_local RedKey key;  // reused: no allocation once its strings have grown
  key_of(span, &key);
  double seconds = span.end_unix_nano > span.start_unix_nano
                       ? static_cast<double>(span.end_unix_nano - span.start_unix_nano) * 1e-9
                       : 0.0;
  uint64_t h = hash_key(key);
  Shard* shard = &shards_[h % kShards];
  std::unique_lock<std::mutex> lock(shard->mu);
  Agg* agg = find(*shard, h, key, false);
  if (agg == nullptr) {
    auto& n = keys_[static_cast<int>(key.family)];
    if (n.load(std::memory_order_relaxed) >= max_keys_) {
      lock.unlock();
      overflowed_.fetch_add(1, std::memory_order_relaxed);
      key.name.assign(kOther);
      if (key.family == RedFamily::kDb) key.db_summary.assign(kOther);
      h = hash_key(key);
      shard = &shards_[h % kShards];
      lock = std::unique_lock<std::mutex>(shard->mu);
    } else {
      n.fetch_add(1, std::memory_order_relaxed);
    }
    agg = find(*shard, h, key, true);
  }
  ++agg->count;
  if (key.error) ++agg->errors;
  agg->delta.record(seconds);
  agg->window.record(seconds);
  ++agg->window_count;
  if (agg->window_count >= kMinSamplesForP99 && agg->window_count % 32 == 4) {
    agg->p99_s.store(agg->window.quantile(0.99).value_or(0), std::memory_order_relaxed);
  }
}

bool RedMetrics::above_p99(const SpanRecord& span) const {
  thread_local RedKey key;
  key_of(span, &key);
  uint64_t h = hash_key(key);
  auto* self = const_cast<RedMetrics*>(this);
  Shard& shard = self->shards_[h % kShards];
  std::lock_guard<std::mutex> lock(shard.mu);
  Agg* agg = self->find(shard, h, key, false);
  if (agg == nullptr || agg->window_count < kMinSamplesForP99) return false;
  double p99 = agg->p99_s.load(std::memory_order_relaxed);
  double seconds = static_cast<double>(span.end_unix_nano - span.start_unix_nano) * 1e-9;
  return p99 > 0 && seconds > p99;
}

void RedMetrics::collect(MetricsBuilder* out, uint64_t start_ns, uint64_t now_ns) {
  struct Out {
    RedKey key;
    uint64_t errors;
    common::ExpHistogram hist;
  };
  std::vector<Out> ready;
  for (Shard& shard : shards_) {
    std::lock_guard<std::mutex> lock(shard.mu);
    for (auto& [h, agg] : shard.aggs) {
      if (agg->count == 0) continue;
      ready.push_back(Out{agg->key, agg->errors, agg->delta});
      agg->count = 0;
      agg->errors = 0;
      agg->delta.clear();
    }
  }
  for (const Out& o : ready) {
    MetricsBuilder::Attrs attrs;
    attrs.push_back({"span.kind", otlp::AnyValue::of_string(kind_name(o.key.kind))});
    switch (o.key.family) {
      case RedFamily::kServer:
        attrs.push_back({"http.route", otlp::AnyValue::of_string(o.key.name)});
        break;
      case RedFamily::kSpan:
        attrs.push_back({"pyrometer.operation", otlp::AnyValue::of_string(o.key.name)});
        break;
      case RedFamily::kClient:
        attrs.push_back({"server.address", otlp::AnyValue::of_string(o.key.name)});
        break;
      case RedFamily::kDb:
        attrs.push_back({"db.system", otlp::AnyValue::of_string(o.key.db_system)});
        attrs.push_back({"db.query.summary", otlp::AnyValue::of_string(o.key.db_summary)});
        attrs.push_back({"pyrometer.db.fingerprint", otlp::AnyValue::of_string(o.key.name)});
        break;
    }
    attrs.push_back({"status_class", otlp::AnyValue::of_string(o.key.status_class)});
    otlp::ExponentialHistogramDataPoint* p = out->add_exp_histogram(
        family_metric(o.key.family), "s", "Duration of finished spans", attrs);
    o.hist.to_otlp(p);
    p->start_time_unix_nano = start_ns;
    p->time_unix_nano = now_ns;
    out->add_sum("pyrometer.span.errors", "{span}", "Finished spans that were errors",
                 static_cast<int64_t>(o.errors), true, true, attrs, start_ns, now_ns);
  }
  uint64_t overflow = overflowed_.load(std::memory_order_relaxed);
  if (overflow != reported_overflow_) {
    out->add_sum("pyrometer.red.overflow", "{span}",
                 "Spans aggregated under __other__ because a family reached its key limit",
                 static_cast<int64_t>(overflow - reported_overflow_), true, true, {}, start_ns,
                 now_ns);
    reported_overflow_ = overflow;
  }
}

void RedMetrics::lock_for_fork() {
  for (Shard& s : shards_) s.mu.lock();
}

void RedMetrics::unlock_for_fork() {
  for (Shard& s : shards_) s.mu.unlock();
}

void RedMetrics::reset_in_child() {
  for (Shard& s : shards_) {
    s.aggs.clear();
    s.mu.unlock();
  }
  for (auto& n : keys_) n.store(0);
  overflowed_.store(0);
  reported_overflow_ = 0;
}

}  // namespace pyrometer::agent
