// IngestMetrics: the server's self-metrics (requests, latency, bytes, items
// accepted/refused per signal) and their Prometheus text rendering.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include "server/store/store.h"

namespace pyrometer::server::ingest {

// Lock-free counters except the (handler, code) request map, which is small
// and bounded (handlers are a fixed set, codes are HTTP statuses).
// Thread-safe: every method may be called from any thread.
class IngestMetrics {
 public:
  using Signal = store::Signal;

  // Items (spans, data points, log records, profiles) the store accepted /
  // rejected inside an accepted request (partial success).
  void add_accepted(Signal s, int64_t n) { signal(s).accepted += n; }
  void add_rejected(Signal s, int64_t n) { signal(s).rejected += n; }
  // Whole requests turned away: bad body (400) or store unavailable (503).
  void add_invalid_request(Signal s) { signal(s).invalid_requests += 1; }
  void add_refused_request(Signal s) { signal(s).refused_requests += 1; }

  // One finished HTTP request: `path` is mapped to a bounded handler label.
  void observe_request(std::string_view method, std::string_view path, int status, double seconds,
                       size_t bytes_in);

  // Prometheus text format 0.0.4. `stats` may be null (no store). The extra
  // counters come from the HTTP layer.
  void render(const store::StoreStats* stats, uint64_t handler_exceptions, uint64_t protocol_errors,
              std::string* out) const;

  // The bounded label for a request path ("traces", "query", "other", ...).
  static std::string_view handler_label(std::string_view path);

  // Latency histogram bucket upper bounds, seconds.
  static constexpr std::array<double, 14> kLatencyBounds = {
      0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

 private:
  struct PerSignal {
    std::atomic<int64_t> accepted{0};
    std::atomic<int64_t> rejected{0};
    std::atomic<int64_t> invalid_requests{0};
    std::atomic<int64_t> refused_requests{0};
  };
  struct Latency {
    std::array<uint64_t, kLatencyBounds.size() + 1> buckets{};  // last is +Inf
    double sum = 0;
    uint64_t count = 0;
    uint64_t bytes_in = 0;
  };
  PerSignal& signal(Signal s) { return signals_[static_cast<int>(s)]; }

  std::array<PerSignal, store::kSignalCount> signals_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // GUARDED_BY(mu_)
  std::map<std::string, Latency> latency_;                    // GUARDED_BY(mu_)
};

}  // namespace pyrometer::server::ingest
