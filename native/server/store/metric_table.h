// Metric table: column schema of metric data points (gauge, sum, histogram,
// exponential histogram) and conversions to and from MetricPointRow.
#pragma once

#include "common/otlp_model.h"
#include "server/store/store.h"
#include "server/store/table.h"

namespace pyrometer::server::store {

enum MetricCol : int {
  kMetName = 0,
  kMetUnit,
  kMetService,
  kMetTypeInfo,  // type | temporality << 3 | monotonic << 5
  kMetStart,     // stored relative to time
  kMetTime,      // delta-of-delta
  kMetAttrs,
  kMetResource,
  kMetValue,  // blob, layout in metric_table.cc and docs/storage-format.md
  kMetColumnCount
};

const TableSchema& metric_schema();
// Appends every data point of the request; returns the number appended.
int64_t append_metrics(Table* t, const common::otlp::MetricsRequest& req);
Status materialize_metric(const Table& t, size_t row, MetricPointRow* out);
bool metric_matches(const Table& t, size_t row, const MetricFilter& f);

}  // namespace pyrometer::server::store
