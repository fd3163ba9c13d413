// LogRecordData: one log record submitted from Python (the logging integration
// or insights), owned by the agent until exported as an OTLP LogRecord.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "agent/span_record.h"

namespace pyrometer::agent {

struct LogRecordData {
  uint64_t time_unix_nano = 0;
  uint64_t observed_time_unix_nano = 0;
  int32_t severity_number = 0;  // OTLP SeverityNumber 1..24 (0 = unspecified)
  std::string severity_text;    // e.g. "ERROR"
  std::string body;
  std::string event_name;  // e.g. "pyrometer.insight"; empty for plain logs
  std::vector<Attribute> attributes;
  uint8_t trace_id[16] = {};
  uint8_t span_id[8] = {};
  bool has_trace = false;
};

// OTLP SeverityNumber for a Python logging level (10 DEBUG → 5, 20 INFO → 9,
// 30 WARNING → 13, 40 ERROR → 17, 50 CRITICAL → 21; in-between levels round down).
int32_t severity_from_python_level(int level);

// Rough heap footprint of a record, for the log queue's byte bound.
size_t approx_bytes(const LogRecordData& r);

}  // namespace pyrometer::agent
