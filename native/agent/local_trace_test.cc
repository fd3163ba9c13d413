// Tests for LocalTrace: buffering until the local root ends, the keep rule
// (sampled, error, insight, slow), late spans, the span limit, and fork drops.
#include "agent/local_trace.h"

#include <gtest/gtest.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/span.h"

namespace pyrometer::agent {

// Reaches a trace's lock, to stand for a thread holding it at a fork.
struct LocalTraceTestPeer {
  static std::mutex& mutex(LocalTrace* t) { return t->mu_; }
};

namespace {

class FakePipeline : public Pipeline {
 public:
  void on_span_end(const SpanRecord& span) override { ended.push_back(span.name); }
  bool above_endpoint_p99(const SpanRecord&) const override {
    ++p99_calls;
    return slow;
  }
  bool submit_trace(std::vector<SpanRecord>&& spans) override {
    if (refuse) return false;
    submitted.push_back(std::move(spans));
    return true;
  }
  bool flush(std::chrono::milliseconds) override { return true; }
  bool aggregates_on_export() const override { return aggregates; }

  std::vector<std::string> ended;
  bool aggregates = false;
  std::vector<std::vector<SpanRecord>> submitted;
  bool slow = false;
  bool refuse = false;
  mutable int p99_calls = 0;
};

SpanRecord span(const std::string& name) {
  SpanRecord r;
  r.name = name;
  return r;
}

SpanRecord error_span(const std::string& name) {
  SpanRecord r = span(name);
  r.status_code = common::otlp::StatusCode::kError;
  return r;
}

const AttrValue* find_attr(const SpanRecord& r, const std::string& key) {
  for (const Attribute& a : r.attributes) {
    if (a.key == key) return &a.value;
  }
  return nullptr;
}

std::string keep_reason(const SpanRecord& root) {
  const AttrValue* v = find_attr(root, std::string(kKeepReasonKey));
  return v ? std::get<std::string>(*v) : "";
}

// Owns a LocalTrace reference for a test.
struct Trace {
  Trace(bool sampled, bool tail_keep = true) : t(LocalTrace::create(sampled, tail_keep, 0)) {}
  ~Trace() { t->unref(); }
  LocalTrace* operator->() { return t; }
  LocalTrace* t;
};

TEST(LocalTraceTest, SampledTraceIsSubmittedWholeWhenRootEnds) {
  FakePipeline p;
  Trace t(/*sampled=*/true);
  t->end_span(span("a"), &p, 0);
  t->end_span(span("b"), &p, 0);
  EXPECT_TRUE(p.submitted.empty());  // buffered until the root ends
  EXPECT_EQ(t->end_root(span("root"), &p, 0), KeepReason::kSampled);
  ASSERT_EQ(p.submitted.size(), 1u);
  ASSERT_EQ(p.submitted[0].size(), 3u);
  EXPECT_EQ(p.submitted[0][2].name, "root");
  EXPECT_EQ(keep_reason(p.submitted[0][2]), "sampled");
  EXPECT_EQ(p.ended, (std::vector<std::string>{"a", "b", "root"}));  // RED sees all
  EXPECT_EQ(p.p99_calls, 0);  // no need to ask when already sampled
}

TEST(LocalTraceTest, SampledTraceDefersRedToAPipelineThatAggregatesOnExport) {
  FakePipeline p;
  p.aggregates = true;
  Trace t(/*sampled=*/true);
  t->end_span(span("a"), &p, 0);
  t->end_root(span("root"), &p, 0);
  EXPECT_TRUE(p.ended.empty());  // the pipeline aggregates them as they leave its queue
  ASSERT_EQ(p.submitted.size(), 1u);
  for (const SpanRecord& s : p.submitted[0]) EXPECT_TRUE(s.red_deferred) << s.name;
}

TEST(LocalTraceTest, UnsampledTraceFeedsRedAtOnceEvenWhenThePipelineCouldDefer) {
  FakePipeline p;
  p.aggregates = true;
  Trace t(false);
  t->end_span(error_span("db"), &p, 0);  // kept for the error, decided only at the root
  t->end_root(span("root"), &p, 0);
  EXPECT_EQ(p.ended, (std::vector<std::string>{"db", "root"}));
  ASSERT_EQ(p.submitted.size(), 1u);
  for (const SpanRecord& s : p.submitted[0]) EXPECT_FALSE(s.red_deferred) << s.name;
}

TEST(LocalTraceTest, DeferredSpanDroppedOverTheLimitStillFeedsRed) {
  FakePipeline p;
  p.aggregates = true;
  Trace t(true);
  for (size_t i = 0; i < LocalTrace::kMaxSpans; ++i) t->end_span(span("s"), &p, 0);
  EXPECT_TRUE(p.ended.empty());
  t->end_span(span("over"), &p, 0);
  EXPECT_EQ(p.ended, (std::vector<std::string>{"over"}));
}

TEST(LocalTraceTest, UnsampledTraceWithoutSignalIsDroppedButFeedsRed) {
  FakePipeline p;
  Trace t(false);
  t->end_span(span("a"), &p, 0);
  EXPECT_EQ(t->end_root(span("root"), &p, 0), KeepReason::kNotKept);
  EXPECT_TRUE(p.submitted.empty());
  EXPECT_EQ(p.ended.size(), 2u);
}

TEST(LocalTraceTest, ErrorInChildKeepsUnsampledTrace) {
  FakePipeline p;
  Trace t(false);
  t->end_span(span("ok"), &p, 0);
  t->end_span(error_span("db"), &p, 0);
  EXPECT_EQ(t->end_root(span("root"), &p, 0), KeepReason::kError);
  ASSERT_EQ(p.submitted.size(), 1u);
  EXPECT_EQ(p.submitted[0].size(), 3u);
  EXPECT_EQ(keep_reason(p.submitted[0].back()), "error");
}

TEST(LocalTraceTest, ErrorOnRootKeeps) {
  FakePipeline p;
  Trace t(false);
  EXPECT_EQ(t->end_root(error_span("root"), &p, 0), KeepReason::kError);
}

TEST(LocalTraceTest, InsightAttributeOrEventKeeps) {
  FakePipeline p;
  {
    Trace t(false);
    SpanRecord s = span("q");
    s.attributes.push_back({std::string(kInsightKey), AttrValue(std::string("n_plus_one"))});
    t->end_span(std::move(s), &p, 0);
    EXPECT_EQ(t->end_root(span("root"), &p, 0), KeepReason::kInsight);
  }
  {
    Trace t(false);
    SpanRecord s = span("q");
    s.events.push_back(EventRecord{1, std::string(kInsightKey), {}});
    t->end_span(std::move(s), &p, 0);
    EXPECT_EQ(t->end_root(span("root"), &p, 0), KeepReason::kInsight);
  }
}

TEST(LocalTraceTest, SlowRootKeepsAndAsksPipelineOnce) {
  FakePipeline p;
  p.slow = true;
  Trace t(false);
  EXPECT_EQ(t->end_root(span("root"), &p, 0), KeepReason::kSlow);
  EXPECT_EQ(p.p99_calls, 1);
  EXPECT_EQ(keep_reason(p.submitted.at(0).back()), "slow");
}

TEST(LocalTraceTest, TailKeepOffKeepsOnlySampled) {
  FakePipeline p;
  Trace t(false, /*tail_keep=*/false);
  EXPECT_EQ(t->end_root(error_span("root"), &p, 0), KeepReason::kNotKept);
  EXPECT_TRUE(p.submitted.empty());
}

TEST(LocalTraceTest, KeepPriorityIsSampledErrorInsightSlow) {
  auto never = [] { return false; };
  auto always = [] { return true; };
  EXPECT_EQ(decide_keep(true, true, true, true, always), KeepReason::kSampled);
  EXPECT_EQ(decide_keep(false, true, true, true, always), KeepReason::kError);
  EXPECT_EQ(decide_keep(false, true, false, true, always), KeepReason::kInsight);
  EXPECT_EQ(decide_keep(false, true, false, false, always), KeepReason::kSlow);
  EXPECT_EQ(decide_keep(false, true, false, false, never), KeepReason::kNotKept);
}

TEST(LocalTraceTest, LateSpanOfKeptTraceIsSubmittedAlone) {
  FakePipeline p;
  Trace t(true);
  t->end_root(span("root"), &p, 0);
  t->end_span(span("task"), &p, 0);
  ASSERT_EQ(p.submitted.size(), 2u);
  ASSERT_EQ(p.submitted[1].size(), 1u);
  EXPECT_EQ(p.submitted[1][0].name, "task");
  EXPECT_EQ(local_trace_counters().late_spans_submitted.load() > 0, true);
}

TEST(LocalTraceTest, LateSpanOfDroppedTraceIsDropped) {
  FakePipeline p;
  Trace t(false);
  t->end_root(span("root"), &p, 0);
  const uint64_t before = local_trace_counters().late_spans_dropped.load();
  t->end_span(error_span("task"), &p, 0);  // too late to change the decision
  EXPECT_TRUE(p.submitted.empty());
  EXPECT_EQ(local_trace_counters().late_spans_dropped.load(), before + 1);
}

TEST(LocalTraceTest, BufferIsBoundedAndCountsDrops) {
  FakePipeline p;
  Trace t(true);
  const uint64_t before = local_trace_counters().spans_over_trace_limit.load();
  for (size_t i = 0; i < LocalTrace::kMaxSpans + 5; ++i) t->end_span(span("s"), &p, 0);
  t->end_root(span("root"), &p, 0);
  ASSERT_EQ(p.submitted.size(), 1u);
  EXPECT_EQ(p.submitted[0].size(), LocalTrace::kMaxSpans + 1);  // + the root, always
  EXPECT_EQ(local_trace_counters().spans_over_trace_limit.load(), before + 5);
}

TEST(LocalTraceTest, RootAttributesAreAppliedAtRootEnd) {
  FakePipeline p;
  Trace t(true);
  EXPECT_TRUE(t->add_root_attribute("enduser.id", AttrValue(std::string("u1")), 0));
  EXPECT_TRUE(t->add_root_attribute("enduser.id", AttrValue(std::string("u2")), 0));  // last wins
  SpanRecord root = span("root");
  root.attributes.push_back({"enduser.id", AttrValue(std::string("from-root"))});
  t->end_root(std::move(root), &p, 0);
  const AttrValue* v = find_attr(p.submitted.at(0).back(), "enduser.id");
  ASSERT_NE(v, nullptr);
  EXPECT_EQ(std::get<std::string>(*v), "u2");
  EXPECT_FALSE(t->add_root_attribute("late", AttrValue(int64_t{1}), 0));
}

TEST(LocalTraceTest, SpansEndingInForkedChildAreDropped) {
  FakePipeline p;
  Trace t(true);
  EXPECT_FALSE(t->add_root_attribute("k", AttrValue(true), /*current_fork_generation=*/1));
  t->end_span(span("a"), &p, /*current_fork_generation=*/1);
  EXPECT_EQ(t->end_root(span("root"), &p, 1), KeepReason::kNotKept);
  EXPECT_TRUE(p.submitted.empty());
  EXPECT_TRUE(p.ended.empty());
}

TEST(LocalTraceTest, RefusedSubmitIsCounted) {
  FakePipeline p;
  p.refuse = true;
  Trace t(true);
  const uint64_t before = local_trace_counters().submit_refused.load();
  t->end_root(span("root"), &p, 0);
  EXPECT_EQ(local_trace_counters().submit_refused.load(), before + 1);
}

TEST(LocalTraceTest, NullPipelineStillDecides) {
  Trace t(false);
  t->end_span(error_span("a"), nullptr, 0);
  EXPECT_EQ(t->end_root(span("root"), nullptr, 0), KeepReason::kError);
}

TEST(LocalTraceTest, ConcurrentChildrenFromManyThreadsAllArrive) {
  FakePipeline p;
  Trace t(true);
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < 100; ++j) t->end_span(span("c"), nullptr, 0);
    });
  }
  for (auto& th : threads) th.join();
  t->end_root(span("root"), &p, 0);
  EXPECT_EQ(p.submitted.at(0).size(), 801u);
}

// A released trace is reused by the next create() on the releasing thread,
// with nothing of its previous life left: not ended, no buffered spans, no
// root attributes, no route or remote headers, the new head decision.
TEST(LocalTraceTest, ReleasedTraceIsReusedCleared) {
  LocalTrace* first = LocalTrace::create(/*sampled=*/false, /*tail_keep=*/false, 0);
  first->set_remote_headers("k=v", "b=1");
  first->set_route_id(7);
  first->end_span(span("buffered, never submitted"), nullptr, 0);
  EXPECT_TRUE(first->add_root_attribute("enduser.id", AttrValue(std::string("u")), 0));
  first->end_root(span("root"), nullptr, 0);
  first->unref();

  LocalTrace* second = LocalTrace::create(/*sampled=*/true, /*tail_keep=*/true, 0);
  EXPECT_EQ(second, first);  // from the cache
  EXPECT_TRUE(second->sampled());
  EXPECT_EQ(second->route_id(), 0u);
  EXPECT_TRUE(second->trace_state().empty());
  EXPECT_TRUE(second->baggage().empty());
  FakePipeline p;
  second->end_span(span("child"), &p, 0);
  EXPECT_TRUE(p.submitted.empty());  // buffered: the root has not ended in this life
  EXPECT_EQ(second->end_root(span("root"), &p, 0), KeepReason::kSampled);
  ASSERT_EQ(p.submitted.size(), 1u);
  ASSERT_EQ(p.submitted[0].size(), 2u);  // the old life's buffered span is gone
  EXPECT_EQ(find_attr(p.submitted[0][1], "enduser.id"), nullptr);
  second->unref();
}

// A root that never ended (a span never closed) leaves buffered spans; the
// trace's next life starts without them.
TEST(LocalTraceTest, AbandonedTraceIsReusedWithoutItsBufferedSpans) {
  LocalTrace* abandoned = LocalTrace::create(/*sampled=*/true, /*tail_keep=*/true, 0);
  for (int i = 0; i < 50; ++i) abandoned->end_span(span("orphan"), nullptr, 0);
  abandoned->unref();  // the root never ended
  LocalTrace* next = LocalTrace::create(/*sampled=*/true, /*tail_keep=*/true, 0);
  FakePipeline p;
  next->end_root(span("root"), &p, 0);
  ASSERT_EQ(p.submitted.size(), 1u);
  EXPECT_EQ(p.submitted[0].size(), 1u);  // the root alone
  next->unref();
}

// A trace released in a forked child may have been locked at the fork by a
// thread the child lacks: create() in another generation never hands it out.
TEST(LocalTraceTest, ReleasedTraceOfAnotherForkGenerationIsNotReused) {
  LocalTrace* parent = LocalTrace::create(true, true, 0);
  LocalTraceTestPeer::mutex(parent).lock();  // held at the fork by a thread now gone
  parent->unref();                           // released in the child: cached
  LocalTrace* child = LocalTrace::create(true, true, 1);
  // (child may be at parent's address, freshly allocated: check the lock.)
  ASSERT_TRUE(LocalTraceTestPeer::mutex(child).try_lock());
  LocalTraceTestPeer::mutex(child).unlock();
  child->unref();
  EXPECT_EQ(LocalTrace::create(true, true, 1), child);  // same generation: reused
  child->unref();
}

TEST(SpanRulesTest, UpsertReplacesAndLimits) {
  std::vector<Attribute> attrs;
  EXPECT_TRUE(upsert_attribute(attrs, "k", AttrValue(int64_t{1})));
  EXPECT_TRUE(upsert_attribute(attrs, "k", AttrValue(int64_t{2})));
  ASSERT_EQ(attrs.size(), 1u);
  EXPECT_EQ(std::get<int64_t>(attrs[0].value), 2);
  for (size_t i = attrs.size(); i < kMaxAttributesPerSpan; ++i) {
    EXPECT_TRUE(upsert_copied_attribute(attrs, "k" + std::to_string(i), AttrValue(true)));
  }
  EXPECT_FALSE(upsert_attribute(attrs, "one-too-many", AttrValue(true)));
  EXPECT_TRUE(upsert_attribute(attrs, "k", AttrValue(int64_t{3})));  // replacing still works
}

}  // namespace
}  // namespace pyrometer::agent
