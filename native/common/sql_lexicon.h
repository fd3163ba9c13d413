// SQL lexicon for the normaliser: byte classes, case-insensitive keyword
// comparison, the statement verbs and the words after which a sign is unary.
// Internal to sql_normalizer.cc; kept apart so the tokenizer reads in one sitting.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace pyrometer::common::sql_lexicon {

// Character classes by table: the loop runs per byte of every captured query.
enum : uint8_t { kSpace = 1, kDigit = 2, kHex = 4, kIdentStart = 8, kIdentChar = 16 };
constexpr std::array<uint8_t, 256> make_classes() {
  std::array<uint8_t, 256> t{};
  for (int c : {' ', '\t', '\n', '\r', '\f', '\v'}) t[c] = kSpace;
  for (int c = '0'; c <= '9'; ++c) t[c] = kDigit | kHex | kIdentChar;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = kIdentStart | kIdentChar;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = kIdentStart | kIdentChar;
  for (int c = 'a'; c <= 'f'; ++c) t[c] |= kHex;
  for (int c = 'A'; c <= 'F'; ++c) t[c] |= kHex;
  t['_'] = kIdentStart | kIdentChar;
  t['$'] = kIdentChar;
  for (int c = 0x80; c <= 0xff; ++c) t[c] = kIdentStart | kIdentChar;  // UTF-8 bytes
  return t;
}
constexpr std::array<uint8_t, 256> kClass = make_classes();

inline uint8_t cls(char c) { return kClass[static_cast<unsigned char>(c)]; }
inline bool is_space(char c) { return cls(c) & kSpace; }
inline bool is_digit(char c) { return cls(c) & kDigit; }
inline bool is_hex(char c) { return cls(c) & kHex; }
inline bool is_ident_start(char c) { return cls(c) & kIdentStart; }
inline bool is_ident_char(char c) { return cls(c) & kIdentChar; }

inline char upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }

inline bool iequals(std::string_view a, std::string_view upper_b) {
  if (a.size() != upper_b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (upper(a[i]) != upper_b[i]) return false;
  }
  return true;
}

// Statement verbs we recognise; operation points into this table.
constexpr std::array<std::string_view, 44> kVerbs = {
    "SELECT",    "INSERT",     "UPDATE",  "DELETE",   "WITH",    "REPLACE", "MERGE",  "UPSERT",
    "CREATE",    "ALTER",      "DROP",    "TRUNCATE", "BEGIN",   "START",   "COMMIT", "ROLLBACK",
    "SAVEPOINT", "RELEASE",    "SET",     "SHOW",     "EXPLAIN", "CALL",    "EXEC",   "EXECUTE",
    "PREPARE",   "DEALLOCATE", "DECLARE", "FETCH",    "CLOSE",   "GRANT",   "REVOKE", "VACUUM",
    "ANALYZE",   "COPY",       "LOCK",    "LISTEN",   "NOTIFY",  "PRAGMA",  "USE",    "REFRESH",
    "COMMENT",   "RESET",      "DO",      "VALUES"};

inline std::string_view lookup_verb(std::string_view word) {
  for (std::string_view v : kVerbs) {
    if (iequals(word, v)) return v;
  }
  return {};
}

// Words after which '-' or '+' before a number is a sign, not an operator.
inline bool precedes_value(std::string_view w) {
  static constexpr std::string_view kWords[] = {
      "SELECT", "WHERE",   "AND",  "OR",     "NOT",    "SET",    "VALUES", "THEN",
      "ELSE",   "WHEN",    "BY",   "LIMIT",  "OFFSET", "IN",     "IS",     "LIKE",
      "ILIKE",  "BETWEEN", "CASE", "HAVING", "ON",     "RETURN", "DEFAULT"};
  for (std::string_view k : kWords) {
    if (iequals(w, k)) return true;
  }
  return false;
}

}  // namespace pyrometer::common::sql_lexicon
