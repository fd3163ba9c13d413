// Store: what the rest of the server may ask of storage. The embedded
// implementation lives in store/embedded/; a ClickHouse one will sit beside it.
//
// Lifecycle: open() → append_*/read calls from any thread → close().
// Ownership: append_* copy what they keep; after they return the caller may
// free both `encoded` and `decoded`.
// Durability: an ok Status from append_* means the records are in the
// write-ahead log and fsynced (group commit); after kill -9 they are recovered.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
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

  // Flushes the head into blocks and the WAL to disk; called on SIGTERM.
  virtual Status close() = 0;
};

}  // namespace pyrometer::server::store
