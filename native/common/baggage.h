// W3C `baggage` header: user-defined key=value pairs (with optional
// properties) that travel with a request; parse, percent-decoding, format.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace pyrometer::common {

// Grammar (W3C Baggage, section 3.2):
//   baggage-string = list-member 0*179( OWS "," OWS list-member )
//   list-member    = key OWS "=" OWS value *( OWS ";" OWS property )
//   property       = key OWS "=" OWS value / key OWS
//   key            = token (RFC 7230: 1*tchar)
//   value          = *baggage-octet, percent-encoded UTF-8
//   baggage-octet  = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
//
// Leniency, as the OpenTelemetry SDKs do it: an invalid list member is
// skipped (counted in ParseStats) and the others are kept; a header longer
// than kMaxBytes is ignored whole; members past kMaxMembers are dropped.
// Values (and property values) are stored percent-decoded; an invalid '%'
// escape is kept literally.
class Baggage {
 public:
  static constexpr size_t kMaxMembers = 180;
  static constexpr size_t kMaxBytes = 8192;

  struct Property {
    std::string key;
    std::optional<std::string> value;  // nullopt for a bare "key" property
    friend bool operator==(const Property&, const Property&) = default;
  };
  struct Member {
    std::string key;
    std::string value;  // decoded
    std::vector<Property> properties;
    friend bool operator==(const Member&, const Member&) = default;
  };
  struct ParseStats {
    size_t invalid_members = 0;  // skipped for a grammar error
    size_t over_limit = 0;       // members past kMaxMembers, or 1 if the header was too long
  };

  // Parses one header value; several `baggage` lines must be joined with ','.
  // Never fails: the worst case is an empty Baggage with stats saying why.
  static Baggage parse(std::string_view header, ParseStats* stats = nullptr);

  bool empty() const { return members_.empty(); }
  size_t size() const { return members_.size(); }
  const std::vector<Member>& members() const { return members_; }
  // The decoded value for `key` (the last one if repeated), or nullopt.
  std::optional<std::string_view> get(std::string_view key) const;
  // Sets `key` (replacing an existing entry, properties cleared). Returns false
  // for a key that is not a token. The value may be any UTF-8; it is encoded
  // on output.
  bool set(std::string_view key, std::string_view value);
  bool erase(std::string_view key);

  // Serialises with percent-encoding ("k=v;p=q,k2=v2"). Stops adding members
  // when the next would pass kMaxMembers or kMaxBytes, so the output is always
  // within limits.
  std::string to_header() const;

  static bool valid_key(std::string_view key);
  static std::string percent_encode(std::string_view raw);
  static std::string percent_decode(std::string_view encoded);

 private:
  std::vector<Member> members_;
};

}  // namespace pyrometer::common
