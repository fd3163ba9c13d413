// Exporter thread: ticks every export/metrics interval or on demand (flush,
// full batch), sends OTLP/HTTP protobuf+gzip with bounded retries.
#include "agent/exporter.h"

#include <pthread.h>
#include <zlib.h>

#include <algorithm>
#include <random>

#include "common/clock.h"
#include "common/gzip.h"
#include "common/otlp_codec.h"
#include "common/random.h"

namespace pyrometer::agent {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

const char* signal_name(int s) {
  static const char* kNames[] = {"traces", "metrics", "logs"};
  return kNames[s];
}

bool retryable(int status) {
  return status == 429 || status == 502 || status == 503 || status == 504;
}

// The batches of one export cycle, popped one at a time. All: every thread's
// stage joins the queue once, when the cycle starts, and the cycle sends the
// units queued then, never what arrives while it sends: chasing arrivals
// turned each timer tick under steady load into an endless stream of small
// requests, each splitting the producers' stages. Otherwise: full batches,
// while there are some.
template <typename Queue, typename Batch>
class CycleBatches {
 public:
  CycleBatches(Queue* queue, size_t max_batch, bool all)
      : queue_(queue), max_batch_(max_batch), all_(all) {
    if (all_) {
      queue_->drain_stages();
      remaining_ = queue_->units();
    }
  }
  // Pops the next batch into *out; returns its units, 0 when the cycle is done.
  size_t next(Batch* out) {
    if (!all_) return queue_->pop_full_batch(max_batch_, out);
    if (remaining_ == 0) return 0;
    const size_t n = queue_->pop_queued(std::min(max_batch_, remaining_), out);
    remaining_ -= std::min(n, remaining_);
    return n;
  }
  // Units the cycle should have sent but has not popped (it was cut short).
  size_t left() const { return remaining_; }

 private:
  Queue* queue_;
  const size_t max_batch_;
  const bool all_;
  size_t remaining_ = 0;
};

}  // namespace

Exporter::Exporter(ExporterConfig cfg, const SharedResource* resource, TraceQueue* traces,
                   LogQueue* logs, std::vector<MetricsSource*> sources, Diagnostics* diag,
                   TraceBufferPool* spent_traces, size_t min_recycled_spans)
    : cfg_(std::move(cfg)),
      resource_(resource),
      traces_(traces),
      logs_(logs),
      spent_traces_(spent_traces),
      min_recycled_spans_(min_recycled_spans),
      sources_(std::move(sources)),
      diag_(diag),
      http_(cfg_.http) {
  const std::string* urls[3] = {&cfg_.traces_url, &cfg_.metrics_url, &cfg_.logs_url};
  HttpUrl* parsed[3] = {&traces_url_, &metrics_url_, &logs_url_};
  for (int i = 0; i < 3; ++i) {
    common::Status s = HttpUrl::parse(*urls[i], parsed[i]);
    urls_ok_[i] = s.ok();
    if (!s.ok()) {
      diag_->error(std::string("url.") + signal_name(i),
                   std::string("exporter: ") + signal_name(i) + " disabled: " + s.message());
    }
  }
  last_metrics_wall_ns_ = reported_dropped_ns_ = common::wall_unix_nano();
}

Exporter::~Exporter() { shutdown(milliseconds(0)); }

void Exporter::ensure_started() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_ || shut_down_) return;
  stop_ = false;
  thread_ = std::make_unique<std::thread>([this] { run(); });
}

bool Exporter::running() const {
  std::lock_guard<std::mutex> lock(mu_);
  return thread_ != nullptr;
}

void Exporter::wake() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    wake_ = true;
  }
  cv_->notify_all();
}

bool Exporter::flush(milliseconds timeout) {
  ensure_started();
  std::unique_lock<std::mutex> lock(mu_);
  if (!thread_) return traces_->units() == 0 && logs_->units() == 0;
  uint64_t gen = ++flush_requested_;
  cv_->notify_all();
  bool done = cv_->wait_for(lock, timeout, [&] { return flush_done_ >= gen || !thread_; });
  return done && flush_done_ >= gen && last_cycle_ok_;
}

void Exporter::shutdown(milliseconds timeout) {
  std::unique_ptr<std::thread> t;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shut_down_ = true;
    if (!thread_) return;
    stop_ = true;
    stop_deadline_ = Clock::now() + timeout;
    t = std::move(thread_);
  }
  cv_->notify_all();
  t->join();
  std::lock_guard<std::mutex> lock(mu_);
  flush_done_ = flush_requested_;
  cv_->notify_all();
}

ExporterStats Exporter::stats() const {
  ExporterStats s;
  s.sent_spans = sent_spans_.load();
  s.sent_logs = sent_logs_.load();
  s.sent_points = sent_points_.load();
  s.requests = requests_.load();
  s.failed_requests = failed_requests_.load();
  s.retries = retries_.load();
  s.dropped_spans = traces_->dropped();
  s.dropped_logs = logs_->dropped();
  s.dropped_points = gave_up_points_.load();
  s.partial_rejected = partial_rejected_.load();
  return s;
}

void Exporter::lock_for_fork() { mu_.lock(); }
void Exporter::unlock_for_fork() { mu_.unlock(); }

void Exporter::reset_in_child() {
  // The parent's thread does not exist here; its std::thread object must not
  // be joined or destroyed (both would act on a foreign pthread id), so it is
  // deliberately leaked. The socket copy is closed without a request.
  (void)thread_.release();
  (void)cv_.release();
  cv_ = std::make_unique<std::condition_variable>();
  stop_ = false;
  wake_ = false;
  flush_requested_ = flush_done_ = 0;
  last_cycle_ok_ = true;
  http_.abandon_after_fork();
  last_metrics_wall_ns_ = reported_dropped_ns_ = common::wall_unix_nano();
  reported_dropped_ = {};
  for (auto* c : {&sent_spans_, &sent_logs_, &sent_points_, &requests_, &failed_requests_,
                  &retries_, &gave_up_points_, &partial_rejected_}) {
    c->store(0);
  }
  mu_.unlock();
}

void Exporter::run() {
  // Named (at most 15 characters), so `top -H` and /proc/<pid>/task/*/comm tell it from the app's.
  pthread_setname_np(pthread_self(), "pyrometer-exp");
  auto next_export = Clock::now() + cfg_.export_interval;
  auto next_metrics = Clock::now() + cfg_.metrics_interval;
  for (;;) {
    uint64_t gen;
    bool stopping, woke;
    SteadyTime deadline = SteadyTime::max();
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_->wait_until(lock, std::min(next_export, next_metrics),
                      [&] { return stop_ || wake_ || flush_requested_ > flush_done_; });
      gen = flush_requested_;
      stopping = stop_;
      woke = wake_;
      wake_ = false;
      if (stopping) deadline = stop_deadline_;
    }
    bool flushing = stopping || gen > 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      flushing = stopping || gen > flush_done_;
    }
    auto now = Clock::now();
    bool ok = true;
    if (flushing || now >= next_export) {
      ok &= export_traces(deadline, Drain::kAll);
      ok &= export_logs(deadline, Drain::kAll);
      next_export = Clock::now() + cfg_.export_interval;
    } else if (woke) {
      ok &= export_traces(deadline, Drain::kFullBatches);
      ok &= export_logs(deadline, Drain::kFullBatches);
    }
    if (flushing || now >= next_metrics) {
      ok &= export_metrics(deadline);
      next_metrics = Clock::now() + cfg_.metrics_interval;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (flushing) {
        flush_done_ = gen;
        // What arrived during the cycle is the next one's: under steady load
        // the queues are never empty, and a flush still did its job.
        last_cycle_ok_ = ok;
      }
    }
    cv_->notify_all();
    if (stopping) break;
  }
  http_.close();
}

bool Exporter::export_traces(SteadyTime deadline, Drain drain) {
  bool ok = true;
  std::vector<Trace> batch;
  CycleBatches<TraceQueue, std::vector<Trace>> batches(traces_, cfg_.max_batch_spans,
                                                       drain == Drain::kAll);
  while (batches.next(&batch) > 0) {
    size_t spans = 0;
    for (const Trace& t : batch) spans += t.size();
    bool sent = false;
    if (urls_ok_[0]) {
      body_buf_.clear();  // keeps its capacity
      {
        otlp::TracesRequest req;
        std::shared_ptr<const ExportResource> res = resource_->get();  // views point into it
        build_traces_request(*res, batch, &req);
        common::otlp::encode_traces(req, &body_buf_);
      }
      sent = send(Signal::kTraces, cfg_.traces_url, body_buf_, deadline);
    }
    if (sent) {
      sent_spans_ += spans;
    } else {
      traces_->add_dropped(spans);
      ok = false;
    }
    recycle(&batch);
    if (Clock::now() >= deadline) break;
  }
  return ok && batches.left() == 0;
}

void Exporter::recycle(std::vector<Trace>* batch) {
  if (spent_traces_ != nullptr) {
    for (Trace& t : *batch) {
      if (t.capacity() < min_recycled_spans_) continue;
      t.clear();  // the spans die here, on this thread, as before
      if (!spent_traces_->put(std::move(t))) break;  // pool full: the rest are freed
    }
  }
  batch->clear();
}

bool Exporter::export_logs(SteadyTime deadline, Drain drain) {
  bool ok = true;
  std::vector<LogRecordData> batch;
  CycleBatches<LogQueue, std::vector<LogRecordData>> batches(logs_, cfg_.max_batch_logs,
                                                             drain == Drain::kAll);
  while (batches.next(&batch) > 0) {
    bool sent = false;
    if (urls_ok_[2]) {
      std::string body;
      {
        otlp::LogsRequest req;
        std::shared_ptr<const ExportResource> res = resource_->get();  // views point into it
        build_logs_request(*res, batch, &req);
        common::otlp::encode_logs(req, &body);
      }
      sent = send(Signal::kLogs, cfg_.logs_url, body, deadline);
    }
    if (sent) {
      sent_logs_ += batch.size();
    } else {
      logs_->add_dropped(batch.size());
      ok = false;
    }
    batch.clear();
    if (Clock::now() >= deadline) break;
  }
  return ok && batches.left() == 0;
}

bool Exporter::export_metrics(SteadyTime deadline) {
  uint64_t now_ns = common::wall_unix_nano();
  uint64_t start_ns = last_metrics_wall_ns_;
  last_metrics_wall_ns_ = now_ns;
  otlp::MetricsRequest req;
  std::shared_ptr<const ExportResource> res = resource_->get();  // views point into it
  MetricsBuilder b(*res, &req);
  for (MetricsSource* s : sources_) s->collect(&b, start_ns, now_ns);
  DropTotals dropped = add_self_metrics(&b, now_ns);
  size_t points = b.point_count();
  if (!urls_ok_[1]) {
    gave_up_points_ += points;
    return false;
  }
  std::string body;
  common::otlp::encode_metrics(req, &body);
  if (send(Signal::kMetrics, cfg_.metrics_url, body, deadline)) {
    sent_points_ += points;
    reported_dropped_ = dropped;
    reported_dropped_ns_ = now_ns;
    return true;
  }
  gave_up_points_ += points;
  return false;
}

Exporter::DropTotals Exporter::add_self_metrics(MetricsBuilder* b, uint64_t now_ns) {
  DropTotals totals = {traces_->dropped(), gave_up_points_.load(), logs_->dropped()};
  for (int i = 0; i < 3; ++i) {
    uint64_t delta = totals[i] - reported_dropped_[i];
    // Always emitted (even 0) so a dashboard can tell "no drops" from "no data".
    b->add_sum("pyrometer.exporter.dropped", "{item}",
               "Spans, metric points or log records dropped by the agent (queue full or gave up)",
               static_cast<int64_t>(delta), true, true,
               {{"signal", otlp::AnyValue::of_string(signal_name(i))}}, reported_dropped_ns_,
               now_ns);
  }
  b->add_gauge_int("pyrometer.exporter.queue.size", "{item}", "Items waiting in the export queue",
                   static_cast<int64_t>(traces_->units()),
                   {{"signal", otlp::AnyValue::of_string("traces")}}, now_ns);
  b->add_gauge_int("pyrometer.exporter.queue.size", "{item}", "Items waiting in the export queue",
                   static_cast<int64_t>(logs_->units()),
                   {{"signal", otlp::AnyValue::of_string("logs")}}, now_ns);
  return totals;
}

bool Exporter::backoff_sleep(milliseconds d, SteadyTime deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  const auto until = Clock::now() + d;
  // A flush() does not cut a server-requested wait; shutdown() does: once
  // stop_ is set, the wait ends at the shutdown deadline at the latest.
  for (;;) {
    auto limit = std::min(until, deadline);
    if (stop_) limit = std::min(limit, stop_deadline_);
    if (Clock::now() >= limit) break;
    cv_->wait_until(lock, limit);  // shutdown() notifies: the limit is recomputed
  }
  if (stop_) deadline = std::min(deadline, stop_deadline_);
  return Clock::now() < deadline;
}

bool Exporter::send(Signal signal, const std::string& url, const std::string& body,
                    SteadyTime deadline) {
  int si = static_cast<int>(signal);
  const HttpUrl& target = signal == Signal::kTraces    ? traces_url_
                          : signal == Signal::kMetrics ? metrics_url_
                                                       : logs_url_;
  std::vector<std::pair<std::string, std::string>> headers = cfg_.headers;
  headers.emplace_back("Content-Type", "application/x-protobuf");
  const std::string* payload = &body;
  if (cfg_.gzip) {
    // Fastest level: the exporter shares the app's CPU, and level 1 already shrinks OTLP
    // protobuf several times.
    gzip_buf_.clear();
    common::gzip(body, &gzip_buf_, Z_BEST_SPEED);
    headers.emplace_back("Content-Encoding", "gzip");
    payload = &gzip_buf_;
  }
  milliseconds backoff = cfg_.retry_initial;
  for (int attempt = 1;; ++attempt) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) deadline = std::min(deadline, stop_deadline_);
    }
    if (deadline != SteadyTime::max()) {
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return false;
      HttpClient::Options o = cfg_.http;
      o.connect_timeout = std::min(o.connect_timeout, left);
      o.read_timeout = std::min(o.read_timeout, left);
      http_.set_options(o);
    }
    HttpResponse resp;
    ++requests_;
    common::Status s = http_.post(target, headers, *payload, &resp);
    int wait_s = -1;
    std::string what;
    if (s.ok() && resp.status >= 200 && resp.status < 300) {
      otlp::PartialSuccess partial;
      if (!resp.body.empty() && common::otlp::decode_export_response(resp.body, &partial).ok() &&
          (partial.rejected > 0 || !partial.error_message.empty())) {
        partial_rejected_ += static_cast<uint64_t>(std::max<int64_t>(partial.rejected, 0));
        diag_->note_once(std::string("partial.") + signal_name(si),
                         std::string("exporter: collector partially rejected ") + signal_name(si) +
                             " (" + std::to_string(partial.rejected) +
                             " rejected): " + partial.error_message);
      }
      return true;
    }
    ++failed_requests_;
    if (s.ok()) {
      what = "HTTP " + std::to_string(resp.status) + " from " + url;
      if (!retryable(resp.status)) {
        diag_->error(std::string("http.") + std::to_string(resp.status) + "." + signal_name(si),
                     std::string("exporter: ") + signal_name(si) + " rejected: " + what);
        return false;  // 4xx other than 429: retrying cannot help
      }
      wait_s = resp.retry_after_s;
    } else {
      what = s.message() + " (" + url + ")";
    }
    if (attempt >= cfg_.max_attempts) {
      diag_->error(std::string("gaveup.") + signal_name(si),
                   std::string("exporter: gave up sending ") + signal_name(si) + " after " +
                       std::to_string(attempt) + " attempts: " + what);
      return false;
    }
    diag_->error(std::string("retry.") + signal_name(si),
                 std::string("exporter: cannot send ") + signal_name(si) + ", retrying: " + what);
    milliseconds wait;
    if (wait_s >= 0) {
      wait = std::min<milliseconds>(std::chrono::seconds(wait_s), cfg_.retry_after_max);
    } else {
      // Full jitter in [backoff/2, backoff), so many workers do not retry in step.
      double j = 0.5 + 0.5 * common::Xoshiro256(common::random_u64()).next_double();
      wait = milliseconds(static_cast<int64_t>(backoff.count() * j));
      backoff = std::min(backoff * 2, cfg_.retry_max);
    }
    ++retries_;
    if (!backoff_sleep(wait, deadline)) return false;
  }
}

}  // namespace pyrometer::agent
