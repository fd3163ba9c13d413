// SQL normaliser: turns a statement into its shape (literals and placeholders
// become '?', lists collapse, comments and extra whitespace go) plus a stable
// 64-bit fingerprint, the operation and the main table. Rules: docs/format/fingerprints.md.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace pyrometer::common {

// Bumped whenever a rule change alters the normalised text (and so the
// fingerprint) of any statement. The server stores it next to fingerprints.
inline constexpr int kSqlNormalizerVersion = 1;

enum class SqlDialect : uint8_t {
  kStandard,  // PostgreSQL, SQLite, ANSI: "x" is an identifier, '\' is not an escape in '...'
  kMySQL,     // MySQL/MariaDB: "x" is a string, '\' escapes in strings, '#' starts a comment
};

struct SqlNormalizerOptions {
  SqlDialect dialect = SqlDialect::kStandard;
};

struct NormalizedSql {
  // The normalised statement (see the rules below). Its XXH3-64 is `fingerprint`.
  std::string text;
  uint64_t fingerprint = 0;
  // The statement's verb in upper case ("SELECT", "INSERT", ...; for
  // "WITH ... SELECT" the main verb), or empty if the first word is not a
  // known verb. Points to static storage.
  std::string_view operation;
  // Best-effort main table (OTel db.collection.name): the first table after
  // FROM (SELECT, DELETE), INTO (INSERT, REPLACE), UPDATE, or TABLE (CREATE,
  // ALTER, DROP, TRUNCATE) at the statement's top level; schema prefix kept,
  // quotes removed ("public"."users" -> public.users). Empty if not found
  // (e.g. FROM a subquery).
  std::string table;

  // "SELECT users", or just the operation, or "" — an OTel-style span name.
  std::string span_name() const;
};

// Normalises `sql` in one pass without regular expressions. Rules (kStandard):
//  - literals become '?': numbers (integer, decimal, exponent, 0x hex, with a
//    leading sign where it is unary), '...' strings with '' escapes, prefixed
//    strings E'..' (backslash escapes) N'..' X'..' B'..' U&'..', dollar-quoted
//    strings $$..$$ / $tag$..$tag$, and the keywords TRUE and FALSE. NULL is
//    kept (IS NULL / IS NOT NULL are structure);
//  - placeholders become '?': %s %b %t, %(name)s, ?, ?N, $N, :name,
//    SQLAlchemy's unexpanded __[POSTCOMPILE_name];
//  - a list of only '?' after IN, or in ARRAY[...], collapses to one: IN (?);
//    consecutive identical tuples after VALUES collapse to the first:
//    VALUES (?, ?), (?, ?) -> VALUES (?, ?);
//  - comments (-- to end of line, nested /* */) are removed; each run of
//    whitespace and comments becomes one space, except that there is none
//    after '(' or '.', none before ')' ',' '.' ';', and exactly one after ',';
//  - identifiers and keywords keep their spelling and case; "quoted" and
//    `backtick` identifiers are kept verbatim;
//  - trailing ';' and whitespace are dropped.
// Never fails: malformed SQL (unterminated string or comment) is normalised
// as far as it goes. Allocates only in out->text and out->table (whose
// capacity is reused when `out` is reused). Thread-safe (no shared state).
void normalize_sql(std::string_view sql, NormalizedSql* out,
                   const SqlNormalizerOptions& options = {});
NormalizedSql normalize_sql(std::string_view sql, const SqlNormalizerOptions& options = {});

// XXH3_64bits (seed 0) of the normalised text's bytes: stable across runs,
// processes, machines and endianness; part of the fingerprint format.
uint64_t sql_fingerprint(std::string_view normalized_text);

}  // namespace pyrometer::common
