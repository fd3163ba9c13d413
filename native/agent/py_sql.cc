// Python binding of the SQL normaliser for the DB integrations:
// normalize_sql(sql, db_system="") -> (normalized, fingerprint_hex, operation, table).
#include "agent/py_sql.h"

#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>
#include <nanobind/stl/tuple.h>

#include <cinttypes>
#include <cstdio>
#include <string>
#include <string_view>
#include <tuple>

#include "common/sql_normalizer.h"

namespace nb = nanobind;

namespace pyrometer::agent::py {

NormalizedStatement normalize_statement(std::string_view sql, std::string_view db_system) {
  common::SqlNormalizerOptions options;
  if (db_system == "mysql" || db_system == "mariadb") {
    options.dialect = common::SqlDialect::kMySQL;
  }
  common::NormalizedSql out = common::normalize_sql(sql, options);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, out.fingerprint);
  return {std::move(out.text), std::string(hex), std::string(out.operation), std::move(out.table)};
}

namespace {

// The integrations call this once per statement, so it stays a plain function:
// no allocation beyond the returned strings. Never raises for any str.
std::tuple<std::string, std::string, std::string, std::string> normalize(
    std::string_view sql, std::string_view db_system) {
  NormalizedStatement n = normalize_statement(sql, db_system);
  return {std::move(n.text), std::move(n.fingerprint), std::move(n.operation), std::move(n.table)};
}

}  // namespace

void register_sql(nb::module_& m) {
  m.def("normalize_sql", &normalize, nb::arg("sql"), nb::arg("db_system") = "",
        "normalize_sql(sql, db_system='') -> (normalized, fingerprint_hex, operation, table)");
}

}  // namespace pyrometer::agent::py
