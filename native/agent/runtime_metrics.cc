// Runtime metrics: /proc and getrusage readings (no GIL), Python-fed GC and
// event-loop values, and the GIL sampler's window, as OTLP points.
#include "agent/runtime_metrics.h"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <unordered_map>

namespace pyrometer::agent {
namespace {

// Value in kB of the line starting with `key` in a /proc file, or -1.
int64_t read_kb_field(const char* path, const char* key) {
  FILE* f = std::fopen(path, "re");
  if (f == nullptr) return -1;
  char line[256];
  size_t n = std::strlen(key);
  int64_t out = -1;
  while (std::fgets(line, sizeof(line), f) != nullptr) {
    if (std::strncmp(line, key, n) == 0) {
      long long v = 0;
      if (std::sscanf(line + n, " %lld", &v) == 1) out = v;
      break;
    }
  }
  std::fclose(f);
  return out;
}

int64_t count_fds() {
  DIR* d = opendir("/proc/self/fd");
  if (d == nullptr) return -1;
  int64_t n = 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') ++n;
  }
  closedir(d);
  return n - 1;  // the directory stream's own descriptor
}

}  // namespace

ProcessSample read_process_sample() {
  ProcessSample s;
  rusage ru{};
  if (getrusage(RUSAGE_SELF, &ru) == 0) {
    s.cpu_user_s = static_cast<double>(ru.ru_utime.tv_sec) + ru.ru_utime.tv_usec * 1e-6;
    s.cpu_system_s = static_cast<double>(ru.ru_stime.tv_sec) + ru.ru_stime.tv_usec * 1e-6;
    s.peak_rss_bytes = static_cast<int64_t>(ru.ru_maxrss) * 1024;  // Linux: kB
  }
  int64_t rss_kb = read_kb_field("/proc/self/status", "VmRSS:");
  if (rss_kb >= 0) s.rss_bytes = rss_kb * 1024;
  int64_t hwm_kb = read_kb_field("/proc/self/status", "VmHWM:");
  if (hwm_kb >= 0) s.peak_rss_bytes = hwm_kb * 1024;  // per process, reset by exec
  int64_t pss_kb = read_kb_field("/proc/self/smaps_rollup", "Pss:");
  if (pss_kb >= 0) s.pss_bytes = pss_kb * 1024;
  s.threads = read_kb_field("/proc/self/status", "Threads:");
  s.open_fds = count_fds();
  return s;
}

void RuntimeMetrics::record_gc(int generation, double pause_s) {
  if (generation < 0 || generation > 2) return;
  std::lock_guard<std::mutex> lock(mu_);
  ++gc_collections_[generation];
  gc_pause_[generation].record(pause_s);
}

void RuntimeMetrics::record_loop_lag(double lag_s) {
  std::lock_guard<std::mutex> lock(mu_);
  loop_lag_.record(lag_s < 0 ? 0 : lag_s);
}

void RuntimeMetrics::set_python_gauges(int64_t modules, int64_t allocated_blocks,
                                       const int64_t gc_count[3]) {
  std::lock_guard<std::mutex> lock(mu_);
  have_python_ = true;
  modules_ = modules;
  allocated_blocks_ = allocated_blocks;
  for (int i = 0; i < 3; ++i) gc_count_[i] = gc_count[i];
}

void RuntimeMetrics::collect(MetricsBuilder* out, uint64_t start_ns, uint64_t now_ns) {
  using A = MetricsBuilder::Attrs;
  ProcessSample p = read_process_sample();
  const double cpu[2] = {p.cpu_user_s, p.cpu_system_s};
  const char* modes[2] = {"user", "system"};
  for (int i = 0; i < 2; ++i) {
    if (cpu[i] < 0) continue;
    double base = last_cpu_[i] < 0 ? 0 : last_cpu_[i];
    out->add_sum_double("process.cpu.time", "s", "CPU time used by the process, by mode",
                        cpu[i] - base, true, true,
                        A{{"cpu.mode", otlp::AnyValue::of_string(modes[i])}}, start_ns, now_ns);
    last_cpu_[i] = cpu[i];
  }
  if (p.rss_bytes >= 0) {
    out->add_gauge_int("process.memory.usage", "By", "Resident set size", p.rss_bytes, {}, now_ns);
  }
  if (p.peak_rss_bytes >= 0) {
    out->add_gauge_int("pyrometer.process.memory.peak", "By", "Peak resident set size",
                       p.peak_rss_bytes, {}, now_ns);
  }
  if (p.pss_bytes >= 0) {
    out->add_gauge_int("pyrometer.process.memory.pss", "By",
                       "Proportional set size (shared pages divided among sharers)", p.pss_bytes,
                       {}, now_ns);
  }
  if (p.open_fds >= 0) {
    out->add_gauge_int("process.open_file_descriptor.count", "{file_descriptor}",
                       "Open file descriptors", p.open_fds, {}, now_ns);
  }
  if (p.threads >= 0) {
    out->add_gauge_int("process.thread.count", "{thread}", "OS threads in the process", p.threads,
                       {}, now_ns);
  }

  uint64_t collections[3];
  common::ExpHistogram pauses[3];
  common::ExpHistogram lag;
  bool have_python;
  int64_t modules, blocks, counts[3];
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (int g = 0; g < 3; ++g) {
      collections[g] = gc_collections_[g];
      gc_collections_[g] = 0;
      pauses[g] = gc_pause_[g];
      gc_pause_[g].clear();
      counts[g] = gc_count_[g];
    }
    lag = loop_lag_;
    loop_lag_.clear();
    have_python = have_python_;
    modules = modules_;
    blocks = allocated_blocks_;
  }
  if (have_python) {
    for (int g = 0; g < 3; ++g) {
      A gen{{"cpython.gc.generation", otlp::AnyValue::of_int(g)}};
      out->add_sum("cpython.gc.collections", "{collection}", "Garbage collections, by generation",
                   static_cast<int64_t>(collections[g]), true, true, gen, start_ns, now_ns);
      if (pauses[g].count() > 0) {
        auto* pt = out->add_exp_histogram("pyrometer.gc.pause", "s",
                                          "Duration of garbage collections", gen);
        pauses[g].to_otlp(pt);
        pt->start_time_unix_nano = start_ns;
        pt->time_unix_nano = now_ns;
      }
      out->add_gauge_int("pyrometer.gc.count", "{object}",
                         "gc.get_count(): allocations minus deallocations since the generation's "
                         "last collection",
                         counts[g], gen, now_ns);
    }
    out->add_gauge_int("pyrometer.python.modules", "{module}", "len(sys.modules)", modules, {},
                       now_ns);
    out->add_gauge_int("pyrometer.python.allocated_blocks", "{block}",
                       "sys.getallocatedblocks(): live pymalloc blocks (objects tracked proxy)",
                       blocks, {}, now_ns);
  }
  if (lag.count() > 0) {
    auto* pt = out->add_exp_histogram("pyrometer.asyncio.loop_lag", "s",
                                      "How late asyncio loop heartbeats fired", {});
    lag.to_otlp(pt);
    pt->start_time_unix_nano = start_ns;
    pt->time_unix_nano = now_ns;
  }

  if (gil_ != nullptr && gil_->supported()) {
    GilTotals t = gil_->totals();
    uint64_t samples = t.samples - last_gil_.samples;
    if (samples > 0) {
      uint64_t held = t.held_samples - last_gil_.held_samples;
      double secs = t.elapsed_s - last_gil_.elapsed_s;
      out->add_gauge("pyrometer.gil.held_ratio", "1",
                     "Fraction of samples in which the GIL was held", double(held) / samples, {},
                     now_ns);
      out->add_gauge("pyrometer.gil.switches", "{switch}/s", "GIL hand-overs per second",
                     secs > 0 ? double(t.switches - last_gil_.switches) / secs : 0, {}, now_ns);
      for (const auto& [tid, n] : t.held_by_thread) {
        uint64_t before = 0;
        for (const auto& [ptid, pn] : last_gil_.held_by_thread) {
          if (ptid == tid) before = pn;
        }
        if (n <= before) continue;
        out->add_gauge("pyrometer.gil.thread_held_ratio", "1",
                       "Fraction of samples in which this thread held the GIL",
                       double(n - before) / samples,
                       A{{"thread.id", otlp::AnyValue::of_int(static_cast<int64_t>(tid))}}, now_ns);
      }
    }
    collect_gil_wait(out, t, start_ns, now_ns);
    last_gil_ = std::move(t);
  }
}

void RuntimeMetrics::collect_gil_wait(MetricsBuilder* out, const GilTotals& t, uint64_t start_ns,
                                      uint64_t now_ns) {
  using A = MetricsBuilder::Attrs;
  if (!t.wait_supported) return;
  common::ExpHistogram episodes = gil_->take_wait_episodes();
  if (episodes.count() > 0) {
    auto* pt = out->add_exp_histogram("pyrometer.gil.wait", "s",
                                      "How long threads waited for the GIL, per wait", {});
    episodes.to_otlp(pt);
    pt->start_time_unix_nano = start_ns;
    pt->time_unix_nano = now_ns;
  }
  // Counters restart after fork or a thread-table overflow: skip that interval.
  if (t.wait.ticks <= last_gil_.wait.ticks ||
      t.wait.waiting_samples < last_gil_.wait.waiting_samples)
    return;
  const double ticks = static_cast<double>(t.wait.ticks - last_gil_.wait.ticks);
  out->add_gauge(
      "pyrometer.gil.waiting_threads", "{thread}",
      "Mean number of threads blocked waiting for the GIL",
      static_cast<double>(t.wait.waiting_samples - last_gil_.wait.waiting_samples) / ticks, {},
      now_ns);
  std::unordered_map<uint64_t, std::pair<uint64_t, uint64_t>> last(last_gil_.wait.by_thread.begin(),
                                                                   last_gil_.wait.by_thread.end());
  for (const auto& [tid, counts] : t.wait.by_thread) {
    auto it = last.find(tid);
    const std::pair<uint64_t, uint64_t> before =
        it == last.end() ? std::pair<uint64_t, uint64_t>{0, 0} : it->second;
    if (counts.second <= before.second || counts.first <= before.first) continue;
    out->add_gauge("pyrometer.gil.thread_wait_ratio", "1",
                   "Fraction of samples in which this thread was blocked waiting for the GIL",
                   static_cast<double>(counts.second - before.second) /
                       static_cast<double>(counts.first - before.first),
                   A{{"thread.id", otlp::AnyValue::of_int(static_cast<int64_t>(tid))}}, now_ns);
  }
}

void RuntimeMetrics::reset_in_child() {
  for (int g = 0; g < 3; ++g) {
    gc_collections_[g] = 0;
    gc_pause_[g].clear();
  }
  loop_lag_.clear();
  last_cpu_[0] = last_cpu_[1] = -1;  // the child's rusage starts from zero
  last_gil_ = GilTotals();
  mu_.unlock();
}

}  // namespace pyrometer::agent
