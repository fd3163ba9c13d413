// sql_fingerprint: the agent's adapter over common/sql_normalizer (one
// thread-local scratch object, so steady-state calls do not allocate).
#include "agent/sql_fingerprint.h"

#include "common/sql_normalizer.h"

namespace pyrometer::agent {

uint64_t sql_fingerprint(std::string_view text, std::string_view db_system,
                         std::string* normalized) {
  thread_local common::NormalizedSql scratch;
  common::SqlNormalizerOptions opts;
  if (db_system == "mysql" || db_system == "mariadb") opts.dialect = common::SqlDialect::kMySQL;
  common::normalize_sql(text, &scratch, opts);
  std::string_view t = scratch.text;
  normalized->assign(t.substr(0, kMaxSummaryBytes));
  return scratch.fingerprint;
}

}  // namespace pyrometer::agent
