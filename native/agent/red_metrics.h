// RedMetrics: rate/errors/duration aggregates from 100% of finished spans, per
// endpoint, outbound host and DB statement fingerprint; exported as DELTA metrics.
// Names and attributes: docs/format/agent-metrics.md.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "agent/exporter.h"
#include "agent/span_record.h"
#include "common/exp_histogram.h"

namespace pyrometer::agent {

enum class RedFamily : uint8_t {
  kServer = 0,  // SERVER spans → http.server.request.duration, key http.route (else name)
  kSpan = 1,    // other kinds → pyrometer.span.duration, key span name
  kClient = 2,  // CLIENT spans with server.address → http.client.request.duration
  kDb = 3,      // spans with db.system → db.client.operation.duration, key fingerprint
};
inline constexpr int kRedFamilies = 4;

// The aggregation key of one span, as computed by RedMetrics::key_of().
struct RedKey {
  RedFamily family = RedFamily::kSpan;
  common::otlp::SpanKind kind = common::otlp::SpanKind::kInternal;
  std::string name;          // route / operation / host / fingerprint (hex)
  std::string status_class;  // 2xx..5xx when an HTTP status is known, else ok/error
  std::string db_system;     // kDb only
  std::string db_summary;    // kDb only: the normalised statement (kept once per key)
  bool error = false;
};

// Thread-safety: on_span_end / above_p99 from any thread (striped locks: 16
// shards by key hash, each held for a hash-map lookup and two histogram
// inserts); collect() from the exporter thread. Cardinality: at most
// max_keys_per_family keys per family; later keys fold into name "__other__"
// and are counted in overflowed().
class RedMetrics : public MetricsSource {
 public:
  explicit RedMetrics(size_t max_keys_per_family = 1000) : max_keys_(max_keys_per_family) {}

  void on_span_end(const SpanRecord& span);

  // True when the span lasted longer than the running p99 of its key, which
  // needs at least kMinSamplesForP99 samples. The running p99 covers every
  // span of that key since start (or fork), refreshed every 32 samples.
  bool above_p99(const SpanRecord& span) const;
  static constexpr uint64_t kMinSamplesForP99 = 100;

  void collect(MetricsBuilder* out, uint64_t start_ns, uint64_t now_ns) override;

  static void key_of(const SpanRecord& span, RedKey* key);
  uint64_t overflowed() const { return overflowed_.load(std::memory_order_relaxed); }

  void lock_for_fork();
  void unlock_for_fork();
  void reset_in_child();  // empties every aggregate (the child starts from zero)

 private:
  struct Agg {
    RedKey key;  // error field unused
    uint64_t count = 0;
    uint64_t errors = 0;
    common::ExpHistogram delta;   // this export interval, seconds
    common::ExpHistogram window;  // since start, for the p99 oracle
    uint64_t window_count = 0;
    std::atomic<double> p99_s{0};
    explicit Agg(const common::ExpHistogram::Options& w) : window(w) {}
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<uint64_t, std::unique_ptr<Agg>> aggs;  // guarded by mu
  };
  static constexpr int kShards = 16;

  static uint64_t hash_key(const RedKey& k);
  // Finds or creates the aggregate for `key` (REQUIRES shard.mu). nullptr only
  // when `create` is false and the key is unknown.
  Agg* find(Shard& shard, uint64_t h, const RedKey& key, bool create);

  const size_t max_keys_;
  std::array<Shard, kShards> shards_;
  std::array<std::atomic<size_t>, kRedFamilies> keys_{};
  std::atomic<uint64_t> overflowed_{0};
  uint64_t reported_overflow_ = 0;  // exporter thread only
};

}  // namespace pyrometer::agent
