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
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/exporter.h"
#include "agent/per_thread.h"
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

// The same key as views into the span (or into thread-local scratch), built
// on every span end without allocating. `status`: 0 ok, 1 error, 1+N for Nxx.
struct RedKeyView {
  RedFamily family = RedFamily::kSpan;
  common::otlp::SpanKind kind = common::otlp::SpanKind::kInternal;
  uint8_t status = 0;
  bool error = false;
  std::string_view name;
  std::string_view db_system;
  const std::string* db_text = nullptr;  // kDb: the statement, normalised on a key miss only
  std::string_view db_summary;           // kDb without a statement: operation or span name
  uint64_t hash = 0;
};

// Thread-safety: on_span_end / above_p99 from any thread, collect() from the
// exporter thread. Hot path: each thread accumulates into its own table of
// keys (PerThread, found by a precomputed hash; no string is built unless the
// thread sees the key for the first time), under a lock only it and the
// collector take. A thread's entry is published into the shared aggregate
// (16 mutex-striped shards) every kPublishEvery spans of a key, at collect() (every
// metrics interval, so also at flush() and shutdown), and when the thread
// exits — so counts and histograms are exact. The p99 oracle reads the
// shared aggregate, so it lags by at most kPublishEvery spans per thread and key.
// Cardinality: at most max_keys_per_family keys per family; later keys fold
// into name "__other__" and are counted in overflowed().
class RedMetrics : public MetricsSource {
 public:
  explicit RedMetrics(size_t max_keys_per_family = 1000);
  ~RedMetrics() override = default;

  void on_span_end(const SpanRecord& span);

  // True when the span lasted longer than the running p99 of its key, which
  // needs at least kMinSamplesForP99 published samples. The running p99
  // covers every published span of that key since start (or fork).
  bool above_p99(const SpanRecord& span) const;
  static constexpr uint64_t kMinSamplesForP99 = 100;
  // A thread publishes a key's spans to the shared aggregate after this many.
  static constexpr uint64_t kPublishEvery = 256;
  // Keys a thread keeps locally; spans of further keys go straight to the
  // shared aggregate. Bounds memory: each key holds one histogram (~2 KB), so
  // at most ~130 KB per thread; keys idle for a whole interval are evicted.
  static constexpr size_t kMaxLocalKeys = 64;

  // Publishes every thread's pending spans, then exports and resets the deltas.
  void collect(MetricsBuilder* out, uint64_t start_ns, uint64_t now_ns) override;

  static void key_of(const SpanRecord& span, RedKey* key);
  // The key without allocation (DB spans without a valid
  // db.query.fingerprint attribute are normalised here; with one, only on a miss).
  static void key_view_of(const SpanRecord& span, RedKeyView* key);
  uint64_t overflowed() const { return overflowed_.load(std::memory_order_relaxed); }
  size_t thread_count() const { return threads_.thread_count(); }

  void lock_for_fork();
  void unlock_for_fork();
  void reset_in_child();  // empties every aggregate (the child starts from zero)

 private:
  struct Agg {
    RedKey key;  // error field unused
    uint8_t status = 0;
    uint64_t count = 0;           // guarded by the shard's mu
    uint64_t errors = 0;          // guarded by the shard's mu
    common::ExpHistogram delta;   // this export interval, seconds; guarded by mu
    common::ExpHistogram window;  // since start, for the p99 oracle; guarded by mu
    std::atomic<uint64_t> window_count{0};
    std::atomic<double> p99_s{0};
    explicit Agg(const common::ExpHistogram::Options& w) : window(w) {}
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<uint64_t, std::unique_ptr<Agg>> aggs;  // guarded by mu
  };
  static constexpr int kShards = 16;

  // One key as a thread sees it: where it goes and what is not yet published.
  struct LocalAgg {
    uint64_t hash = 0;
    RedFamily family = RedFamily::kSpan;
    common::otlp::SpanKind kind = common::otlp::SpanKind::kInternal;
    uint8_t status = 0;
    bool overflow = false;  // folded into __other__
    bool used = false;      // since the last collect (idle keys are evicted)
    std::string name, db_system;
    Agg* agg = nullptr;
    Shard* shard = nullptr;
    uint64_t count = 0, errors = 0;
    common::ExpHistogram pending;
  };
  struct ThreadRed {
    std::vector<std::unique_ptr<LocalAgg>> entries;
    std::vector<LocalAgg*> table;  // open addressing, power-of-two size, load <= 1/2
    LocalAgg* find(const RedKeyView& v) const;
    void insert(LocalAgg* e);
    void rebuild();
  };

  static bool same_key(const Agg& a, const RedKeyView& v);
  // The aggregate of `v` in `shard`, or nullptr. REQUIRES shard.mu.
  static Agg* find_locked(Shard& shard, const RedKeyView& v);
  static void fill_key(const RedKeyView& v, RedKey* key);
  // Finds or creates the aggregate of `v` (folding into __other__ past the
  // key limit, *overflow then true) and returns it with its shard locked in *lock.
  Agg* resolve(const RedKeyView& v, std::unique_lock<std::mutex>* lock, Shard** shard,
               bool* overflow);
  // Adds a span to an aggregate. REQUIRES its shard's mu.
  void record_shared(Agg* agg, double seconds, bool error);
  void publish(LocalAgg* e);  // REQUIRES the owning thread's slot lock
  void publish_all(ThreadRed& t, bool evict_idle);

  const size_t max_keys_;
  std::array<Shard, kShards> shards_;
  std::array<std::atomic<size_t>, kRedFamilies> keys_{};
  std::atomic<uint64_t> overflowed_{0};
  uint64_t reported_overflow_ = 0;  // exporter thread only
  // Last member: destroyed first, so an exiting thread never merges into
  // shards that are already gone.
  mutable PerThread<ThreadRed> threads_;
};

}  // namespace pyrometer::agent
