// Store: what the rest of the server may ask of storage. The embedded
// implementation lives in store/embedded/; a ClickHouse one will sit beside it.
//
// Lifecycle: open() → append_*/read calls from any thread → close().
// Ownership: append_* copy what they keep; after they return the caller may
// free both `encoded` and `decoded`. Rows handed to read visitors are owned
// copies valid for the duration of the visit call.
// Durability: an ok Status from append_* means the records are in the
// write-ahead log and fsynced (group commit); after kill -9 they are recovered.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/otlp_model.h"
#include "common/status.h"

namespace pyrometer::server::store {

using common::Status;

struct AppendResult {
  int64_t accepted = 0;
  int64_t rejected = 0;       // reported to the client as partial_success
  std::string reject_reason;  // first reason, for partial_success.error_message
};

// Labels that come with a pprof upload (POST /v1/profiles?service=...&...).
struct ProfileLabels {
  std::string service;
  std::string instance;
  std::string route;         // optional: endpoint the samples belong to
  std::string profile_type;  // cpu | wall | alloc | heap
  uint64_t time_unix_nano = 0;
};

// ---- read side: plain owned rows -----------------------------------------

// A typed attribute value. OTLP arrays and kvlists are kept as their JSON text
// in `str` (type kArray/kKvList) so a row stays flat; kBytes keeps raw bytes.
struct AttrValue {
  enum class Type : uint8_t { kEmpty, kString, kBool, kInt, kDouble, kArray, kKvList, kBytes };
  Type type = Type::kEmpty;
  std::string str;  // kString, kBytes, kArray, kKvList (JSON)
  int64_t i = 0;    // kInt; kBool as 0/1
  double d = 0;     // kDouble
  bool operator==(const AttrValue&) const = default;
};

struct Attribute {
  std::string key;
  AttrValue value;
  bool operator==(const Attribute&) const = default;
};

struct SpanEventRow {
  uint64_t time_unix_nano = 0;
  std::string name;
  std::vector<Attribute> attributes;
  bool operator==(const SpanEventRow&) const = default;
};

struct SpanLinkRow {
  std::string trace_id;  // 16 raw bytes
  std::string span_id;   // 8 raw bytes
  std::string trace_state;
  std::vector<Attribute> attributes;
  bool operator==(const SpanLinkRow&) const = default;
};

struct SpanRow {
  std::string trace_id;        // 16 raw bytes
  std::string span_id;         // 8 raw bytes
  std::string parent_span_id;  // empty (root) or 8 raw bytes
  std::string trace_state;
  uint32_t flags = 0;
  std::string service;  // resource attribute service.name ("" if absent)
  std::string name;
  uint8_t kind = 0;  // otlp::SpanKind value
  uint64_t start_time_unix_nano = 0;
  uint64_t end_time_unix_nano = 0;
  uint8_t status_code = 0;  // otlp::StatusCode value
  std::string status_message;
  std::vector<Attribute> attributes;
  std::vector<SpanEventRow> events;
  std::vector<SpanLinkRow> links;
  std::vector<Attribute> resource_attributes;
  std::string scope_name;
  std::string scope_version;
  bool operator==(const SpanRow&) const = default;
};

// A set of trace ids (16 raw bytes each) looked up by string_view without a
// copy: trace ids are random, so two words mixed are a good enough hash.
struct TraceIdHash {
  using is_transparent = void;
  size_t operator()(std::string_view id) const noexcept {
    uint64_t a = 0, b = 0;
    std::memcpy(&a, id.data(), std::min<size_t>(8, id.size()));
    if (id.size() > 8) std::memcpy(&b, id.data() + 8, std::min<size_t>(8, id.size() - 8));
    return static_cast<size_t>((a ^ (b * 0x9E3779B97F4A7C15ull)) * 0xC2B2AE3D27D4EB4Full >> 7);
  }
};
using TraceIdSet = std::unordered_set<std::string, TraceIdHash, std::equal_to<>>;

// Classes of spans a scan can be narrowed to (SpanFilter::any_of). Blocks
// keep them per row and per page, so a scan skips pages without them.
enum SpanClass : uint32_t {
  kSpanClassError = 1,   // status code ERROR
  kSpanClassEntry = 2,   // no parent, or kind SERVER / CONSUMER
  kSpanClassEvents = 4,  // at least one span event
  kSpanClassDb = 8,      // string attribute db.system or db.system.name
};

// Parts of a SpanRow a scan may skip (SpanFilter::skip_fields).
enum SpanField : uint32_t {
  kSpanFieldResource = 1,  // resource_attributes
  kSpanFieldExtras = 2,    // events and links
  kSpanFieldScope = 4,     // scope_name, scope_version
};

// Every field narrows; empty strings / zero times mean "any".
struct SpanFilter {
  uint64_t start_unix_nano = 0;         // span start >= this
  uint64_t end_unix_nano = UINT64_MAX;  // span start < this
  std::string service;
  std::string name;
  std::string route;  // attribute http.route
  // Pushdown, which blocks answer from per-page summaries and a per-row class
  // column. any_of: 0 = every row, else only rows in at least one SpanClass.
  uint32_t any_of = 0;
  // Only spans of these traces (16 raw bytes each); null = every trace. The
  // set must outlive the scan.
  const TraceIdSet* trace_ids = nullptr;
  // The caller reads only trace_id and start_time_unix_nano of visited rows:
  // a store may leave every other field empty (blocks then decode only the
  // filter columns and the trace-id column).
  bool ids_only = false;
  // SpanField bits the caller does not read: a store may leave them empty
  // (blocks then neither decode those columns nor materialise them).
  uint32_t skip_fields = 0;
};

// One metric data point. Number points fill `value`/`is_int`; histogram and
// exponential-histogram points fill count/sum/min/max and the bucket fields.
struct MetricPointRow {
  enum class Type : uint8_t { kGauge = 1, kSum = 2, kHistogram = 3, kExponentialHistogram = 4 };
  std::string name;
  std::string unit;
  std::string service;
  Type type = Type::kGauge;
  uint8_t temporality = 0;  // otlp::AggregationTemporality value
  bool is_monotonic = false;
  uint64_t start_time_unix_nano = 0;
  uint64_t time_unix_nano = 0;
  std::vector<Attribute> attributes;
  std::vector<Attribute> resource_attributes;
  bool is_int = false;
  double value = 0;  // number points (ints converted exactly when |v| < 2^53)
  int64_t int_value = 0;
  uint64_t count = 0;
  double sum = 0, min = 0, max = 0;
  std::vector<double> explicit_bounds;    // kHistogram
  std::vector<uint64_t> bucket_counts;    // kHistogram; kExponentialHistogram positive buckets
  int32_t scale = 0;                      // kExponentialHistogram
  int32_t positive_offset = 0;            // kExponentialHistogram
  uint64_t zero_count = 0;                // kExponentialHistogram
  int32_t negative_offset = 0;            // kExponentialHistogram
  std::vector<uint64_t> negative_counts;  // kExponentialHistogram
  bool operator==(const MetricPointRow&) const = default;
};

struct MetricFilter {
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = UINT64_MAX;
  std::string name;
  std::string service;
};

// A log record; insights are log records with event_name "pyrometer.insight".
struct LogRow {
  uint64_t time_unix_nano = 0;
  uint64_t observed_time_unix_nano = 0;
  int32_t severity_number = 0;
  std::string severity_text;
  AttrValue body;
  std::vector<Attribute> attributes;
  std::string trace_id;  // empty or 16 raw bytes
  std::string span_id;   // empty or 8 raw bytes
  std::string event_name;
  std::string service;
  std::vector<Attribute> resource_attributes;
  std::string scope_name;
  uint32_t flags = 0;
  bool operator==(const LogRow&) const = default;
};

struct LogFilter {
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = UINT64_MAX;
  std::string service;
  std::string event_name;
  std::string trace_id;  // 16 raw bytes or empty
  int32_t min_severity = 0;
};

// Profile samples merged per (service, route, type, minute): identical stacks
// are summed, so reading an hour is 60 rows per key, not one per upload.
struct ProfileSample {
  std::vector<std::string> frames;  // root first, each "function file:line"
  std::vector<int64_t> values;      // one per ProfileRow::value_types
  bool operator==(const ProfileSample&) const = default;
};

struct ProfileRow {
  uint64_t minute_unix_nano = 0;
  std::string service;
  std::string route;
  std::string profile_type;
  std::vector<std::string> value_types;  // "type/unit", e.g. "cpu/nanoseconds"
  std::vector<ProfileSample> samples;
  int64_t uploads = 0;  // pprof uploads merged into this row
  // Set only in rows read by trace id (ProfileFilter::trace_id): the samples
  // labelled with one span of that trace (raw ids, 16 and 8 bytes).
  std::string trace_id;
  std::string span_id;
};

struct ProfileFilter {
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = UINT64_MAX;
  std::string service;
  std::string route;  // empty: every route
  std::string profile_type;
  // 16 raw bytes: read that trace's labelled samples instead of merged rows,
  // one row per (span, type); service and route are then ignored and the
  // time range only prunes which stored data is read.
  std::string trace_id;
};

// OTLP-style base-2 exponential histogram of durations in seconds.
struct RollupHistogram {
  int32_t scale = 0;
  uint64_t zero_count = 0;
  int32_t offset = 0;
  std::vector<uint64_t> counts;
  double sum = 0, min = 0, max = 0;
  bool operator==(const RollupHistogram&) const = default;
};

// Per-minute RED aggregate. status_class is "1xx".."5xx" for HTTP spans/points,
// otherwise "ok", "error" or "unset".
struct RollupRow {
  uint64_t minute_unix_nano = 0;
  std::string service;
  std::string route;  // http.route, else the span name / operation
  uint8_t span_kind = 0;
  std::string status_class;
  uint64_t count = 0;
  uint64_t errors = 0;
  RollupHistogram duration_seconds;
  bool operator==(const RollupRow&) const = default;
};

struct RollupFilter {
  uint64_t start_unix_nano = 0;
  uint64_t end_unix_nano = UINT64_MAX;
  std::string service;
  std::string route;
};

// Self-metrics for /metrics. Index per-signal arrays with Signal.
enum class Signal : uint8_t { kTraces = 0, kMetrics = 1, kLogs = 2, kProfiles = 3 };
inline constexpr int kSignalCount = 4;

struct StoreStats {
  int64_t accepted[kSignalCount] = {};  // spans / data points / log records / profiles
  int64_t refused[kSignalCount] = {};   // whole requests refused (Unavailable, IOError)
  int64_t dropped[kSignalCount] = {};   // items dropped after acceptance (span limit)
  int64_t wal_fsyncs = 0;
  double wal_fsync_seconds_sum = 0;
  double wal_fsync_seconds_max = 0;
  int64_t wal_bytes = 0;
  int64_t wal_torn_tail_truncations = 0;
  int64_t wal_crc_failures = 0;
  int64_t block_crc_failures = 0;  // block files that failed a CRC check (block skipped)
  int64_t head_bytes = 0;
  int64_t head_spans = 0;
  int64_t block_count = 0;
  int64_t disk_bytes = 0;  // blocks + rollups + WAL
  int64_t truncated_traces = 0;
  int64_t compactions = 0;
  int64_t blocks_deleted_by_retention = 0;
  int64_t background_errors = 0;
};

class Store {
 public:
  virtual ~Store() = default;

  // `encoded` is the request as OTLP protobuf (the WAL keeps it verbatim);
  // `decoded` is the same request already decoded (the head indexes it).
  // Returns Unavailable (caller answers 429/503 + Retry-After) when the
  // memory bound or the WAL queue is full; nothing was written then.
  virtual Status append_traces(std::string_view encoded, const common::otlp::TracesRequest& decoded,
                               AppendResult* result) = 0;
  virtual Status append_metrics(std::string_view encoded,
                                const common::otlp::MetricsRequest& decoded,
                                AppendResult* result) = 0;
  virtual Status append_logs(std::string_view encoded, const common::otlp::LogsRequest& decoded,
                             AppendResult* result) = 0;
  // `pprof` is an uncompressed, already validated pprof Profile message.
  virtual Status append_profile(std::string_view pprof, const ProfileLabels& labels,
                                AppendResult* result) = 0;

  // ---- reads (thread-safe, concurrent with appends) ----
  // Every stored span of the trace (16 raw bytes), from the head and blocks,
  // whatever its time. Empty result and ok when the trace is unknown.
  virtual Status find_trace(std::string_view trace_id, std::vector<SpanRow>* out) = 0;
  // Visits matching spans; `visit` returns false to stop early. Order is
  // unspecified (block by block). Corrupt blocks are skipped and counted.
  virtual Status scan_spans(const SpanFilter& filter,
                            const std::function<bool(const SpanRow&)>& visit) = 0;
  virtual Status scan_metric_points(const MetricFilter& filter,
                                    const std::function<bool(const MetricPointRow&)>& visit) = 0;
  virtual Status scan_logs(const LogFilter& filter,
                           const std::function<bool(const LogRow&)>& visit) = 0;
  // Rows merged per (service, route, type, minute) over head and blocks.
  virtual Status read_profiles(const ProfileFilter& filter, std::vector<ProfileRow>* out) = 0;
  // Rows merged per (minute, service, route, span kind, status class).
  virtual Status scan_rollups(const RollupFilter& filter,
                              const std::function<bool(const RollupRow&)>& visit) = 0;
  virtual StoreStats stats() = 0;

  // Flushes the head into blocks and the WAL to disk; called on SIGTERM.
  virtual Status close() = 0;
};

}  // namespace pyrometer::server::store
