// Tests for the SQL normaliser on statements exactly as Django, SQLAlchemy,
// psycopg and sqlite3 emit them, with and without interpolated literals.
#include "common/sql_normalizer.h"

#include <gtest/gtest.h>

#include <string>

namespace pyrometer::common {
namespace {

std::string norm(std::string_view sql) { return normalize_sql(sql).text; }

TEST(SqlNormalizerTest, DjangoOrmQuery) {
  constexpr std::string_view kDjango =
      "SELECT \"app_user\".\"id\", \"app_user\".\"password\", \"app_user\".\"last_login\", "
      "\"app_user\".\"is_superuser\", \"app_user\".\"username\" FROM \"app_user\" WHERE "
      "\"app_user\".\"id\" = %s LIMIT 21";
  NormalizedSql r = normalize_sql(kDjango);
  EXPECT_EQ(r.text,
            "SELECT \"app_user\".\"id\", \"app_user\".\"password\", \"app_user\".\"last_login\", "
            "\"app_user\".\"is_superuser\", \"app_user\".\"username\" FROM \"app_user\" WHERE "
            "\"app_user\".\"id\" = ? LIMIT ?");
  EXPECT_EQ(r.operation, "SELECT");
  EXPECT_EQ(r.table, "app_user");
  EXPECT_EQ(r.span_name(), "SELECT app_user");
  // The same statement with the value interpolated (capture on) and another limit.
  std::string literal(kDjango);
  literal.replace(literal.find("%s"), 2, "12345");
  literal.replace(literal.find("21"), 2, "1");
  EXPECT_EQ(normalize_sql(literal).fingerprint, r.fingerprint);
}

TEST(SqlNormalizerTest, DjangoInsertAndInList) {
  NormalizedSql ins = normalize_sql(
      "INSERT INTO \"polls_choice\" (\"question_id\", \"choice_text\", \"votes\") VALUES (%s, %s, "
      "%s), (%s, %s, %s) RETURNING \"polls_choice\".\"id\"");
  EXPECT_EQ(ins.text,
            "INSERT INTO \"polls_choice\" (\"question_id\", \"choice_text\", \"votes\") VALUES (?, "
            "?, ?) RETURNING \"polls_choice\".\"id\"");
  EXPECT_EQ(ins.span_name(), "INSERT polls_choice");
  EXPECT_EQ(norm("SELECT \"t\".\"id\" FROM \"t\" WHERE \"t\".\"id\" IN (%s, %s, %s, %s)"),
            "SELECT \"t\".\"id\" FROM \"t\" WHERE \"t\".\"id\" IN (?)");
  EXPECT_EQ(
      normalize_sql("SELECT \"t\".\"id\" FROM \"t\" WHERE \"t\".\"id\" IN (1, 2)").fingerprint,
      normalize_sql("SELECT \"t\".\"id\" FROM \"t\" WHERE \"t\".\"id\" IN (7)").fingerprint);
}

TEST(SqlNormalizerTest, SqlAlchemyCoreStatements) {
  // SQLAlchemy renders newlines before FROM and WHERE, and pyformat names.
  NormalizedSql r =
      normalize_sql("SELECT users.id, users.name \nFROM users \nWHERE users.id = %(id_1)s");
  EXPECT_EQ(r.text, "SELECT users.id, users.name FROM users WHERE users.id = ?");
  EXPECT_EQ(r.span_name(), "SELECT users");
  // Unexpanded and expanded "expanding" IN parameters give the same shape.
  const std::string a =
      norm("SELECT users.id \nFROM users \nWHERE users.id IN (__[POSTCOMPILE_id_1])");
  const std::string b =
      norm("SELECT users.id \nFROM users \nWHERE users.id IN (%(id_1_1)s, %(id_1_2)s, %(id_1_3)s)");
  const std::string c = norm("SELECT users.id \nFROM users \nWHERE users.id IN (5, 6)");
  EXPECT_EQ(a, "SELECT users.id FROM users WHERE users.id IN (?)");
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, c);
  EXPECT_EQ(norm("INSERT INTO users (name, fullname) VALUES (%(name)s, %(fullname)s)"),
            "INSERT INTO users (name, fullname) VALUES (?, ?)");
  // sqlite dialect: qmark style.
  EXPECT_EQ(norm("SELECT users.id \nFROM users \nWHERE users.name = ? AND users.age > ?"),
            "SELECT users.id FROM users WHERE users.name = ? AND users.age > ?");
}

TEST(SqlNormalizerTest, PsycopgAndSqlitePlaceholders) {
  EXPECT_EQ(norm("SELECT * FROM t WHERE a = $1 AND b = $12"),
            "SELECT * FROM t WHERE a = ? AND b = ?");
  EXPECT_EQ(norm("INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4)"),
            "INSERT INTO t (a, b) VALUES (?, ?)");
  EXPECT_EQ(norm("SELECT * FROM t WHERE a = %b AND b = %t"),
            "SELECT * FROM t WHERE a = ? AND b = ?");
  EXPECT_EQ(norm("SELECT * FROM t WHERE a = ?1 AND b = :name AND c = :1"),
            "SELECT * FROM t WHERE a = ? AND b = ? AND c = ?");
  EXPECT_EQ(norm("select x from t where y like 'a%%' and z = 5 % 3"),
            "select x from t where y like ? and z = ? % ?");
}

TEST(SqlNormalizerTest, NumericLiterals) {
  EXPECT_EQ(norm("SELECT 1, 1.5, .5, 1e10, 1.5E-3, 0x1F, -2, +3.0 FROM t"),
            "SELECT ?, ?, ?, ?, ?, ?, ?, ? FROM t");
  // Binary minus stays an operator; unary sign joins the literal.
  EXPECT_EQ(norm("SELECT a-1, a - 1, (-1), x = -1, y * -2 FROM t2"),
            "SELECT a-?, a - ?, (?), x = ?, y * ? FROM t2");
  // Digits inside identifiers are not literals.
  EXPECT_EQ(norm("SELECT col1, t2.c3 FROM tab9"), "SELECT col1, t2.c3 FROM tab9");
}

TEST(SqlNormalizerTest, StringLiterals) {
  EXPECT_EQ(norm("SELECT 'it''s', E'a\\'b', N'n', X'FF', B'101', U&'d\\0061t' FROM t"),
            "SELECT ?, ?, ?, ?, ?, ? FROM t");
  // Standard strings: a backslash is an ordinary character.
  EXPECT_EQ(norm("SELECT * FROM t WHERE p = 'C:\\' AND q = 1"),
            "SELECT * FROM t WHERE p = ? AND q = ?");
  EXPECT_EQ(norm("SELECT $$it's$$, $tag$ a $$ b $tag$, $1"), "SELECT ?, ?, ?");
  EXPECT_EQ(norm("SELECT TRUE, false, NULL FROM t WHERE x IS NULL"),
            "SELECT ?, ?, NULL FROM t WHERE x IS NULL");
}

TEST(SqlNormalizerTest, IdentifiersKeptVerbatim) {
  EXPECT_EQ(norm("SELECT \"Weird \"\"Name\"\"\", `tick` FROM \"My Table\""),
            "SELECT \"Weird \"\"Name\"\"\", `tick` FROM \"My Table\"");
  EXPECT_EQ(normalize_sql("SELECT 1 FROM \"My Table\"").table, "My Table");
  // Case is preserved (not upper-cased).
  EXPECT_EQ(norm("select Id from Users where Name = 'x'"), "select Id from Users where Name = ?");
}

TEST(SqlNormalizerTest, CommentsAndWhitespace) {
  EXPECT_EQ(
      norm("  SELECT\t*\n\n FROM t -- the table\n WHERE /* nested /* inner */ still */ a=1 ;  "),
      "SELECT * FROM t WHERE a=?");
  // sqlcommenter-style trailing comments do not change the fingerprint.
  EXPECT_EQ(normalize_sql("SELECT * FROM t /*traceparent='00-abc-def-01'*/").fingerprint,
            normalize_sql("SELECT * FROM t").fingerprint);
  // Canonical spacing around punctuation.
  EXPECT_EQ(norm("SELECT f( a ,b ) FROM t . x"), "SELECT f(a, b) FROM t.x");
  EXPECT_EQ(norm("SELECT 1;"), "SELECT ?");
  EXPECT_EQ(norm("BEGIN; COMMIT;"), "BEGIN; COMMIT");
  EXPECT_EQ(norm(""), "");
  EXPECT_EQ(norm("   -- only a comment"), "");
}

TEST(SqlNormalizerTest, ListsThatMustNotCollapse) {
  // A subquery in IN, a function-call list, tuples that differ, nested tuples.
  EXPECT_EQ(norm("SELECT * FROM a WHERE id IN (SELECT id FROM b WHERE c = 1)"),
            "SELECT * FROM a WHERE id IN (SELECT id FROM b WHERE c = ?)");
  EXPECT_EQ(norm("SELECT coalesce(1, 2, 3) FROM t"), "SELECT coalesce(?, ?, ?) FROM t");
  EXPECT_EQ(norm("INSERT INTO t VALUES (1, 2), (3, DEFAULT)"),
            "INSERT INTO t VALUES (?, ?), (?, DEFAULT)");
  EXPECT_EQ(norm("SELECT * FROM t WHERE (a, b) IN ((1, 2), (3, 4))"),
            "SELECT * FROM t WHERE (a, b) IN ((?, ?), (?, ?))");
  EXPECT_EQ(norm("SELECT * FROM t WHERE a IN ()"), "SELECT * FROM t WHERE a IN ()");
}

TEST(SqlNormalizerTest, ValuesCollapseAcrossManyRows) {
  std::string many = "INSERT INTO t (a, b) VALUES ";
  for (int i = 0; i < 100; ++i)
    many += (i ? ", " : "") + std::string("(") + std::to_string(i) + ", 'x')";
  many += " ON CONFLICT (a) DO NOTHING";
  EXPECT_EQ(norm(many), "INSERT INTO t (a, b) VALUES (?, ?) ON CONFLICT (a) DO NOTHING");
}

TEST(SqlNormalizerTest, OperationAndTable) {
  struct Case {
    const char* sql;
    const char* op;
    const char* table;
  } cases[] = {
      {"UPDATE ONLY \"app_user\" SET \"name\" = %s WHERE id = %s", "UPDATE", "app_user"},
      {"DELETE FROM `shop`.`orders` WHERE id = ?", "DELETE", "shop.orders"},
      {"WITH r AS (SELECT * FROM o) SELECT count(*) FROM r JOIN c ON c.id = r.cid", "SELECT", "r"},
      {"WITH r AS (SELECT 1) INSERT INTO logs SELECT * FROM r", "INSERT", "logs"},
      {"select * from public.users u where u.id = 1", "SELECT", "public.users"},
      {"SELECT (SELECT max(x) FROM inner_t) FROM outer_t", "SELECT", "outer_t"},
      {"SELECT * FROM (SELECT 1) AS s", "SELECT", ""},
      {"CREATE TABLE IF NOT EXISTS events (id int)", "CREATE", "events"},
      {"DROP TABLE old_stuff", "DROP", "old_stuff"},
      {"TRUNCATE TABLE logs", "TRUNCATE", "logs"},
      {"INSERT OR REPLACE INTO kv (k, v) VALUES (?, ?)", "INSERT", "kv"},
      {"SAVEPOINT \"s1_x\"", "SAVEPOINT", ""},
      {"frobnicate the database", "", ""},
      {"(SELECT a FROM t1) UNION (SELECT a FROM t2)", "SELECT", "t1"},
  };
  for (const Case& c : cases) {
    NormalizedSql r = normalize_sql(c.sql);
    EXPECT_EQ(r.operation, c.op) << c.sql;
    EXPECT_EQ(r.table, c.table) << c.sql;
  }
  EXPECT_EQ(normalize_sql("COMMIT").span_name(), "COMMIT");
  EXPECT_EQ(normalize_sql("frobnicate").span_name(), "");
}

TEST(SqlNormalizerTest, MySqlDialect) {
  SqlNormalizerOptions my{SqlDialect::kMySQL};
  NormalizedSql r = normalize_sql(
      "SELECT `auth_user`.`id` FROM `auth_user` WHERE `auth_user`.`username` = 'o\\'brien' AND "
      "note = \"dq\" # trailing",
      my);
  EXPECT_EQ(
      r.text,
      "SELECT `auth_user`.`id` FROM `auth_user` WHERE `auth_user`.`username` = ? AND note = ?");
  EXPECT_EQ(r.table, "auth_user");
  // Without the dialect, "dq" is an identifier and the backslash does not escape.
  EXPECT_EQ(norm("SELECT 1 FROM t WHERE note = \"dq\""), "SELECT ? FROM t WHERE note = \"dq\"");
}

TEST(SqlNormalizerTest, SameShapeSameFingerprintDifferentShapeDifferent) {
  const uint64_t a = normalize_sql("SELECT * FROM users WHERE id = 1 AND name = 'a'").fingerprint;
  EXPECT_EQ(a,
            normalize_sql("SELECT  *  FROM users\nWHERE id = 99 AND name = 'zzz' ;").fingerprint);
  EXPECT_EQ(a, normalize_sql("SELECT * FROM users WHERE id = %s AND name = %s").fingerprint);
  EXPECT_NE(a, normalize_sql("SELECT * FROM users WHERE id = 1 OR name = 'a'").fingerprint);
  EXPECT_NE(a, normalize_sql("SELECT * FROM accounts WHERE id = 1 AND name = 'a'").fingerprint);
  EXPECT_NE(a, normalize_sql("select * from users where id = 1 and name = 'a'").fingerprint);
}

TEST(SqlNormalizerTest, FingerprintIsXxh3OfTextAndStable) {
  // Golden values: part of the fingerprint format (docs/format/fingerprints.md).
  EXPECT_EQ(sql_fingerprint(""), 0x2d06800538d394c2ull);
  NormalizedSql r = normalize_sql("SELECT 1");
  EXPECT_EQ(r.text, "SELECT ?");
  EXPECT_EQ(r.fingerprint, sql_fingerprint("SELECT ?"));
  EXPECT_EQ(r.fingerprint, 0xa3a8f2b7cf2a1b0eull);
}

TEST(SqlNormalizerTest, MalformedInputNeverFails) {
  EXPECT_EQ(norm("SELECT * FROM t WHERE a = 'unterminated"), "SELECT * FROM t WHERE a = ?");
  EXPECT_EQ(norm("SELECT /* unterminated"), "SELECT");
  EXPECT_EQ(norm("SELECT ))) ((( \"x"), "SELECT))) (((\"x");
  EXPECT_EQ(norm("SELECT $tag$ never closed"), "SELECT ?");
  std::string deep = "SELECT ";
  for (int i = 0; i < 200; ++i) deep += "(";
  deep += "1";
  for (int i = 0; i < 200; ++i) deep += ")";
  EXPECT_EQ(norm(deep), "SELECT " + std::string(200, '(') + "?" + std::string(200, ')'));
}

// The server may re-normalise stored text, so normalising twice changes
// nothing. Includes the shapes the fuzzer found (whitespace and comments
// inside a pyformat key or after SQLAlchemy's "__[").
TEST(SqlNormalizerTest, NormalisedTextIsAFixedPoint) {
  const char* cases[] = {
      "SELECT \"app_user\".\"id\" FROM \"app_user\" WHERE \"app_user\".\"id\" = %s LIMIT 21",
      "SELECT users.id \nFROM users \nWHERE users.id IN (__[POSTCOMPILE_id_1])",
      "INSERT INTO t (a, b) VALUES ($1, $2), ($3, $4) ON CONFLICT DO NOTHING",
      "SELECT a FROM t WHERE x = %(a )s AND y = %(b/* c */)s",
      "SELECT a FROM t WHERE x IN (__[ POSTCOMPILE_x]) AND y IN (__[/* c */POSTCOMPILE_y])",
      "SELECT a[1:2], b::text, :name, - 1, x-1, 'it''s', $$q$$ FROM t -- c",
      "UPDATE t SET a = E'\\'' , b = N'x' WHERE c = ANY(ARRAY[1, 2])",
  };
  for (const char* c : cases) {
    const std::string once = norm(c);
    EXPECT_EQ(norm(once), once) << c;
  }
  EXPECT_EQ(norm("SELECT a FROM t WHERE x = %(a )s"), "SELECT a FROM t WHERE x = ?");
  EXPECT_EQ(norm("SELECT a FROM t WHERE x IN (__[ POSTCOMPILE_x])"),
            "SELECT a FROM t WHERE x IN (?)");
}

TEST(SqlNormalizerTest, ReusedResultIsReset) {
  NormalizedSql r;
  normalize_sql("UPDATE a SET x = 1", &r);
  EXPECT_EQ(r.table, "a");
  normalize_sql("select 1", &r);
  EXPECT_EQ(r.text, "select ?");
  EXPECT_EQ(r.table, "");
  EXPECT_EQ(r.operation, "SELECT");
}

}  // namespace
}  // namespace pyrometer::common
