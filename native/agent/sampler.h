// Sampler: the head-sampling decision for a new local root, from the
// OTEL_TRACES_SAMPLER values and the remote parent's sampled flag.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace pyrometer::agent {

// What is known about the parent of a new local root.
enum class ParentState : uint8_t {
  kNone,              // a new trace
  kRemoteSampled,     // incoming traceparent with flag 01
  kRemoteNotSampled,  // incoming traceparent with flag 00
};

// Immutable, trivially copyable: the tracer copies it on every root decision.
// Mirrors OpenTelemetry's samplers: `traceidratio` compares the low 64 bits of
// the trace id (big-endian bytes 8..15) with round(ratio * 2^64), exactly as the
// OTel Python SDK's TraceIdRatioBased does, so the same trace id gets the same
// answer in every service and every SDK that follows the spec.
class Sampler {
 public:
  enum class Kind : uint8_t {
    kAlwaysOn,
    kAlwaysOff,
    kTraceIdRatio,
    kParentBasedAlwaysOn,
    kParentBasedAlwaysOff,
    kParentBasedTraceIdRatio,
  };

  // Default: parentbased_always_on (the OTel default).
  constexpr Sampler() = default;
  static Sampler always_on() { return Sampler(Kind::kAlwaysOn, 1.0); }
  static Sampler always_off() { return Sampler(Kind::kAlwaysOff, 0.0); }
  // `ratio` is clamped to [0, 1].
  static Sampler ratio(double ratio, bool parent_based);

  // Parses OTEL_TRACES_SAMPLER (`name`) and OTEL_TRACES_SAMPLER_ARG (`arg`,
  // used only by the ratio samplers; empty means 1.0). On an unknown name or a
  // bad argument returns an InvalidArgument status naming the variable and
  // leaves `*out` set to the best usable sampler (the default for an unknown
  // name, ratio 1.0 for a bad argument), so the caller can warn and go on.
  static common::Status parse(std::string_view name, std::string_view arg, Sampler* out);

  // The head decision. Thread-safe (const, no state).
  bool should_sample(const uint8_t trace_id[16], ParentState parent) const;

  Kind kind() const { return kind_; }
  double ratio() const { return ratio_; }
  // The OTel sampler name, e.g. "parentbased_traceidratio".
  std::string_view name() const;

 private:
  Sampler(Kind kind, double ratio);
  bool root_decision(const uint8_t trace_id[16]) const;

  Kind kind_ = Kind::kParentBasedAlwaysOn;
  double ratio_ = 1.0;
  // Sampled when low64(trace_id) < bound_; `all_` covers ratio 1.0, whose
  // bound (2^64) does not fit in 64 bits.
  uint64_t bound_ = 0;
  bool all_ = true;
};

}  // namespace pyrometer::agent
