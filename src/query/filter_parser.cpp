#include "query/filter_parser.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <string>

#include <fmt/format.h>

#include "query/filter_value.h"

namespace flowscope::query {
namespace {

constexpr std::size_t kMaxDepth = 200;  // nesting of ( and !, so hostile input cannot overflow

Error parse_error(std::string message, std::size_t offset) {
  return Error(ErrorCode::Parse, std::move(message), SourcePos{offset, 0});
}

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }
bool is_ident_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0 || c == '_'; }
bool is_ident(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; }

// Merges `child` into a node of `op`, flattening nested nodes of the same op.
void add_child(std::vector<FilterExpr>& children, FilterExpr::Op op, FilterExpr child) {
  if (child.op == op) {
    for (auto& c : child.children) children.push_back(std::move(c));
  } else {
    children.push_back(std::move(child));
  }
}

// nfdump's "any" is FilterExpr::all(): it vanishes from an AND and makes an OR match all.
FilterExpr join(FilterExpr::Op op, std::vector<FilterExpr> parts) {
  std::vector<FilterExpr> children;
  for (auto& p : parts) {
    if (p.op == FilterExpr::Op::All) {
      if (op == FilterExpr::Op::Or) return FilterExpr::all();
      continue;
    }
    add_child(children, op, std::move(p));
  }
  if (children.empty()) return FilterExpr::all();
  if (children.size() == 1) return std::move(children[0]);
  return FilterExpr::make(op, std::move(children));
}

// ---- FlowTraq syntax ---------------------------------------------------------------------------

class FlowTraqParser {
 public:
  FlowTraqParser(std::string_view text, const FilterContext& ctx) : text_(text), ctx_(ctx) {}

  Result<FilterExpr> parse() {
    skip_space();
    if (pos_ == text_.size()) return FilterExpr::all();
    auto e = parse_or(0);
    if (!e) return e;
    skip_space();
    if (pos_ != text_.size()) {
      if (text_[pos_] == ')') return parse_error("')' without a matching '('", pos_);
      return parse_error("expected '&&', '||' or the end of the filter", pos_);
    }
    return e;
  }

 private:
  void skip_space() {
    while (pos_ < text_.size() && is_space(text_[pos_])) ++pos_;
  }
  bool eat(std::string_view token) {
    skip_space();
    if (text_.substr(pos_, token.size()) == token) {
      pos_ += token.size();
      return true;
    }
    return false;
  }
  // "&&" or the word "and" (case-insensitive), likewise "||"/"or": FlowTraq users type both.
  bool eat_word(std::string_view word) {
    skip_space();
    if (pos_ + word.size() > text_.size()) return false;
    for (std::size_t i = 0; i < word.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(text_[pos_ + i])) != word[i]) return false;
    }
    if (pos_ + word.size() < text_.size() && is_ident(text_[pos_ + word.size()])) return false;
    pos_ += word.size();
    return true;
  }

  Result<FilterExpr> parse_or(std::size_t depth) {
    std::vector<FilterExpr> parts;
    auto first = parse_and(depth);
    if (!first) return first;
    parts.push_back(std::move(*first));
    while (eat("||") || eat_word("or")) {
      auto next = parse_and(depth);
      if (!next) return next;
      parts.push_back(std::move(*next));
    }
    return join(FilterExpr::Op::Or, std::move(parts));
  }

  Result<FilterExpr> parse_and(std::size_t depth) {
    std::vector<FilterExpr> parts;
    auto first = parse_unary(depth);
    if (!first) return first;
    parts.push_back(std::move(*first));
    while (eat("&&") || eat_word("and")) {
      auto next = parse_unary(depth);
      if (!next) return next;
      parts.push_back(std::move(*next));
    }
    return join(FilterExpr::Op::And, std::move(parts));
  }

  Result<FilterExpr> parse_unary(std::size_t depth) {
    if (depth > kMaxDepth) return parse_error("the filter nests too deeply", pos_);
    skip_space();
    if (pos_ == text_.size()) {
      return parse_error("expected a comparison such as SRVPORT == 80, '!' or '('", pos_);
    }
    if (text_[pos_] == '!' && text_.substr(pos_, 2) != "!=") {
      ++pos_;
      auto inner = parse_unary(depth + 1);
      if (!inner) return inner;
      return FilterExpr::make(FilterExpr::Op::Not, {std::move(*inner)});
    }
    if (eat_word("not")) {
      auto inner = parse_unary(depth + 1);
      if (!inner) return inner;
      return FilterExpr::make(FilterExpr::Op::Not, {std::move(*inner)});
    }
    if (text_[pos_] == '(') {
      const std::size_t open = pos_++;
      auto inner = parse_or(depth + 1);
      if (!inner) return inner;
      skip_space();
      if (pos_ == text_.size()) return parse_error("'(' is never closed; expected ')'", open);
      if (text_[pos_] != ')') return parse_error("expected '&&', '||' or ')'", pos_);
      ++pos_;
      return inner;
    }
    return parse_comparison();
  }

  Result<FilterExpr> parse_comparison() {
    const std::size_t field_at = pos_;
    if (!is_ident_start(text_[pos_])) {
      return parse_error("expected a field name such as SRVIP or PORT (see flowscope fields)",
                         pos_);
    }
    while (pos_ < text_.size() && is_ident(text_[pos_])) ++pos_;
    const std::string_view name = text_.substr(field_at, pos_ - field_at);
    auto field = find_filter_field(name);
    if (!field || field_info(*field).filter_name.empty() ||
        !in_kind(field_info(*field), RecordKind::Session)) {
      std::string msg = fmt::format("unknown field \"{}\"", name);
      if (auto s = suggest_filter_field(name); !s.empty())
        msg += fmt::format("; did you mean {}?", s);
      msg += " (see flowscope fields)";
      return parse_error(std::move(msg), field_at);
    }
    skip_space();
    const std::size_t op_at = pos_;
    auto op = read_comparator();
    if (!op) {
      return parse_error(fmt::format("expected a comparator (==, !=, <, <=, >, >=) after {}",
                                     field_info(*field).filter_name),
                         op_at);
    }
    skip_space();
    const std::size_t value_at = pos_;
    auto value = read_value();
    if (!value) return value.error();
    return make_comparison(*field, field_at, *op, op_at, *value, value_at, ctx_);
  }

  std::optional<Comparator> read_comparator() {
    const std::string_view rest = text_.substr(pos_);
    struct Op {
      std::string_view text;
      Comparator op;
    };
    static constexpr Op kOps[] = {{"==", Comparator::Eq}, {"!=", Comparator::Ne},
                                  {">=", Comparator::Ge}, {"<=", Comparator::Le},
                                  {"<>", Comparator::Ne}, {">", Comparator::Gt},
                                  {"<", Comparator::Lt},  {"=", Comparator::Eq}};
    for (const Op& o : kOps) {
      if (rest.substr(0, o.text.size()) == o.text) {
        pos_ += o.text.size();
        return o.op;
      }
    }
    return std::nullopt;
  }

  // A quoted string ("..." or '...'; inside it a backslash takes the next character as it is,
  // so \" \' and \\ write a quote or a backslash) or a run up to white space, '(', ')', "&&" or
  // "||". A quote inside an unquoted run is an error: a value is either quoted or not, so what
  // to_text() prints reads back as the same value and no value can swallow the operators after
  // it.
  Result<std::string> read_value() {
    if (pos_ < text_.size() && (text_[pos_] == '"' || text_[pos_] == '\'')) {
      const char quote = text_[pos_];
      const std::size_t open = pos_;
      std::string value;
      for (std::size_t i = pos_ + 1; i < text_.size(); ++i) {
        if (text_[i] == '\\') {
          if (++i == text_.size()) break;
          value += text_[i];
        } else if (text_[i] == quote) {
          pos_ = i + 1;
          return value;
        } else {
          value += text_[i];
        }
      }
      return parse_error(
          fmt::format("the string starting here is never closed; expected {}", quote), open);
    }
    const std::size_t start = pos_;
    while (pos_ < text_.size() && !is_space(text_[pos_]) && text_[pos_] != ')' &&
           text_[pos_] != '(' && text_.substr(pos_, 2) != "&&" && text_.substr(pos_, 2) != "||") {
      if (text_[pos_] == '"' || text_[pos_] == '\'') {
        return parse_error(
            "a quote inside a value; quote the whole value and write a quote inside it as \\\" "
            "(e.g. SERVICE == \"it\\\"s\")",
            pos_);
      }
      ++pos_;
    }
    return std::string(text_.substr(start, pos_ - start));
  }

  std::string_view text_;
  const FilterContext& ctx_;
  std::size_t pos_ = 0;
};

// ---- nfdump syntax -----------------------------------------------------------------------------

struct Token {
  std::string_view text;
  std::size_t offset = 0;
};

class NfdumpParser {
 public:
  NfdumpParser(std::string_view text, const FilterContext& ctx) : text_(text), ctx_(ctx) {}

  Result<FilterExpr> parse() {
    tokenize();
    if (tokens_.empty()) return FilterExpr::all();
    auto e = parse_or(0);
    if (!e) return e;
    if (i_ != tokens_.size()) {
      if (peek() == ")") return parse_error("')' without a matching '('", at());
      return parse_error("expected 'and', 'or' or the end of the filter", at());
    }
    return e;
  }

 private:
  void tokenize() {
    std::size_t p = 0;
    while (p < text_.size()) {
      if (is_space(text_[p])) {
        ++p;
        continue;
      }
      const std::size_t start = p;
      static constexpr std::string_view kTwo[] = {"&&", "||", "==", "!=", ">=", "<="};
      bool two = false;
      for (auto t : kTwo) {
        if (text_.substr(p, 2) == t) {
          two = true;
          break;
        }
      }
      if (two) {
        p += 2;
      } else if (std::string_view("()!=<>[],").find(text_[p]) != std::string_view::npos) {
        ++p;
      } else {
        while (p < text_.size() && !is_space(text_[p]) &&
               std::string_view("()!=<>[],&|").find(text_[p]) == std::string_view::npos) {
          ++p;
        }
        if (p == start) ++p;  // a lone '&' or '|'
      }
      tokens_.push_back({text_.substr(start, p - start), start});
    }
  }

  std::string_view peek() const { return i_ < tokens_.size() ? tokens_[i_].text : ""; }
  std::size_t at() const { return i_ < tokens_.size() ? tokens_[i_].offset : text_.size(); }
  static bool iequal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < a.size(); ++k) {
      if (std::tolower(static_cast<unsigned char>(a[k])) != b[k]) return false;
    }
    return true;
  }
  bool accept(std::string_view word) {
    if (i_ < tokens_.size() && iequal(tokens_[i_].text, word)) {
      ++i_;
      return true;
    }
    return false;
  }

  Result<FilterExpr> parse_or(std::size_t depth) {
    std::vector<FilterExpr> parts;
    auto first = parse_and(depth);
    if (!first) return first;
    parts.push_back(std::move(*first));
    while (accept("or") || accept("||")) {
      auto next = parse_and(depth);
      if (!next) return next;
      parts.push_back(std::move(*next));
    }
    return join(FilterExpr::Op::Or, std::move(parts));
  }

  Result<FilterExpr> parse_and(std::size_t depth) {
    std::vector<FilterExpr> parts;
    auto first = parse_unary(depth);
    if (!first) return first;
    parts.push_back(std::move(*first));
    while (accept("and") || accept("&&")) {
      auto next = parse_unary(depth);
      if (!next) return next;
      parts.push_back(std::move(*next));
    }
    return join(FilterExpr::Op::And, std::move(parts));
  }

  Result<FilterExpr> parse_unary(std::size_t depth) {
    if (depth > kMaxDepth) return parse_error("the filter nests too deeply", at());
    if (i_ == tokens_.size()) {
      return parse_error(
          "expected a filter term such as 'src ip 10.0.0.1', 'port 80', 'not' or '('", at());
    }
    if (accept("not") || accept("!")) {
      auto inner = parse_unary(depth + 1);
      if (!inner) return inner;
      return FilterExpr::make(FilterExpr::Op::Not, {std::move(*inner)});
    }
    if (peek() == "(") {
      const std::size_t open = at();
      ++i_;
      auto inner = parse_or(depth + 1);
      if (!inner) return inner;
      if (i_ == tokens_.size()) return parse_error("'(' is never closed; expected ')'", open);
      if (peek() != ")") return parse_error("expected 'and', 'or' or ')'", at());
      ++i_;
      return inner;
    }
    return parse_primitive();
  }

  // nfdump's comparators: =, ==, eq, >, gt, <, lt, >=, ge, <=, le, != (default =).
  Comparator read_comparator() {
    struct Op {
      std::string_view text;
      Comparator op;
    };
    static constexpr Op kOps[] = {
        {"=", Comparator::Eq},  {"==", Comparator::Eq}, {"eq", Comparator::Eq},
        {">", Comparator::Gt},  {"gt", Comparator::Gt}, {"<", Comparator::Lt},
        {"lt", Comparator::Lt}, {">=", Comparator::Ge}, {"ge", Comparator::Ge},
        {"<=", Comparator::Le}, {"le", Comparator::Le}, {"!=", Comparator::Ne}};
    if (i_ < tokens_.size()) {
      for (const Op& o : kOps) {
        if (iequal(tokens_[i_].text, o.text)) {
          ++i_;
          return o.op;
        }
      }
    }
    return Comparator::Eq;
  }

  // A value token, or an error saying what `what` expects.
  Result<Token> value(std::string_view what) {
    if (i_ == tokens_.size() || std::string_view("()[],").find(peek()) != std::string_view::npos ||
        iequal(peek(), "and") || iequal(peek(), "or")) {
      return parse_error(fmt::format("expected {}", what), at());
    }
    return tokens_[i_++];
  }

  Result<FilterExpr> compare(FieldId field, std::size_t field_at, Comparator op, std::size_t op_at,
                             std::string_view what) {
    auto v = value(what);
    if (!v) return v.error();
    return make_comparison(field, field_at, op, op_at, v->text, v->offset, ctx_);
  }

  // A number with nfdump's scale suffixes k, m, g (x1000).
  Result<FilterExpr> compare_scaled(FieldId field, std::size_t field_at, Comparator op,
                                    std::size_t op_at, std::string_view what) {
    auto v = value(what);
    if (!v) return v.error();
    std::string text(v->text);
    std::uint64_t scale = 1;
    if (!text.empty()) {
      const char last = static_cast<char>(std::tolower(static_cast<unsigned char>(text.back())));
      if (last == 'k') scale = 1000;
      if (last == 'm') scale = 1000 * 1000;
      if (last == 'g') scale = 1000 * 1000 * 1000;
      if (scale != 1) text.pop_back();
    }
    auto e = make_comparison(field, field_at, op, op_at, text, v->offset, ctx_);
    if (e && scale != 1) {
      auto& n = std::get<std::uint64_t>(e->cmp.value);
      n *= scale;
    }
    return e;
  }

  Result<FilterExpr> parse_primitive() {
    const std::size_t start = at();
    if (accept("any")) return FilterExpr::all();
    // Direction prefix: src (client), dst (server), or none (either side).
    enum class Dir { Either, Src, Dst, In, Out } dir = Dir::Either;
    if (accept("src")) {
      dir = Dir::Src;
    } else if (accept("dst")) {
      dir = Dir::Dst;
    } else if (accept("in")) {
      dir = Dir::In;
    } else if (accept("out")) {
      dir = Dir::Out;
    }
    // The field an nfdump keyword names (core/fields.def, column nfdump), or the operand of
    // that Either field the direction picks: src/in the first (client, input), dst/out the second.
    auto pick = [&](std::string_view keyword) {
      const FieldId either = *find_nfdump_field(keyword);
      return dir == Dir::Src || dir == Dir::In    ? on_side(either, 0)
             : dir == Dir::Dst || dir == Dir::Out ? on_side(either, 1)
                                                  : either;
    };
    const std::size_t kw_at = at();
    const std::string_view kw = peek();
    auto sided = [&](bool allow_in_out) {
      return allow_in_out ? true : (dir != Dir::In && dir != Dir::Out);
    };
    if ((accept("ip") || accept("host")) && sided(false)) {
      return compare(pick("ip"), kw_at, Comparator::Eq, kw_at, "an IP address");
    }
    if (accept("net") && sided(false)) {
      const FieldId f = pick("ip");
      auto v = value("a network such as 10.0.0.0/8 or 10.0.0.0 255.0.0.0");
      if (!v) return v.error();
      std::string text(v->text);
      // "net 10.0.0.0 255.0.0.0": a dotted mask as the next token.
      if (text.find('/') == std::string::npos && i_ < tokens_.size()) {
        auto mask = IpAddress::parse(peek());
        if (mask && mask->is_v4()) {
          const std::uint32_t m = mask->v4_value();
          const int len = std::popcount(m);
          const std::uint32_t inverse = ~m;
          if ((inverse & (inverse + 1)) != 0) {  // ones then zeros, or not a mask
            return parse_error("the netmask is not contiguous", at());
          }
          text += "/" + std::to_string(len);
          ++i_;
        }
      }
      return make_comparison(f, kw_at, Comparator::Eq, kw_at, text, v->offset, ctx_);
    }
    if (accept("port") && sided(false)) {
      const std::size_t op_at = at();
      const Comparator op = read_comparator();
      return compare(pick("port"), kw_at, op, op_at, "a port number");
    }
    if (accept("as") && sided(false)) {
      const std::size_t op_at = at();
      const Comparator op = read_comparator();
      return compare(pick("as"), kw_at, op, op_at, "an AS number");
    }
    if (accept("vlan")) {
      const std::size_t op_at = at();
      const Comparator op = read_comparator();
      return compare(pick("vlan"), kw_at, op, op_at, "a VLAN id");
    }
    if (accept("if")) {
      const std::size_t op_at = at();
      const Comparator op = read_comparator();
      return compare(pick("if"), kw_at, op, op_at, "an interface index");
    }
    if (dir == Dir::Either) {
      if (accept("proto")) {
        return compare(pick("proto"), kw_at, Comparator::Eq, kw_at,
                       "a protocol name (tcp, udp, icmp) or number");
      }
      for (std::string_view p : {"tcp", "udp", "icmp", "icmp6", "gre", "esp", "sctp"}) {
        if (accept(p)) {
          return make_comparison(FieldId::Proto, kw_at, Comparator::Eq, kw_at,
                                 p == "icmp6" ? "ipv6-icmp" : p, kw_at, ctx_);
        }
      }
      if (accept("ipv4") || accept("inet")) {
        return make_comparison(FieldId::ClnAddr, kw_at, Comparator::Eq, kw_at, "0.0.0.0/0", kw_at,
                               ctx_);
      }
      if (accept("ipv6") || accept("inet6")) {
        auto v4 = make_comparison(FieldId::ClnAddr, kw_at, Comparator::Eq, kw_at, "0.0.0.0/0",
                                  kw_at, ctx_);
        if (!v4) return v4;
        return FilterExpr::make(FilterExpr::Op::Not, {std::move(*v4)});
      }
      if (accept("packets")) {
        const std::size_t op_at = at();
        const Comparator op = read_comparator();
        return compare_scaled(pick("packets"), kw_at, op, op_at, "a packet count");
      }
      if (accept("bytes")) {
        const std::size_t op_at = at();
        const Comparator op = read_comparator();
        return compare_scaled(pick("bytes"), kw_at, op, op_at, "a byte count");
      }
      if (accept("duration")) {
        const std::size_t op_at = at();
        const Comparator op = read_comparator();
        // nfdump's duration is in milliseconds; TTIME's bare numbers are seconds.
        auto v = value("a duration in milliseconds");
        if (!v) return v.error();
        std::string text(v->text);
        if (!text.empty() && std::all_of(text.begin(), text.end(),
                                         [](unsigned char c) { return std::isdigit(c) != 0; })) {
          text += "ms";
        }
        return make_comparison(pick("duration"), kw_at, op, op_at, text, v->offset, ctx_);
      }
      if (accept("tos")) {
        const std::size_t op_at = at();
        const Comparator op = read_comparator();
        return compare(pick("tos"), kw_at, op, op_at, "a type of service value");
      }
      if (accept("flags")) return parse_flags(kw_at);
      if (accept("router") || accept("next")) {
        const bool router = iequal(kw, "router");
        if (!accept("ip")) return parse_error("expected 'ip'", at());
        return compare(pick(router ? "router" : "next"), kw_at, Comparator::Eq, kw_at,
                       "an IP address");
      }
    }
    if (i_ < tokens_.size() && at() == kw_at) {
      return parse_error(fmt::format("unknown nfdump filter term \"{}\"; expected ip, host, net, "
                                     "port, proto, packets, bytes, flags, as, if, vlan, tos, "
                                     "duration, any",
                                     kw),
                         kw_at);
    }
    return parse_error("expected ip, host, net, port, as, if or vlan after the direction", start);
  }

  // nfdump's flag letters: F S R P A U E C, X for all; the flow must have every one given.
  Result<FilterExpr> parse_flags(std::size_t kw_at) {
    auto v = value("TCP flag letters such as S, SA or FPA");
    if (!v) return v.error();
    std::uint64_t bits = 0;
    for (std::size_t k = 0; k < v->text.size(); ++k) {
      const char c = static_cast<char>(std::toupper(static_cast<unsigned char>(v->text[k])));
      const std::string_view letters = "FSRPAUEC";
      const auto idx = letters.find(c);
      if (c == 'X') {
        bits = 0xff;
      } else if (idx == std::string_view::npos) {
        return parse_error(fmt::format("'{}' is not a TCP flag letter; expected F S R P A U E C "
                                       "or X",
                                       v->text[k]),
                           v->offset + k);
      } else {
        bits |= 1u << idx;
      }
    }
    Comparison cmp{FieldId::TcpFlags, Comparator::Eq, bits, kw_at};
    return FilterExpr::compare(std::move(cmp));
  }

  std::string_view text_;
  const FilterContext& ctx_;
  std::vector<Token> tokens_;
  std::size_t i_ = 0;
};

}  // namespace

Result<FilterExpr> parse_filter(std::string_view text, const FilterContext& ctx) {
  return FlowTraqParser(text, ctx).parse();
}

Result<FilterExpr> parse_nfdump_filter(std::string_view text, const FilterContext& ctx) {
  return NfdumpParser(text, ctx).parse();
}

}  // namespace flowscope::query
