// GaugeStore: last-value gauges recorded by integrations (Celery queue depth,
// asyncio task count, ...) and exported as OTLP Gauge points every metrics interval.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "agent/diagnostics.h"
#include "agent/exporter.h"
#include "agent/span_record.h"

namespace pyrometer::agent {

// A gauge reading: an int stays an int point (as_int), anything else a double.
struct GaugeValue {
  bool is_int = false;
  int64_t as_int = 0;
  double as_double = 0;
  static GaugeValue of_int(int64_t v) { return {true, v, 0}; }
  static GaugeValue of_double(double v) { return {false, 0, v}; }
};

// Why record() refused a reading. Every refusal is counted in dropped().
enum class GaugeRecordResult { kRecorded, kSeriesLimit, kInvalid, kConflict };

// One series per (name, attribute set); a later record() replaces its value.
// collect() exports every live series with its last value at each metrics
// interval (an OTel synchronous gauge under cumulative temporality), so a
// reading taken every 10 s still shows at a 1 s interval. A series not
// updated for `stale_after_ns` is forgotten and stops being exported, which
// also frees its slot: the limit bounds live series, not series ever seen.
//
// Thread-safety: record() from any thread, with or without the GIL (one short
// mutex hold, no I/O); collect() on the exporter thread.
class GaugeStore : public MetricsSource {
 public:
  static constexpr size_t kDefaultMaxSeries = 1000;
  static constexpr size_t kMaxNameBytes = 255;
  static constexpr size_t kMaxAttributes = 16;
  static constexpr size_t kMaxSeriesKeyBytes = 4096;  // name + every attribute, encoded

  // `diag` (may be nullptr) gets each kind of refusal reported once.
  GaugeStore(size_t max_series, uint64_t stale_after_ns, Diagnostics* diag)
      : max_series_(max_series), stale_after_ns_(stale_after_ns), diag_(diag) {}

  // Sets the series' value at `now_unix_nano`. Attributes must be scalars
  // (str/int/float/bool; sequences are refused); their order does not matter,
  // a repeated key keeps its last value. `unit` is taken from the first
  // series of a name that has one. Refusals: a new series past the limit
  // (kSeriesLimit); an empty or over-long name, too many or non-scalar
  // attributes, a non-finite value (kInvalid). Never blocks on I/O.
  GaugeRecordResult record(std::string_view name, GaugeValue value,
                           std::vector<Attribute> attributes, std::string_view unit,
                           uint64_t now_unix_nano);

  // Appends one Gauge point per live series, stamped `now_ns`, and forgets
  // stale ones. A name already used by another metric type in the same
  // request (e.g. a runtime histogram) is skipped and counted as kConflict.
  void collect(MetricsBuilder* out, uint64_t start_ns, uint64_t now_ns) override;

  // Readings refused since start (or since the fork, in a child).
  uint64_t dropped() const { return dropped_.load(std::memory_order_relaxed); }
  size_t series() const;

  // Fork protocol (see fork_safety.h). The child forgets the parent's series:
  // they describe the parent, which keeps exporting them.
  void lock_for_fork() { mu_.lock(); }
  void unlock_for_fork() { mu_.unlock(); }
  void reset_in_child();

 private:
  struct Series {
    std::string name;
    std::string unit;
    std::vector<Attribute> attributes;  // sorted by key
    GaugeValue value;
    uint64_t updated_unix_nano = 0;
  };

  void refuse(GaugeRecordResult why, std::string_view name);

  const size_t max_series_;
  const uint64_t stale_after_ns_;
  Diagnostics* diag_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Series> series_;  // guarded by mu_; key: encoded name+attrs
  std::atomic<uint64_t> dropped_{0};
};

}  // namespace pyrometer::agent
