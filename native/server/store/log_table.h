// Log table: column schema of log records (insights included) and
// conversions between OTLP log records, table rows and LogRow.
#pragma once

#include "common/otlp_model.h"
#include "server/store/store.h"
#include "server/store/table.h"

namespace pyrometer::server::store {

enum LogCol : int {
  kLogTime = 0,  // delta-of-delta
  kLogObserved,  // stored relative to time
  kLogSeverity,
  kLogSeverityText,
  kLogBody,  // AnyValue
  kLogAttrs,
  kLogTraceId,  // blob: empty or 16 bytes
  kLogSpanId,   // blob: empty or 8 bytes
  kLogEventName,
  kLogService,
  kLogResource,
  kLogScopeName,
  kLogFlags,
  kLogColumnCount
};

const TableSchema& log_schema();
// Appends every record of the request; returns the number appended.
int64_t append_logs(Table* t, const common::otlp::LogsRequest& req);
Status materialize_log(const Table& t, size_t row, LogRow* out);
bool log_matches(const Table& t, size_t row, const LogFilter& f);

}  // namespace pyrometer::server::store
