// GET /api/v1/tasks: Celery task executions (CONSUMER spans with
// messaging.system = celery) per task, and the latest depth of each queue
// (the agent's pyrometer.celery.queue.depth gauge).
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "server/query/quantile.h"
#include "server/query/query_common.h"
#include "server/query/query_routes.h"
#include "server/query/queue_depth.h"
#include "server/store/rollup.h"

namespace pyrometer::server::query {

namespace {

struct Task {
  std::string name, service, queue;
  uint64_t runs = 0, failures = 0, retries = 0;
  store::RollupHistogram hist;
};

void handle_tasks(store::Store* store, const http::Request& rq, http::Response* res) {
  ListParams lp;
  if (!parse_list_params(rq, 100, 1000, &lp, res)) return;
  std::map<std::string, Task> tasks;
  store::SpanFilter f;
  f.start_unix_nano = lp.range.start_unix_nano;
  f.end_unix_nano = lp.range.end_unix_nano;
  f.service = lp.service;
  common::Status st = store->scan_spans(f, [&](const store::SpanRow& s) {
    if (s.kind != 5 || attr_str(s.attributes, "messaging.system") != "celery") return true;
    std::string_view name = attr_str(s.attributes, "celery.task.name");
    if (name.empty()) name = s.name;
    Task& t = tasks[s.service + '\x1f' + std::string(name)];
    if (t.runs == 0) {
      t.name.assign(name);
      t.service = s.service;
      t.queue.assign(attr_str(s.attributes, "messaging.destination.name"));
    }
    t.runs++;
    if (s.status_code == 2) t.failures++;
    int64_t retries = 0;
    if ((attr_int(s.attributes, "celery.retries", &retries) && retries > 0) ||
        attr_str(s.attributes, "celery.state") == "RETRY") {
      t.retries++;
    }
    store::histogram_record(&t.hist, span_seconds(s), 1);
    return true;
  });
  // Queue depth: the newest sample per queue (the agent's gauge metric).
  std::map<std::string, std::pair<uint64_t, int64_t>> queues;
  if (st.ok()) {
    std::map<std::pair<std::string, std::string>, QueueDepthSample> latest;
    st = latest_queue_depths(store, lp.range, lp.service, &latest);
    for (const auto& [k, sample] : latest) {
      auto& q = queues[k.second];
      if (sample.time_unix_nano >= q.first) q = {sample.time_unix_nano, sample.depth};
    }
  }
  if (!st.ok()) return json_error(500, "reading store: " + st.to_string(), res);
  std::vector<const Task*> rows;
  for (const auto& [k, t] : tasks) rows.push_back(&t);
  std::sort(rows.begin(), rows.end(), [](const Task* a, const Task* b) {
    if (a->runs != b->runs) return a->runs > b->runs;
    return a->name < b->name;
  });
  double secs = lp.range.seconds();
  JsonWriter w;
  begin_list(lp.range, &w);
  size_t end = page_end(lp.page, rows.size());
  for (size_t i = page_begin(lp.page, rows.size()); i < end; ++i) {
    const Task& t = *rows[i];
    w.begin_object();
    w.key("task");
    w.string(t.name);
    w.key("service");
    w.string(t.service);
    w.key("queue");
    w.string(t.queue);
    w.key("runs");
    w.uint64(t.runs);
    w.key("rate");
    w.number(static_cast<double>(t.runs) / secs);
    w.key("failures");
    w.uint64(t.failures);
    w.key("failure_rate");
    w.number(static_cast<double>(t.failures) / static_cast<double>(t.runs));
    w.key("retries");
    w.uint64(t.retries);
    for (auto [key, q] : {std::pair{"p50_ms", 0.5}, {"p95_ms", 0.95}, {"p99_ms", 0.99}}) {
      w.key(key);
      w.number(histogram_quantile(t.hist, q).value_or(0) * 1000);
    }
    w.key("queue_depth");
    auto it = queues.find(t.queue);
    if (it == queues.end()) {
      w.null();
    } else {
      w.int64(it->second.second);
    }
    w.end_object();
  }
  w.end_array();
  w.key("queues");
  w.begin_array();
  for (const auto& [name, q] : queues) {
    w.begin_object();
    w.key("queue");
    w.string(name);
    w.key("depth");
    w.int64(q.second);
    w.key("time");
    w.string(format_rfc3339(q.first));
    w.end_object();
  }
  w.end_array();
  w.key("total");
  w.uint64(rows.size());
  w.key("next_cursor");
  if (end < rows.size()) {
    w.string(encode_cursor(end));
  } else {
    w.null();
  }
  w.end_object();
  res->set(200, "application/json", w.take());
}

}  // namespace

void add_tasks_route(http::Router* router, store::Store* store) {
  router->add("GET", "/api/v1/tasks", [store](const http::Request& rq, http::Response* res) {
    handle_tasks(store, rq, res);
  });
}

}  // namespace pyrometer::server::query
