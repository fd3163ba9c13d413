// Canonical JSON dump of decoded OTLP requests, every field included, for
// tests, the interop tool (tools/otlp_tool.cc) and debugging. Not OTLP/JSON.
//
// Layout: proto field names in snake_case, enums as integers, ids and bytes as
// lowercase hex, AnyValue as {"<member>_value": v} ({} when empty), metric data
// under "gauge"/"sum"/"histogram"/"exponential_histogram".
#pragma once

#include <string>

#include "common/otlp_model.h"

namespace pyrometer::common::otlp {

std::string dump_json(const TracesRequest& req);
std::string dump_json(const MetricsRequest& req);
std::string dump_json(const LogsRequest& req);

}  // namespace pyrometer::common::otlp
