// The SQL normaliser as the DB integrations use it (binding layer): one
// statement in, the four values every statement span carries out.
#pragma once

#include <string>
#include <string_view>

namespace pyrometer::agent::py {

struct NormalizedStatement {
  std::string text;         // literals replaced by ?
  std::string fingerprint;  // 16 lower-case hex digits
  std::string operation;    // SELECT, INSERT, ... or empty
  std::string table;        // the first table, or empty
};

// Normalises `sql`; `db_system` picks the dialect (MySQL and MariaDB quote and
// escape differently). Never fails: any text gives some result.
NormalizedStatement normalize_statement(std::string_view sql, std::string_view db_system);

}  // namespace pyrometer::agent::py
