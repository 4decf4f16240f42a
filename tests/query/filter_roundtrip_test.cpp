// print → parse is an identity (F15 item 1): random filter trees over every filterable field,
// with strings that hold both quote kinds, backslashes, operators, comment markers and
// non-ASCII text, print with to_text() and parse back to the same tree and the same text. And
// the attack that made it matter: a value that closes its own quotes must not become operators.
#include <random>
#include <string>

#include <gtest/gtest.h>

#include "query/filter.h"
#include "query/filter_parser.h"
#include "query/filter_value.h"

namespace flowscope::query {
namespace {

FilterContext test_context() {
  FilterContext ctx;
  ctx.time = TimeContext{time_from_ms(1795000000000), TimeZoneRef::utc()};
  ctx.groups = [](std::string_view name) -> std::optional<std::uint32_t> {
    if (name == "Campus") return 7;
    return std::nullopt;
  };
  return ctx;
}

// Pieces of hostile strings: quotes, escapes, operators of both syntaxes, comments, unicode.
const char* const kStringPieces[] = {"z",
                                     "\"",
                                     "'",
                                     "\\",
                                     "\\\"",
                                     "'or!SERVICE=='",
                                     "\" || SESSID >= 0 || \"",
                                     ")",
                                     "(",
                                     "&&",
                                     "||",
                                     "!",
                                     " ",
                                     "--",
                                     "#",
                                     "/*",
                                     "*/",
                                     "é",
                                     "中文",
                                     "\xF0\x9F\x98\x80",
                                     "or",
                                     "and",
                                     "not",
                                     "any",
                                     "\t",
                                     "==",
                                     "%",
                                     ";",
                                     "\\\\"};

std::string random_string(std::mt19937_64& rng) {
  std::string s;
  const std::size_t n = rng() % 6;
  for (std::size_t i = 0; i < n; ++i) s += kStringPieces[rng() % std::size(kStringPieces)];
  return s;
}

// Value texts as a user types them, per type; make_comparison decides which fit a field.
std::string random_value_text(FieldType t, std::mt19937_64& rng) {
  auto pick = [&](std::initializer_list<const char*> v) {
    return std::string(*(v.begin() + static_cast<std::ptrdiff_t>(rng() % v.size())));
  };
  switch (t) {
    case FieldType::Ip:
      return pick(
          {"10.1.2.3", "10.0.0.0/8", "2001:db8::1", "2001:db8::/32", "0.0.0.0/0", "Campus"});
    case FieldType::U8: return pick({"0", "7", "255"});
    case FieldType::U16: return pick({"0", "443", "65535"});
    case FieldType::U32: return pick({"0", "65000", "4294967295", "Campus"});
    case FieldType::U64: return pick({"0", "1000000", "18446744073709551615"});
    case FieldType::Time: return pick({"2026-11-24T08:00:00Z", "1795000000000"});
    case FieldType::Duration: return pick({"0", "10s", "2h", "1500"});
    case FieldType::Country: return pick({"be", "US", "cn"});
    case FieldType::TcpFlags: return pick({"FSYN|FACK", "FRST", "FFIN,FPSH"});
    case FieldType::Proto: return pick({"udp", "tcp", "6", "47"});
    case FieldType::String: {
      // Quoted with the parser's escapes, as to_text writes it and a careful user types it.
      std::string out = "\"";
      for (char c : random_string(rng)) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
      }
      return out + "\"";
    }
  }
  return "0";
}

class TreeGen {
 public:
  explicit TreeGen(std::uint64_t seed) : rng_(seed) {
    for (FieldId id : fields_of(RecordKind::Session)) {
      const FieldInfo& f = field_info(id);
      if (!f.filter_name.empty()) fields_.push_back(id);
    }
  }

  FilterExpr leaf() {
    for (;;) {
      const FieldId id = fields_[rng_() % fields_.size()];
      const FieldInfo& f = field_info(id);
      const Comparator op = kAllComparators[rng_() % kAllComparators.size()];
      if (!comparators(f).has(op)) continue;
      std::string text = random_value_text(f.type, rng_);
      std::string_view value = text;
      if (f.type == FieldType::String) value = value.substr(1, value.size() - 2);
      // make_comparison takes the value without its quotes; unescape what random_value_text
      // escaped.
      std::string raw;
      for (std::size_t i = 0; i < value.size(); ++i) {
        if (f.type == FieldType::String && value[i] == '\\') ++i;
        if (i < value.size()) raw += value[i];
      }
      auto e = make_comparison(id, 0, op, 0, raw, 0, ctx_);
      if (e) return std::move(*e);
    }
  }

  FilterExpr tree(int depth) {
    const auto kind = depth <= 0 ? 0 : rng_() % 4;
    if (kind == 0) return leaf();
    if (kind == 1) return FilterExpr::make(FilterExpr::Op::Not, {tree(depth - 1)});
    const auto op = kind == 2 ? FilterExpr::Op::And : FilterExpr::Op::Or;
    std::vector<FilterExpr> children;
    const std::size_t n = 2 + rng_() % 3;
    for (std::size_t i = 0; i < n; ++i) {
      FilterExpr c = tree(depth - 1);
      // The parsers flatten a node into a parent of the same op; generate what they make.
      if (c.op == op) {
        for (auto& cc : c.children) children.push_back(std::move(cc));
      } else {
        children.push_back(std::move(c));
      }
    }
    return FilterExpr::make(op, std::move(children));
  }

  const FilterContext& ctx() const { return ctx_; }

 private:
  std::mt19937_64 rng_;
  std::vector<FieldId> fields_;
  FilterContext ctx_ = test_context();
};

TEST(FilterRoundTrip, PrintThenParseIsIdentityForGeneratedFilters) {
  TreeGen gen(20261206);
  int strings = 0;
  for (int i = 0; i < 3000; ++i) {
    const FilterExpr tree = gen.tree(4);
    const std::string text = to_text(tree);
    auto parsed = parse_filter(text, gen.ctx());
    ASSERT_TRUE(parsed) << text << "\n" << parsed.error().message;
    ASSERT_TRUE(same_filter(*parsed, tree)) << text << "\nreads back as\n" << to_text(*parsed);
    ASSERT_EQ(to_text(*parsed), text);
    strings += text.find('"') != std::string::npos;
  }
  EXPECT_GT(strings, 500);  // the generator did reach string values
}

TEST(FilterRoundTrip, StringsWithBothQuotesPrintEscaped) {
  Comparison c;
  c.field = FieldId::Service;
  c.op = Comparator::Eq;
  c.value = std::string("z\"'or!SERVICE=='z'or!SERVICE=='z");
  const FilterExpr e = FilterExpr::compare(c);
  EXPECT_EQ(to_text(e), R"(SERVICE == "z\"'or!SERVICE=='z'or!SERVICE=='z")");
  auto back = parse_filter(to_text(e));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(same_filter(*back, e));
  c.value = std::string("a\\b\\");
  EXPECT_EQ(to_text(FilterExpr::compare(c)), R"(SERVICE == "a\\b\\")");
}

TEST(FilterRoundTrip, QuotedValuesTakeBackslashEscapes) {
  auto e = parse_filter(R"(APP == 'it\'s' || SERVICE == "say \"hi\"" || SERVICE == "c:\\d")");
  ASSERT_TRUE(e) << e.error().message;
  ASSERT_EQ(e->op, FilterExpr::Op::Or);
  EXPECT_EQ(std::get<std::string>(e->children[0].cmp.value), "it's");
  EXPECT_EQ(std::get<std::string>(e->children[1].cmp.value), "say \"hi\"");
  EXPECT_EQ(std::get<std::string>(e->children[2].cmp.value), "c:\\d");
  auto open = parse_filter(R"(SERVICE == "never closed\")");
  ASSERT_FALSE(open);
  EXPECT_EQ(open.error().where->offset, 11u);
}

// The reported bypass: an unquoted value holding both quote kinds. It is an error at the first
// quote, naming the fix, never a value that swallows "or !SERVICE == ..." as operators.
TEST(FilterRoundTrip, AQuoteInsideAnUnquotedValueIsAnError) {
  for (const char* text : {R"(SERVICE == z"'or!SERVICE=='z'or!SERVICE=='z)",
                           R"(APP == z"'or!APP=='z'or!APP=='z)", R"(SERVICE == it's)"}) {
    auto e = parse_filter(text);
    ASSERT_FALSE(e) << text << " parsed as " << to_text(*e);
    EXPECT_NE(e.error().message.find("quote the whole value"), std::string::npos)
        << e.error().message;
    EXPECT_EQ(e.error().where->offset, std::string_view(text).find_first_of("\"'"));
  }
}

TEST(FilterRoundTrip, AndOfFlattensAndDropsAll) {
  auto a = parse_filter("SRVPORT == 80 && PROTO == tcp");
  auto b = parse_filter("ADDR == 10.0.0.0/8");
  ASSERT_TRUE(a && b);
  const FilterExpr both = and_of(*a, *b);
  ASSERT_EQ(both.op, FilterExpr::Op::And);
  EXPECT_EQ(both.children.size(), 3u);
  EXPECT_TRUE(same_filter(and_of(FilterExpr::all(), *b), *b));
  EXPECT_TRUE(same_filter(and_of(*a, FilterExpr::all()), *a));
  // An OR on the left stays one child: (x || y) && z, not x || (y && z).
  auto o = parse_filter("SRVPORT == 80 || SRVPORT == 443");
  ASSERT_TRUE(o);
  const FilterExpr r = and_of(*o, *b);
  ASSERT_EQ(r.op, FilterExpr::Op::And);
  EXPECT_EQ(r.children[0].op, FilterExpr::Op::Or);
}

}  // namespace
}  // namespace flowscope::query
