// RED aggregation: key extraction from span attributes, striped-lock updates,
// delta export as OTLP exponential histograms and sums.
#include "agent/red_metrics.h"

// Inlined: the short-input path is a few instructions, not a call.
#define XXH_INLINE_ALL
#include <xxhash.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string_view>
#include <vector>

#include "agent/sql_fingerprint.h"

namespace pyrometer::agent {
namespace {

using common::otlp::SpanKind;
using common::otlp::StatusCode;

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

bool is_fingerprint_hex(const std::string& s) {
  if (s.size() != 16) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

void to_hex16(uint64_t v, char* out) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = 15; i >= 0; --i) {
    out[i] = kDigits[v & 0xF];
    v >>= 4;
  }
}

// Thread-local scratch the views of a DB key point into (valid until the
// thread's next key_view_of).
struct DbScratch {
  char hex[16];
  std::string summary;
};
DbScratch& db_scratch() {
  thread_local DbScratch s;
  return s;
}

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  return x;
}

bool same_text(const std::string& a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (b.size() > 16) return std::memcmp(a.data(), b.data(), b.size()) == 0;
  for (size_t i = 0; i < b.size(); ++i) {  // span names and routes are short: no call
    if (a[i] != b[i]) return false;
  }
  return true;
}

// Hash of everything that identifies a key (not db_text/db_summary, which
// the name already determines).
uint64_t hash_view(const RedKeyView& v) {
  uint64_t h = XXH3_64bits(v.name.data(), v.name.size());
  if (!v.db_system.empty()) h ^= mix(XXH3_64bits(v.db_system.data(), v.db_system.size()));
  return h ^ mix((static_cast<uint64_t>(v.family) << 16) | (static_cast<uint64_t>(v.kind) << 8) |
                 v.status);
}

}  // namespace

void RedMetrics::key_view_of(const SpanRecord& span, RedKeyView* v) {
  // One pass over the attributes (usually a handful): compare lengths first.
  const std::string *db_system = nullptr, *db_system_name = nullptr, *host = nullptr,
                    *route = nullptr, *text = nullptr, *statement = nullptr, *fp = nullptr,
                    *op = nullptr;
  const AttrValue* status_attr = nullptr;
  for (const Attribute& a : span.attributes) {
    const std::string_view k = a.key;
    const std::string* str = std::get_if<std::string>(&a.value);
    switch (k.size()) {
      case 9:
        if (str && k == "db.system") db_system = str;
        break;
      case 10:
        if (str && k == "http.route") route = str;
        break;
      case 12:
        if (str && k == "db.statement") statement = str;
        break;
      case 13:
        if (str && k == "db.query.text") text = str;
        break;
      case 14:
        if (str && k == "server.address") host = str;
        if (str && k == "db.system.name") db_system_name = str;
        break;
      case 17:
        if (str && k == "db.operation.name") op = str;
        break;
      case 20:
        if (str && k == "db.query.fingerprint") fp = str;
        break;
      case 25:
        if (k == "http.response.status_code") status_attr = &a.value;
        break;
      default:
        break;
    }
  }
  if (db_system == nullptr) db_system = db_system_name;
  if (text == nullptr) text = statement;
  int64_t http_status = -1;
  if (status_attr != nullptr) {
    if (const auto* i = std::get_if<int64_t>(status_attr)) {
      http_status = *i;
    } else if (const auto* str = std::get_if<std::string>(status_attr)) {
      int64_t n = 0;  // some libraries send "200"
      for (char c : *str) {
        if (c < '0' || c > '9' || (n = n * 10 + (c - '0')) > 999) {
          n = -1;
          break;
        }
      }
      http_status = str->empty() ? -1 : n;
    }
  }
  v->kind = span.kind;
  v->db_system = {};
  v->db_text = nullptr;
  v->db_summary = {};
  if (db_system != nullptr) {
    v->family = RedFamily::kDb;
    v->db_system = *db_system;
    DbScratch& scratch = db_scratch();
    if (text != nullptr && !text->empty()) {
      v->db_text = text;
      if (fp != nullptr && is_fingerprint_hex(*fp)) {
        v->name = *fp;  // the integration normalised the statement already
      } else {
        to_hex16(sql_fingerprint(*text, *db_system, &scratch.summary), scratch.hex);
        v->name = std::string_view(scratch.hex, 16);
      }
    } else {
      v->db_summary = op ? std::string_view(*op) : std::string_view(span.name);
      to_hex16(std::hash<std::string_view>{}(v->db_summary), scratch.hex);
      v->name = std::string_view(scratch.hex, 16);
    }
  } else if (span.kind == SpanKind::kServer) {
    v->family = RedFamily::kServer;
    v->name = route ? std::string_view(*route) : std::string_view(span.name);
  } else if (span.kind == SpanKind::kClient && host != nullptr) {
    v->family = RedFamily::kClient;
    v->name = *host;
  } else {
    v->family = RedFamily::kSpan;
    v->name = span.name;
  }
  bool error = span.status_code == StatusCode::kError;
  if (http_status >= 100 && http_status <= 599) {
    v->status = static_cast<uint8_t>(1 + http_status / 100);
    if (span.kind == SpanKind::kServer && http_status >= 500) error = true;
    if (span.kind == SpanKind::kClient && http_status >= 400) error = true;
  } else {
    v->status = error ? 1 : 0;
  }
  v->error = error;
  v->hash = hash_view(*v);
}

void RedMetrics::fill_key(const RedKeyView& v, RedKey* key) {
  key->family = v.family;
  key->kind = v.kind;
  key->name.assign(v.name);
  key->db_system.assign(v.db_system);
  key->db_summary.clear();
  if (v.family == RedFamily::kDb) {
    if (v.db_text != nullptr) {
      sql_fingerprint(*v.db_text, v.db_system, &key->db_summary);
    } else {
      key->db_summary.assign(v.db_summary);
    }
  }
  if (v.status >= 2) {
    char cls[4] = {static_cast<char>('0' + v.status - 1), 'x', 'x', 0};
    key->status_class = cls;
  } else {
    key->status_class = v.status == 1 ? "error" : "ok";
  }
  key->error = v.error;
}

void RedMetrics::key_of(const SpanRecord& span, RedKey* key) {
  RedKeyView v;
  key_view_of(span, &v);
  fill_key(v, key);
}

RedMetrics::RedMetrics(size_t max_keys_per_family)
    : max_keys_(max_keys_per_family),
      threads_([this](ThreadRed& t) { publish_all(t, /*evict_idle=*/false); }) {}

// ---- the thread's table ------------------------------------------------------

RedMetrics::LocalAgg* RedMetrics::ThreadRed::find(const RedKeyView& v) const {
  if (table.empty()) return nullptr;
  const size_t mask = table.size() - 1;
  for (size_t i = v.hash & mask;; i = (i + 1) & mask) {
    LocalAgg* e = table[i];
    if (e == nullptr) return nullptr;
    if (e->hash == v.hash && e->family == v.family && e->kind == v.kind && e->status == v.status &&
        same_text(e->name, v.name) &&
        (v.family != RedFamily::kDb || same_text(e->db_system, v.db_system))) {
      return e;
    }
  }
}

void RedMetrics::ThreadRed::insert(LocalAgg* e) {
  const size_t mask = table.size() - 1;
  size_t i = e->hash & mask;
  while (table[i] != nullptr) i = (i + 1) & mask;
  table[i] = e;
}

void RedMetrics::ThreadRed::rebuild() {
  size_t size = 16;
  while (size < entries.size() * 2 + 2) size *= 2;
  table.assign(size, nullptr);
  for (auto& e : entries) insert(e.get());
}

// ---- the shared aggregate ----------------------------------------------------

bool RedMetrics::same_key(const Agg& a, const RedKeyView& v) {
  return a.key.family == v.family && a.key.kind == v.kind && a.status == v.status &&
         a.key.name == v.name && a.key.db_system == v.db_system;
}

RedMetrics::Agg* RedMetrics::find_locked(Shard& shard, const RedKeyView& v) {
  // Open addressing on the 64-bit hash: a colliding different key moves on to h+1.
  for (uint64_t h = v.hash;; ++h) {
    auto it = shard.aggs.find(h);
    if (it == shard.aggs.end()) return nullptr;
    if (same_key(*it->second, v)) return it->second.get();
  }
}

RedMetrics::Agg* RedMetrics::resolve(const RedKeyView& view, std::unique_lock<std::mutex>* lock,
                                     Shard** shard_out, bool* overflow) {
  RedKeyView v = view;
  *overflow = false;
  Shard* shard = &shards_[v.hash % kShards];
  *lock = std::unique_lock<std::mutex>(shard->mu);
  if (Agg* agg = find_locked(*shard, v)) {
    *shard_out = shard;
    return agg;
  }
  auto& n = keys_[static_cast<int>(v.family)];
  if (n.load(std::memory_order_relaxed) >= max_keys_) {
    lock->unlock();
    *overflow = true;
    v.name = kOther;
    v.db_text = nullptr;
    v.db_summary = kOther;
    v.hash = hash_view(v);
    shard = &shards_[v.hash % kShards];
    *lock = std::unique_lock<std::mutex>(shard->mu);
    if (Agg* agg = find_locked(*shard, v)) {
      *shard_out = shard;
      return agg;
    }
  } else {
    n.fetch_add(1, std::memory_order_relaxed);
  }
  common::ExpHistogram::Options window_opts;
  window_opts.max_buckets = 64;  // p99 oracle: coarse is fine, memory matters at 1000 keys
  auto agg = std::make_unique<Agg>(window_opts);
  fill_key(v, &agg->key);
  agg->status = v.status;
  Agg* raw = agg.get();
  uint64_t h = v.hash;
  while (shard->aggs.count(h) != 0) ++h;
  shard->aggs.emplace(h, std::move(agg));
  *shard_out = shard;
  return raw;
}

void RedMetrics::record_shared(Agg* agg, double seconds, bool error) {
  ++agg->count;
  if (error) ++agg->errors;
  agg->delta.record(seconds);
  agg->window.record(seconds);
  uint64_t wc = agg->window_count.load(std::memory_order_relaxed) + 1;
  agg->window_count.store(wc, std::memory_order_relaxed);
  if (wc >= kMinSamplesForP99 && wc % 32 == 4) {
    agg->p99_s.store(agg->window.quantile(0.99).value_or(0), std::memory_order_relaxed);
  }
}

void RedMetrics::publish(LocalAgg* e) {
  std::lock_guard<std::mutex> lock(e->shard->mu);
  Agg* agg = e->agg;
  agg->count += e->count;
  agg->errors += e->errors;
  agg->delta.merge(e->pending);
  agg->window.merge(e->pending);
  uint64_t wc = agg->window_count.load(std::memory_order_relaxed) + e->count;
  agg->window_count.store(wc, std::memory_order_relaxed);
  if (wc >= kMinSamplesForP99) {
    agg->p99_s.store(agg->window.quantile(0.99).value_or(0), std::memory_order_relaxed);
  }
  e->count = 0;
  e->errors = 0;
  e->pending.clear();
}

void RedMetrics::publish_all(ThreadRed& t, bool evict_idle) {
  bool evicted = false;
  for (auto it = t.entries.begin(); it != t.entries.end();) {
    LocalAgg* e = it->get();
    if (e->count > 0) publish(e);
    if (evict_idle && !e->used) {
      it = t.entries.erase(it);  // idle for a whole interval: free its histogram
      evicted = true;
      continue;
    }
    e->used = false;
    ++it;
  }
  if (evicted) t.rebuild();
}

// ---- the hot path ------------------------------------------------------------

void RedMetrics::on_span_end(const SpanRecord& span) {
  RedKeyView v;
  key_view_of(span, &v);
  const double seconds = span.end_unix_nano > span.start_unix_nano
                             ? static_cast<double>(span.end_unix_nano - span.start_unix_nano) * 1e-9
                             : 0.0;
  auto* slot = threads_.local();
  std::lock_guard<SpinLock> slot_lock(slot->mu);
  ThreadRed& t = slot->state;
  LocalAgg* e = t.find(v);
  if (e == nullptr) {
    std::unique_lock<std::mutex> lock;
    Shard* shard = nullptr;
    bool overflow = false;
    Agg* agg = resolve(v, &lock, &shard, &overflow);
    if (overflow) overflowed_.fetch_add(1, std::memory_order_relaxed);
    if (t.entries.size() >= kMaxLocalKeys) {  // this thread holds enough keys
      record_shared(agg, seconds, v.error);
      return;
    }
    lock.unlock();
    auto owned = std::make_unique<LocalAgg>();
    e = owned.get();
    e->hash = v.hash;
    e->family = v.family;
    e->kind = v.kind;
    e->status = v.status;
    e->overflow = overflow;
    e->name.assign(v.name);
    e->db_system.assign(v.db_system);
    e->agg = agg;
    e->shard = shard;
    t.entries.push_back(std::move(owned));
    if (t.table.size() < t.entries.size() * 2) {
      t.rebuild();
    } else {
      t.insert(e);
    }
  } else if (e->overflow) {
    overflowed_.fetch_add(1, std::memory_order_relaxed);
  }
  ++e->count;
  if (v.error) ++e->errors;
  e->pending.record(seconds);
  e->used = true;
  if (e->count >= kPublishEvery) publish(e);
}

bool RedMetrics::above_p99(const SpanRecord& span) const {
  RedKeyView v;
  key_view_of(span, &v);
  const Agg* agg = nullptr;
  {
    auto* slot = threads_.local();
    std::lock_guard<SpinLock> slot_lock(slot->mu);
    if (const LocalAgg* e = slot->state.find(v)) agg = e->agg;
  }
  if (agg == nullptr) {
    auto* self = const_cast<RedMetrics*>(this);
    Shard& shard = self->shards_[v.hash % kShards];
    std::lock_guard<std::mutex> lock(shard.mu);
    agg = find_locked(shard, v);
  }
  // Aggregates live until reset_in_child (all locks held, one thread), so
  // reading these atomics without the shard lock is safe.
  if (agg == nullptr || agg->window_count.load(std::memory_order_relaxed) < kMinSamplesForP99) {
    return false;
  }
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
  threads_.for_each([this](ThreadRed& t) { publish_all(t, /*evict_idle=*/true); });
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

// Lock order: thread registry → thread slots → shards (as collect() takes them).
void RedMetrics::lock_for_fork() {
  threads_.lock_for_fork();
  for (Shard& s : shards_) s.mu.lock();
}

void RedMetrics::unlock_for_fork() {
  for (Shard& s : shards_) s.mu.unlock();
  threads_.unlock_for_fork();
}

void RedMetrics::reset_in_child() {
  for (Shard& s : shards_) {
    s.aggs.clear();
    s.mu.unlock();
  }
  for (auto& n : keys_) n.store(0);
  overflowed_.store(0);
  reported_overflow_ = 0;
  // The parent publishes (and exports) what its threads accumulated.
  threads_.reset_in_child([](ThreadRed& t) {
    t.entries.clear();
    t.table.clear();
  });
}

}  // namespace pyrometer::agent
