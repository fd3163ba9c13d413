// Sampler: the head-sampling decision for a new local root, from the
// OTEL_TRACES_SAMPLER values and the remote parent's sampled flag.
#include "agent/sampler.h"

#include <cmath>
#include <cstdlib>
#include <string>

#include "common/big_endian.h"

namespace pyrometer::agent {

Sampler::Sampler(Kind kind, double ratio) : kind_(kind) {
  if (!(ratio > 0.0)) ratio = 0.0;  // also maps NaN to 0
  if (ratio > 1.0) ratio = 1.0;
  ratio_ = ratio;
  // 2^64 * ratio, rounded like Python's round(); 1.0 needs 2^64, which is `all_`.
  const long double bound =
      std::nearbyint(static_cast<long double>(ratio) * 18446744073709551616.0L);
  all_ = bound >= 18446744073709551616.0L;
  bound_ = all_ ? 0 : static_cast<uint64_t>(bound);
}

Sampler Sampler::ratio(double ratio, bool parent_based) {
  return Sampler(parent_based ? Kind::kParentBasedTraceIdRatio : Kind::kTraceIdRatio, ratio);
}

common::Status Sampler::parse(std::string_view name, std::string_view arg, Sampler* out) {
  struct Entry {
    std::string_view name;
    Kind kind;
  };
  static constexpr Entry kEntries[] = {
      {"always_on", Kind::kAlwaysOn},
      {"always_off", Kind::kAlwaysOff},
      {"traceidratio", Kind::kTraceIdRatio},
      {"parentbased_always_on", Kind::kParentBasedAlwaysOn},
      {"parentbased_always_off", Kind::kParentBasedAlwaysOff},
      {"parentbased_traceidratio", Kind::kParentBasedTraceIdRatio},
  };
  if (name.empty()) {
    *out = Sampler();
    return common::Status::ok_status();
  }
  for (const Entry& e : kEntries) {
    if (e.name != name) continue;
    if (e.kind == Kind::kAlwaysOff || e.kind == Kind::kParentBasedAlwaysOff) {
      *out = Sampler(e.kind, 0.0);
      return common::Status::ok_status();
    }
    if (e.kind == Kind::kAlwaysOn || e.kind == Kind::kParentBasedAlwaysOn) {
      *out = Sampler(e.kind, 1.0);
      return common::Status::ok_status();
    }
    double ratio = 1.0;
    if (!arg.empty()) {
      const std::string text(arg);
      char* end = nullptr;
      ratio = std::strtod(text.c_str(), &end);
      if (end != text.c_str() + text.size() || !(ratio >= 0.0 && ratio <= 1.0)) {
        *out = Sampler(e.kind, 1.0);
        return common::Status::invalid_argument(
            "OTEL_TRACES_SAMPLER_ARG: expected a ratio in [0, 1], got '" + text + "'; using 1.0");
      }
    }
    *out = Sampler(e.kind, ratio);
    return common::Status::ok_status();
  }
  *out = Sampler();
  return common::Status::invalid_argument("OTEL_TRACES_SAMPLER: unknown sampler '" +
                                          std::string(name) + "'; using parentbased_always_on");
}

bool Sampler::root_decision(const uint8_t trace_id[16]) const {
  switch (kind_) {
    case Kind::kAlwaysOn:
    case Kind::kParentBasedAlwaysOn:
      return true;
    case Kind::kAlwaysOff:
    case Kind::kParentBasedAlwaysOff:
      return false;
    case Kind::kTraceIdRatio:
    case Kind::kParentBasedTraceIdRatio:
      break;
  }
  if (all_) return true;
  return common::load_be64(trace_id + 8) < bound_;
}

bool Sampler::should_sample(const uint8_t trace_id[16], ParentState parent) const {
  const bool parent_based = kind_ == Kind::kParentBasedAlwaysOn ||
                            kind_ == Kind::kParentBasedAlwaysOff ||
                            kind_ == Kind::kParentBasedTraceIdRatio;
  if (parent_based && parent != ParentState::kNone) return parent == ParentState::kRemoteSampled;
  return root_decision(trace_id);
}

std::string_view Sampler::name() const {
  switch (kind_) {
    case Kind::kAlwaysOn:
      return "always_on";
    case Kind::kAlwaysOff:
      return "always_off";
    case Kind::kTraceIdRatio:
      return "traceidratio";
    case Kind::kParentBasedAlwaysOn:
      return "parentbased_always_on";
    case Kind::kParentBasedAlwaysOff:
      return "parentbased_always_off";
    case Kind::kParentBasedTraceIdRatio:
      return "parentbased_traceidratio";
  }
  return "parentbased_always_on";
}

}  // namespace pyrometer::agent
