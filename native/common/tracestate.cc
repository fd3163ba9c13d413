// TraceState: strict parse of the W3C tracestate list, update-to-front, and
// serialisation with the W3C truncation rule.
#include "common/tracestate.h"

#include <algorithm>

namespace pyrometer::common {

namespace {

inline bool is_lcalpha(char c) { return c >= 'a' && c <= 'z'; }
inline bool is_digit(char c) { return c >= '0' && c <= '9'; }
inline bool is_key_char(char c) {
  return is_lcalpha(c) || is_digit(c) || c == '_' || c == '-' || c == '*' || c == '/';
}
inline bool is_nblk(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u >= 0x21 && u <= 0x7e && c != ',' && c != '=';
}
inline bool is_ows(char c) { return c == ' ' || c == '\t'; }

std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

bool TraceState::valid_key(std::string_view key) {
  size_t at = key.find('@');
  if (at == std::string_view::npos) {
    if (key.empty() || key.size() > 256 || !is_lcalpha(key[0])) return false;
    return std::all_of(key.begin() + 1, key.end(), is_key_char);
  }
  std::string_view tenant = key.substr(0, at);
  std::string_view system = key.substr(at + 1);
  if (tenant.empty() || tenant.size() > 241) return false;
  if (!is_lcalpha(tenant[0]) && !is_digit(tenant[0])) return false;
  if (!std::all_of(tenant.begin() + 1, tenant.end(), is_key_char)) return false;
  if (system.empty() || system.size() > 14 || !is_lcalpha(system[0])) return false;
  return std::all_of(system.begin() + 1, system.end(), is_key_char);  // rejects a second '@'
}

bool TraceState::valid_value(std::string_view value) {
  if (value.empty() || value.size() > 256) return false;
  if (!is_nblk(value.back())) return false;
  for (char c : value) {
    if (c != ' ' && !is_nblk(c)) return false;
  }
  return true;
}

std::optional<TraceState> TraceState::parse(std::string_view header) {
  TraceState state;
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view member = trim_ows(header.substr(pos, comma - pos));
    pos = comma + 1;
    if (member.empty()) continue;  // empty list members are allowed and ignored
    size_t eq = member.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view key = member.substr(0, eq);
    std::string_view value = member.substr(eq + 1);
    // The grammar has no OWS around '=': "foo =1" fails valid_key. A value may
    // start with a space (it is a `chr`), so "foo= 1" is valid with value " 1".
    if (!valid_key(key) || !valid_value(value)) return std::nullopt;
    if (state.entries_.size() == kMaxEntries) return std::nullopt;
    for (const Entry& e : state.entries_) {
      if (e.key == key) return std::nullopt;  // duplicate keys make the header invalid
    }
    state.entries_.push_back(Entry{std::string(key), std::string(value)});
  }
  return state;
}

std::optional<std::string_view> TraceState::get(std::string_view key) const {
  for (const Entry& e : entries_) {
    if (e.key == key) return std::string_view(e.value);
  }
  return std::nullopt;
}

bool TraceState::put(std::string_view key, std::string_view value) {
  if (!valid_key(key) || !valid_value(value)) return false;
  erase(key);
  if (entries_.size() == kMaxEntries) entries_.pop_back();
  entries_.insert(entries_.begin(), Entry{std::string(key), std::string(value)});
  return true;
}

bool TraceState::erase(std::string_view key) {
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->key == key) {
      entries_.erase(it);
      return true;
    }
  }
  return false;
}

std::string TraceState::to_header() const {
  auto length_of = [](const std::vector<const Entry*>& list) {
    size_t n = 0;
    for (const Entry* e : list) n += e->key.size() + 1 + e->value.size();
    return n + (list.empty() ? 0 : list.size() - 1);
  };
  std::vector<const Entry*> keep;
  keep.reserve(entries_.size());
  for (const Entry& e : entries_) keep.push_back(&e);
  if (length_of(keep) > kMaxHeaderLength) {
    for (size_t i = keep.size(); i-- > 0 && length_of(keep) > kMaxHeaderLength;) {
      if (keep[i]->key.size() + 1 + keep[i]->value.size() > 128) keep.erase(keep.begin() + i);
    }
    while (!keep.empty() && length_of(keep) > kMaxHeaderLength) keep.pop_back();
  }
  std::string out;
  out.reserve(length_of(keep));
  for (const Entry* e : keep) {
    if (!out.empty()) out += ',';
    out += e->key;
    out += '=';
    out += e->value;
  }
  return out;
}

}  // namespace pyrometer::common
