// Log record helpers: Python level → OTLP severity, size estimates for the
// bounded log queue.
#include "agent/log_records.h"

#include "agent/otlp_batch.h"

namespace pyrometer::agent {

int32_t severity_from_python_level(int level) {
  if (level <= 0) return 0;
  if (level < 10) return 1;   // TRACE
  if (level < 20) return 5;   // DEBUG
  if (level < 30) return 9;   // INFO
  if (level < 40) return 13;  // WARN
  if (level < 50) return 17;  // ERROR
  return 21;                  // FATAL
}

size_t approx_bytes(const LogRecordData& r) {
  return sizeof(LogRecordData) + r.severity_text.size() + r.body.size() + r.event_name.size() +
         approx_bytes(r.attributes);
}

}  // namespace pyrometer::agent
