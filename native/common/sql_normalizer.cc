// SQL normaliser: a single-pass tokenizer that writes the normalised text as it
// goes, collapsing lists by rewinding its own output, and tracks verb and table.
#include "common/sql_normalizer.h"

#include <xxhash.h>

#include <array>

#include "common/sql_lexicon.h"

namespace pyrometer::common {

namespace {

using sql_lexicon::iequals;
using sql_lexicon::is_digit;
using sql_lexicon::is_hex;
using sql_lexicon::is_ident_char;
using sql_lexicon::is_ident_start;
using sql_lexicon::is_space;
using sql_lexicon::lookup_verb;
using sql_lexicon::precedes_value;
using sql_lexicon::upper;

enum class Tok : uint8_t {
  kNone,
  kWord,
  kQuotedIdent,
  kLiteral,
  kOpen,
  kClose,
  kComma,
  kDot,
  kSemicolon,
  kOperator,
};

class Normalizer {
 public:
  Normalizer(std::string_view sql, NormalizedSql* out, const SqlNormalizerOptions& options)
      : sql_(sql), out_(out->text), res_(out), mysql_(options.dialect == SqlDialect::kMySQL) {}

  void run();

 private:
  struct Frame {
    size_t out_pos;      // where '(' or '[' was written
    bool collapsible;    // IN (...) or ARRAY[...]
    bool only_literals;  // nothing but '?' and ',' so far
    bool has_literal;
    bool values_tuple;
  };
  struct ValuesList {
    bool active = false;
    bool after_tuple = false;   // the last token at `depth` closed a tuple
    bool expect_tuple = false;  // ... and then came a comma
    int depth = 0;
    size_t prev_start = 0, prev_end = 0;
  };
  static constexpr int kMaxFrames = 64;

  char at(size_t i) const { return i < sql_.size() ? sql_[i] : '\0'; }
  void emit(Tok t, std::string_view text, bool values_structure = false);
  void emit_literal() { emit(Tok::kLiteral, "?"); }
  void open(char c);
  void close(char c);
  void on_word(std::string_view word, bool quoted);
  void table_append(std::string_view ident, bool quoted);

  size_t skip_quoted(size_t i, char quote, bool backslash) const;
  size_t skip_number(size_t i) const;
  size_t skip_block_comment(size_t i) const;
  // Whether the previous token lets a value start here (unary sign, :name).
  bool value_may_follow() const;

  std::string_view sql_;
  std::string& out_;
  NormalizedSql* res_;
  bool mysql_;

  Tok prev_ = Tok::kNone;
  std::string_view prev_word_;
  bool pending_space_ = false;
  int depth_ = 0;
  std::array<Frame, kMaxFrames> frames_;
  ValuesList values_;

  // Operation / table tracking.
  bool verb_seen_ = false;
  bool in_with_ = false;
  int stmt_depth_ = 0;
  bool want_table_ = false;  // the next identifier at statement depth is the table
  bool table_open_ = false;  // the table name may continue with ".part"
  bool table_after_dot_ = false;
};

void Normalizer::emit(Tok t, std::string_view text, bool values_structure) {
  bool space = pending_space_ && !out_.empty();
  if (prev_ == Tok::kComma) space = true;
  if (prev_ == Tok::kOpen || prev_ == Tok::kDot) space = false;
  if (t == Tok::kClose || t == Tok::kComma || t == Tok::kDot || t == Tok::kSemicolon) {
    space = false;
  }
  if (space) out_ += ' ';
  out_ += text;
  pending_space_ = false;

  if (depth_ > 0 && depth_ <= kMaxFrames && t != Tok::kLiteral && t != Tok::kComma) {
    frames_[depth_ - 1].only_literals = false;
  }
  if (t == Tok::kLiteral && depth_ > 0 && depth_ <= kMaxFrames) {
    frames_[depth_ - 1].has_literal = true;
  }
  if (values_.active && depth_ == values_.depth && !values_structure) {
    if (t == Tok::kComma && values_.after_tuple) {
      values_.expect_tuple = true;
      values_.after_tuple = false;
    } else {
      values_.active = false;
    }
  }
  if (table_open_) {
    if (t == Tok::kDot && !table_after_dot_) {
      res_->table += '.';
      table_after_dot_ = true;
    } else if (!(table_after_dot_ && (t == Tok::kWord || t == Tok::kQuotedIdent))) {
      table_open_ = false;
    }
  }
  prev_ = t;
}

bool Normalizer::value_may_follow() const {
  switch (prev_) {
    case Tok::kNone:
    case Tok::kOpen:
    case Tok::kComma:
    case Tok::kOperator:
    case Tok::kSemicolon:
      return true;
    case Tok::kWord:
      return precedes_value(prev_word_);
    default:
      return false;
  }
}

void Normalizer::open(char c) {
  const bool after_word = prev_ == Tok::kWord;
  const bool collapsible =
      after_word && (c == '(' ? iequals(prev_word_, "IN") : iequals(prev_word_, "ARRAY"));
  const bool values_tuple =
      c == '(' &&
      ((after_word && iequals(prev_word_, "VALUES")) ||
       (prev_ == Tok::kComma && values_.active && values_.expect_tuple && values_.depth == depth_));
  if (values_tuple && after_word) {
    values_ = ValuesList{};
    values_.active = true;
    values_.depth = depth_;
  }
  if (want_table_ && depth_ == stmt_depth_) want_table_ = false;  // FROM (subquery)
  emit(Tok::kOpen, c == '(' ? "(" : "[", values_tuple);
  if (depth_ < kMaxFrames) {
    frames_[depth_] = Frame{out_.size() - 1, collapsible, true, false, values_tuple};
  }
  ++depth_;
}

void Normalizer::close(char c) {
  const std::string_view text = c == ')' ? ")" : "]";
  if (depth_ == 0) {  // unbalanced: keep it, track nothing
    emit(Tok::kClose, text);
    return;
  }
  Frame f{0, false, false, false, false};
  const bool tracked = depth_ <= kMaxFrames;
  if (tracked) f = frames_[depth_ - 1];
  --depth_;
  if (tracked && f.collapsible && f.only_literals && f.has_literal) {
    out_.resize(f.out_pos + 1);
    out_ += '?';
  }
  emit(Tok::kClose, text, tracked && f.values_tuple);
  if (!tracked || !f.values_tuple || !values_.active || values_.depth != depth_) return;
  const size_t start = f.out_pos, end = out_.size();
  if (values_.expect_tuple &&
      std::string_view(out_).substr(values_.prev_start, values_.prev_end - values_.prev_start) ==
          std::string_view(out_).substr(start, end - start)) {
    out_.resize(values_.prev_end);  // drop ", (same tuple)"
  } else {
    values_.prev_start = start;
    values_.prev_end = end;
  }
  values_.after_tuple = true;
  values_.expect_tuple = false;
}

void Normalizer::table_append(std::string_view ident, bool quoted) {
  if (!quoted) {
    res_->table.append(ident);
    return;
  }
  // Strip the outer quotes and undouble escaped ones.
  const char q = ident.front();
  for (size_t i = 1; i + 1 < ident.size(); ++i) {
    res_->table += ident[i];
    if (ident[i] == q && i + 2 < ident.size() && ident[i + 1] == q) ++i;
  }
}

void Normalizer::on_word(std::string_view word, bool quoted) {
  if (table_open_ && table_after_dot_) {  // continuation of a qualified table name
    table_append(word, quoted);
    table_after_dot_ = false;
    return;
  }
  if (depth_ != stmt_depth_ && verb_seen_) return;
  if (!verb_seen_) {
    verb_seen_ = true;
    stmt_depth_ = depth_;
    if (quoted) return;
    res_->operation = lookup_verb(word);
    const std::string_view op = res_->operation;
    in_with_ = op == "WITH";
    want_table_ = op == "UPDATE" || op == "TRUNCATE";
    return;
  }
  const std::string_view op = res_->operation;
  if (in_with_ && !quoted) {
    for (std::string_view main : {"SELECT", "INSERT", "UPDATE", "DELETE", "MERGE"}) {
      if (iequals(word, main)) {
        res_->operation = lookup_verb(main);
        in_with_ = false;
        want_table_ = main == "UPDATE";
        return;
      }
    }
    return;
  }
  if (!res_->table.empty() || op.empty()) return;
  if (want_table_) {
    if (!quoted) {
      static constexpr std::string_view kSkip[] = {"ONLY",   "TABLE",  "IF",           "NOT",
                                                   "EXISTS", "IGNORE", "LOW_PRIORITY", "LATERAL"};
      for (std::string_view s : kSkip) {
        if (iequals(word, s)) return;
      }
    }
    table_append(word, quoted);
    want_table_ = false;
    table_open_ = true;
    table_after_dot_ = false;
    return;
  }
  if (quoted) return;
  if ((op == "SELECT" || op == "DELETE") && iequals(word, "FROM")) {
    want_table_ = true;
  } else if ((op == "INSERT" || op == "REPLACE" || op == "MERGE") && iequals(word, "INTO")) {
    want_table_ = true;
  } else if ((op == "CREATE" || op == "ALTER" || op == "DROP") && iequals(word, "TABLE")) {
    want_table_ = true;
  }
}

size_t Normalizer::skip_quoted(size_t i, char quote, bool backslash) const {
  // i points at the opening quote; returns the index just past the closing one.
  size_t j = i + 1;
  while (j < sql_.size()) {
    if (!backslash) {
      // No escapes but doubling: jump straight to the next quote (memchr).
      j = sql_.find(quote, j);
      if (j == std::string_view::npos) return sql_.size();
    }
    const char c = sql_[j];
    if (backslash && c == '\\') {
      j += 2;
      continue;
    }
    if (c == quote) {
      if (at(j + 1) == quote) {  // doubled quote = escaped
        j += 2;
        continue;
      }
      return j + 1;
    }
    ++j;
  }
  return sql_.size();  // unterminated: the rest is the literal
}

size_t Normalizer::skip_number(size_t i) const {
  size_t j = i;
  if (at(j) == '0' && (at(j + 1) == 'x' || at(j + 1) == 'X') && is_hex(at(j + 2))) {
    j += 2;
    while (is_hex(at(j))) ++j;
  } else {
    while (is_digit(at(j))) ++j;
    if (at(j) == '.') {
      ++j;
      while (is_digit(at(j))) ++j;
    }
    if ((at(j) == 'e' || at(j) == 'E') &&
        (is_digit(at(j + 1)) || ((at(j + 1) == '+' || at(j + 1) == '-') && is_digit(at(j + 2))))) {
      j += 2;
      while (is_digit(at(j))) ++j;
    }
  }
  while (is_ident_char(at(j))) ++j;  // 0b101, 1e, 10L: keep it one literal
  return j;
}

size_t Normalizer::skip_block_comment(size_t i) const {
  // i points at "/*"; PostgreSQL nests block comments, others do not care.
  int nest = 0;
  size_t j = i;
  while (j < sql_.size()) {
    if (sql_[j] == '/' && at(j + 1) == '*') {
      ++nest;
      j += 2;
    } else if (sql_[j] == '*' && at(j + 1) == '/') {
      j += 2;
      if (--nest == 0) return j;
    } else {
      ++j;
    }
  }
  return sql_.size();
}

void Normalizer::run() {
  const size_t n = sql_.size();
  size_t i = 0;
  while (i < n) {
    const char c = sql_[i];
    if (is_space(c)) {
      pending_space_ = true;
      ++i;
      continue;
    }
    if ((c == '-' && at(i + 1) == '-') || (mysql_ && c == '#')) {
      while (i < n && sql_[i] != '\n') ++i;
      pending_space_ = true;
      continue;
    }
    if (c == '/' && at(i + 1) == '*') {
      i = skip_block_comment(i);
      pending_space_ = true;
      continue;
    }
    if (c == '\'') {
      i = skip_quoted(i, '\'', mysql_);
      emit_literal();
      continue;
    }
    if (c == '"' || c == '`') {
      const size_t j = skip_quoted(i, c, mysql_ && c == '"');
      if (mysql_ && c == '"') {
        emit_literal();
      } else {
        const std::string_view ident = sql_.substr(i, j - i);
        emit(Tok::kQuotedIdent, ident);
        on_word(ident, /*quoted=*/ident.size() >= 2 && ident.back() == c);
      }
      i = j;
      continue;
    }
    if (is_digit(c) ||
        (c == '.' && is_digit(at(i + 1)) && prev_ != Tok::kWord && prev_ != Tok::kQuotedIdent)) {
      i = skip_number(i);
      emit_literal();
      continue;
    }
    if ((c == '-' || c == '+') && value_may_follow() &&
        (is_digit(at(i + 1)) || (at(i + 1) == '.' && is_digit(at(i + 2))))) {
      i = skip_number(i + 1);
      emit_literal();
      continue;
    }
    if (c == '?') {
      ++i;
      while (is_digit(at(i))) ++i;  // SQLite ?NNN
      emit_literal();
      continue;
    }
    if (c == '%') {
      const char d = at(i + 1);
      if ((d == 's' || d == 'b' || d == 't') && !is_ident_char(at(i + 2))) {
        i += 2;
        emit_literal();
        continue;
      }
      if (d == '(') {
        // pyformat %(key)s. Keys are names; whitespace and comments inside are
        // skipped so that the normalised text (which loses them) is read the
        // same way again: normalising stays idempotent.
        size_t j = i + 2;
        bool closed = false;
        while (j < n) {
          const char k = sql_[j];
          if (k == ')') {
            closed = true;
            break;
          }
          if (k == '/' && at(j + 1) == '*') {
            j = skip_block_comment(j);
          } else if ((k == '-' && at(j + 1) == '-') || (mysql_ && k == '#')) {
            while (j < n && sql_[j] != '\n') ++j;
          } else if (is_ident_char(k) || is_space(k) || k == '-' || k == '.') {
            ++j;
          } else {
            break;
          }
        }
        const char f = at(j + 1);
        if (closed && (f == 's' || f == 'b' || f == 't') && !is_ident_char(at(j + 2))) {
          i = j + 2;
          emit_literal();
          continue;
        }
      }
      if (d == '%') {
        i += 2;
        emit(Tok::kOperator, "%%");
        continue;
      }
      ++i;
      emit(Tok::kOperator, "%");
      continue;
    }
    if (c == '$') {
      if (is_digit(at(i + 1))) {  // $1 placeholder
        ++i;
        while (is_digit(at(i))) ++i;
        emit_literal();
        continue;
      }
      size_t j = i + 1;
      if (at(j) == '$' || is_ident_start(at(j))) {
        while (j < n && sql_[j] != '$' && is_ident_char(sql_[j])) ++j;
        if (at(j) == '$') {  // $tag$ ... $tag$
          const std::string_view tag = sql_.substr(i, j - i + 1);
          const size_t end = sql_.find(tag, j + 1);
          i = end == std::string_view::npos ? n : end + tag.size();
          emit_literal();
          continue;
        }
      }
      ++i;
      emit(Tok::kOperator, "$");
      continue;
    }
    if (c == ':') {
      if (at(i + 1) == ':' || at(i + 1) == '=') {
        emit(Tok::kOperator, sql_.substr(i, 2));
        i += 2;
        continue;
      }
      // A named parameter stands where a value may: after an operator, '(',
      // ',' or a keyword (not after an identifier, literal or ')': a[1:n]).
      const bool named = is_ident_start(at(i + 1)) || is_digit(at(i + 1));
      if (named && value_may_follow()) {
        ++i;
        while (is_ident_char(at(i))) ++i;
        emit_literal();
        continue;
      }
      ++i;
      emit(Tok::kOperator, ":");
      continue;
    }
    if (is_ident_start(c)) {
      size_t j = i + 1;
      while (j < n && is_ident_char(sql_[j])) ++j;
      const std::string_view word = sql_.substr(i, j - i);
      if (word.size() == 1 && at(j) == '\'') {
        const char p = upper(word[0]);
        if (p == 'E' || p == 'N' || p == 'X' || p == 'B') {
          i = skip_quoted(j, '\'', mysql_ || p == 'E');
          emit_literal();
          continue;
        }
      }
      if (word.size() == 1 && upper(word[0]) == 'U' && at(j) == '&' && at(j + 1) == '\'') {
        i = skip_quoted(j + 1, '\'', false);
        emit_literal();
        continue;
      }
      if (word == "__" && at(j) == '[') {
        // SQLAlchemy's unexpanded IN parameter. Whitespace and comments after
        // '[' are skipped because the normalised text drops them.
        size_t k = j + 1;
        while (k < n) {
          if (is_space(sql_[k])) {
            ++k;
          } else if (sql_[k] == '/' && at(k + 1) == '*') {
            k = skip_block_comment(k);
          } else if ((sql_[k] == '-' && at(k + 1) == '-') || (mysql_ && sql_[k] == '#')) {
            while (k < n && sql_[k] != '\n') ++k;
          } else {
            break;
          }
        }
        if (sql_.substr(k).starts_with("POSTCOMPILE_")) {
          const size_t end = sql_.find(']', k);
          i = end == std::string_view::npos ? n : end + 1;
          emit_literal();
          continue;
        }
      }
      i = j;
      if (iequals(word, "TRUE") || iequals(word, "FALSE")) {
        emit_literal();
        continue;
      }
      emit(Tok::kWord, word);
      prev_word_ = word;
      on_word(word, /*quoted=*/false);
      continue;
    }
    ++i;
    switch (c) {
      case '(':
      case '[':
        open(c);
        break;
      case ')':
      case ']':
        close(c);
        break;
      case ',':
        emit(Tok::kComma, ",");
        break;
      case '.':
        emit(Tok::kDot, ".");
        break;
      case ';':
        emit(Tok::kSemicolon, ";");
        break;
      default:
        emit(Tok::kOperator, std::string_view(&sql_[i - 1], 1));
        break;
    }
  }
  while (!out_.empty() && (out_.back() == ';' || out_.back() == ' ')) out_.pop_back();
}

}  // namespace

std::string NormalizedSql::span_name() const {
  std::string name(operation);
  if (!operation.empty() && !table.empty()) {
    name += ' ';
    name += table;
  }
  return name;
}

uint64_t sql_fingerprint(std::string_view normalized_text) {
  return XXH3_64bits(normalized_text.data(), normalized_text.size());
}

void normalize_sql(std::string_view sql, NormalizedSql* out, const SqlNormalizerOptions& options) {
  out->text.clear();
  out->text.reserve(sql.size() + sql.size() / 8 + 8);
  out->table.clear();
  out->operation = {};
  Normalizer(sql, out, options).run();
  out->fingerprint = sql_fingerprint(out->text);
}

NormalizedSql normalize_sql(std::string_view sql, const SqlNormalizerOptions& options) {
  NormalizedSql out;
  normalize_sql(sql, &out, options);
  return out;
}

}  // namespace pyrometer::common
