// traceparent: a strict, allocation-free parser that follows the W3C
// version-handling rules, and a fixed-size formatter.
#include "common/traceparent.h"

namespace pyrometer::common {

namespace {

inline bool is_ows(char c) { return c == ' ' || c == '\t'; }

inline bool parse_hex_byte(const char* p, uint8_t* out) {
  return internal::hex_to_bytes(std::string_view(p, 2), out, 1, /*lower_only=*/true);
}

}  // namespace

std::optional<TraceParent> parse_traceparent(std::string_view h) {
  while (!h.empty() && is_ows(h.front())) h.remove_prefix(1);
  while (!h.empty() && is_ows(h.back())) h.remove_suffix(1);
  if (h.size() < TraceParent::kHeaderSize) return std::nullopt;

  TraceParent tp;
  if (!parse_hex_byte(h.data(), &tp.version) || tp.version == 0xff) return std::nullopt;
  if (h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  if (tp.version == 0x00) {
    if (h.size() != TraceParent::kHeaderSize) return std::nullopt;
  } else if (h.size() > TraceParent::kHeaderSize && h[55] != '-') {
    return std::nullopt;
  }
  if (!internal::hex_to_bytes(h.substr(3, 32), tp.trace_id.mutable_bytes().data(), 16, true) ||
      !internal::hex_to_bytes(h.substr(36, 16), tp.parent_id.mutable_bytes().data(), 8, true) ||
      !parse_hex_byte(h.data() + 53, &tp.flags)) {
    return std::nullopt;
  }
  if (!tp.trace_id.is_valid() || !tp.parent_id.is_valid()) return std::nullopt;
  return tp;
}

void format_traceparent(const TraceParent& tp, char out[TraceParent::kHeaderSize]) {
  out[0] = '0';
  out[1] = '0';
  out[2] = '-';
  tp.trace_id.write_hex(out + 3);
  out[35] = '-';
  tp.parent_id.write_hex(out + 36);
  out[52] = '-';
  internal::bytes_to_hex(&tp.flags, 1, out + 53);
}

std::string format_traceparent(const TraceParent& tp) {
  std::string s(TraceParent::kHeaderSize, '0');
  format_traceparent(tp, s.data());
  return s;
}

std::optional<TraceContext> extract_trace_context(std::string_view traceparent,
                                                  std::string_view tracestate) {
  std::optional<TraceParent> parent = parse_traceparent(traceparent);
  if (!parent) return std::nullopt;
  TraceContext ctx;
  ctx.parent = *parent;
  if (std::optional<TraceState> state = TraceState::parse(tracestate)) {
    ctx.state = std::move(*state);
  } else {
    ctx.tracestate_dropped = true;
  }
  return ctx;
}

}  // namespace pyrometer::common
