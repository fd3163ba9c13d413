// Baggage: lenient member-by-member parsing of the W3C baggage header with
// percent-decoding, and a limit-respecting serialiser.
#include "common/baggage.h"

#include <algorithm>

namespace pyrometer::common {

namespace {

inline bool is_ows(char c) { return c == ' ' || c == '\t'; }

inline bool is_tchar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
      return true;
    default:
      return false;
  }
}

inline bool is_baggage_octet(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2b) || (u >= 0x2d && u <= 0x3a) ||
         (u >= 0x3c && u <= 0x5b) || (u >= 0x5d && u <= 0x7e);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ows(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back())) s.remove_suffix(1);
  return s;
}

inline int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool valid_value(std::string_view v) { return std::all_of(v.begin(), v.end(), is_baggage_octet); }

// Splits "key OWS = OWS value" (value optional when allow_bare). False on error.
bool split_pair(std::string_view text, bool allow_bare, std::string_view* key,
                std::optional<std::string_view>* value) {
  text = trim(text);
  size_t eq = text.find('=');
  if (eq == std::string_view::npos) {
    if (!allow_bare || !Baggage::valid_key(text)) return false;
    *key = text;
    *value = std::nullopt;
    return true;
  }
  *key = trim(text.substr(0, eq));
  std::string_view v = trim(text.substr(eq + 1));
  if (!Baggage::valid_key(*key) || !valid_value(v)) return false;
  *value = v;
  return true;
}

}  // namespace

bool Baggage::valid_key(std::string_view key) {
  return !key.empty() && std::all_of(key.begin(), key.end(), is_tchar);
}

std::string Baggage::percent_decode(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size()) {
      int hi = hex_value(in[i + 1]), lo = hex_value(in[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out += static_cast<char>(hi << 4 | lo);
        i += 2;
        continue;
      }
    }
    out += in[i];
  }
  return out;
}

std::string Baggage::percent_encode(std::string_view in) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(in.size());
  for (char c : in) {
    if (is_baggage_octet(c) && c != '%') {
      out += c;
    } else {
      unsigned char u = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  return out;
}

Baggage Baggage::parse(std::string_view header, ParseStats* stats) {
  ParseStats local;
  ParseStats& st = stats ? *stats : local;
  Baggage b;
  if (header.size() > kMaxBytes) {
    st.over_limit = 1;
    return b;
  }
  size_t pos = 0;
  while (pos <= header.size()) {
    size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view text = trim(header.substr(pos, comma - pos));
    pos = comma + 1;
    if (text.empty()) continue;
    if (b.members_.size() == kMaxMembers) {
      ++st.over_limit;
      continue;
    }
    // First ';'-separated part is the key=value pair, the rest are properties.
    size_t semi = text.find(';');
    std::string_view key;
    std::optional<std::string_view> value;
    if (!split_pair(text.substr(0, semi), /*allow_bare=*/false, &key, &value)) {
      ++st.invalid_members;
      continue;
    }
    Member m{std::string(key), percent_decode(*value), {}};
    bool ok = true;
    while (semi != std::string_view::npos) {
      size_t start = semi + 1;
      semi = text.find(';', start);
      std::string_view prop =
          text.substr(start, semi == std::string_view::npos ? semi : semi - start);
      std::string_view pkey;
      std::optional<std::string_view> pvalue;
      if (!split_pair(prop, /*allow_bare=*/true, &pkey, &pvalue)) {
        ok = false;
        break;
      }
      m.properties.push_back(
          Property{std::string(pkey),
                   pvalue ? std::optional<std::string>(percent_decode(*pvalue)) : std::nullopt});
    }
    if (!ok) {
      ++st.invalid_members;
      continue;
    }
    b.members_.push_back(std::move(m));
  }
  return b;
}

std::optional<std::string_view> Baggage::get(std::string_view key) const {
  for (auto it = members_.rbegin(); it != members_.rend(); ++it) {
    if (it->key == key) return std::string_view(it->value);
  }
  return std::nullopt;
}

bool Baggage::set(std::string_view key, std::string_view value) {
  if (!valid_key(key)) return false;
  erase(key);
  members_.push_back(Member{std::string(key), std::string(value), {}});
  return true;
}

bool Baggage::erase(std::string_view key) {
  auto it = std::remove_if(members_.begin(), members_.end(),
                           [&](const Member& m) { return m.key == key; });
  bool found = it != members_.end();
  members_.erase(it, members_.end());
  return found;
}

std::string Baggage::to_header() const {
  std::string out;
  size_t count = 0;
  for (const Member& m : members_) {
    if (count == kMaxMembers) break;
    std::string item = m.key + "=" + percent_encode(m.value);
    for (const Property& p : m.properties) {
      item += ';';
      item += p.key;
      if (p.value) {
        item += '=';
        item += percent_encode(*p.value);
      }
    }
    size_t added = item.size() + (out.empty() ? 0 : 1);
    if (out.size() + added > kMaxBytes) continue;  // a smaller later member may still fit
    if (!out.empty()) out += ',';
    out += item;
    ++count;
  }
  return out;
}

}  // namespace pyrometer::common
