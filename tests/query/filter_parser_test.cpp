// The filter languages: every filterable field with every comparator, values of each type,
// errors with their positions, nfdump's syntax against its FlowTraq equivalent, and the
// canonical text round trip.
#include "query/filter_parser.h"

#include <string>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/tcp_flags.h"

namespace flowscope::query {
namespace {

FilterContext test_context() {
  FilterContext ctx;
  ctx.time = TimeContext{time_from_ms(1795000000000), TimeZoneRef::utc()};
  ctx.groups = [](std::string_view name) -> std::optional<std::uint32_t> {
    if (name == "Campus") return 7;
    if (name == "Campus/Physics") return 8;
    return std::nullopt;
  };
  return ctx;
}

// A valid value of each type, as a user types it.
std::string sample_value(FieldType t) {
  switch (t) {
    case FieldType::Ip: return "10.1.2.0/24";
    case FieldType::U8: return "7";
    case FieldType::U16: return "443";
    case FieldType::U32: return "65000";
    case FieldType::U64: return "1000000";
    case FieldType::Time: return "2026-11-24T08:00:00Z";
    case FieldType::Duration: return "10s";
    case FieldType::Country: return "be";
    case FieldType::String: return "\"web server\"";
    case FieldType::TcpFlags: return "FSYN|FACK";
    case FieldType::Proto: return "udp";
  }
  return "";
}

TEST(FilterParser, EveryFieldWithEveryComparator) {
  const FilterContext ctx = test_context();
  int accepted = 0;
  int refused = 0;
  for (const FieldInfo& f : kFieldTable) {
    if (f.filter_name.empty() || !in_kind(f, RecordKind::Session)) continue;
    for (Comparator op : kAllComparators) {
      const std::string text = std::string(f.filter_name) + " " +
                               std::string(comparator_symbol(op)) + " " + sample_value(f.type);
      auto e = parse_filter(text, ctx);
      if (comparators(f).has(op)) {
        ASSERT_TRUE(e.has_value()) << text << ": " << e.error().message;
        ASSERT_EQ(e->op, FilterExpr::Op::Compare) << text;
        EXPECT_EQ(e->cmp.field, f.id) << text;
        EXPECT_EQ(e->cmp.op, op) << text;
        EXPECT_EQ(e->cmp.offset, 0u);
        ++accepted;
      } else {
        ASSERT_FALSE(e.has_value()) << text;
        ASSERT_TRUE(e.error().where.has_value());
        EXPECT_EQ(e.error().where->offset, f.filter_name.size() + 1) << text;
        EXPECT_NE(e.error().message.find("cannot be compared"), std::string::npos)
            << e.error().message;
        ++refused;
      }
    }
  }
  EXPECT_GT(accepted, 200);
  EXPECT_GT(refused, 50);
}

TEST(FilterParser, KeywordsAreCaseInsensitiveAndSpacesOptional) {
  auto a = parse_filter("srvport==443&&clnip==10.0.0.1");
  auto b = parse_filter("SRVPORT == 443 && CLNIP == 10.0.0.1");
  ASSERT_TRUE(a && b);
  EXPECT_TRUE(same_filter(*a, *b));
  auto c = parse_filter("SRVPORT == 443 and CLNIP == 10.0.0.1");
  ASSERT_TRUE(c);
  EXPECT_TRUE(same_filter(*a, *c));
}

TEST(FilterParser, ValuesAreTyped) {
  const FilterContext ctx = test_context();
  auto v = [&](const std::string& text) {
    auto e = parse_filter(text, ctx);
    EXPECT_TRUE(e.has_value()) << text << ": " << (e ? "" : e.error().message);
    return e ? e->cmp.value : FilterValue{};
  };
  EXPECT_EQ(std::get<Cidr>(v("SRVIP == 10.1.2.3")), Cidr::host(*IpAddress::parse("10.1.2.3")));
  EXPECT_EQ(std::get<Cidr>(v("ADDR == 10.1.2.3/8")).to_string(), "10.0.0.0/8");
  EXPECT_EQ(std::get<Cidr>(v("CLNIP == 2001:db8::/32")).to_string(), "2001:db8::/32");
  EXPECT_EQ(std::get<std::uint64_t>(v("PROTO == TCP")), 6u);
  EXPECT_EQ(std::get<std::uint64_t>(v("PROTO == 17")), 17u);
  // The manual lists ==, !=, >=, <=, >, < for PROTO.
  EXPECT_EQ(std::get<std::uint64_t>(v("PROTO < udp")), 17u);
  EXPECT_EQ(std::get<std::uint64_t>(v("PROTO >= 6")), 6u);
  EXPECT_EQ(std::get<std::uint64_t>(v("FLAGS == FSYN|FACK")), tcp_flags::kSyn | tcp_flags::kAck);
  EXPECT_EQ(std::get<std::uint64_t>(v("FLAGS == FRST,FFIN,FPSH,FURG,FECN,FCWR")),
            tcp_flags::kRst | tcp_flags::kFin | tcp_flags::kPsh | tcp_flags::kUrg |
                tcp_flags::kEce | tcp_flags::kCwr);
  EXPECT_EQ(std::get<CountryCode>(v("CLNCC == us")).view(), "US");
  EXPECT_EQ(std::get<std::int64_t>(v("STARTTIME >= \"2026-11-24 08:00\"")), 1795507200000);
  EXPECT_EQ(std::get<std::int64_t>(v("STARTTIME >= 1795507200000")), 1795507200000);
  EXPECT_EQ(std::get<std::int64_t>(v("TTIME > 1m30s")), 90000);
  EXPECT_EQ(std::get<std::int64_t>(v("TTIME > 250")), 250000);  // seconds, as FlowTraq
  EXPECT_EQ(std::get<std::int64_t>(v("TTIME == 2.5")), 2500);
  EXPECT_EQ(std::get<std::int64_t>(v("TTIME > 2")), 2000);
  EXPECT_EQ(std::get<std::int64_t>(v("TTIME < 0.0015")), 2);
  EXPECT_EQ(std::get<std::int64_t>(v("TTIME >= 250ms")), 250);
  EXPECT_EQ(std::get<std::string>(v("APP == 'web server'")), "web server");
  EXPECT_EQ(std::get<std::uint64_t>(v("SRVPORT == 0x1bb")), 443u);
  EXPECT_EQ(std::get<std::uint64_t>(v("CLNGRP == Campus")), 7u);
}

TEST(FilterParser, AddressComparedWithGroupNameBecomesGroupField) {
  const FilterContext ctx = test_context();
  auto e = parse_filter("SRVIP == Campus/Physics || ADDR != Campus", ctx);
  ASSERT_TRUE(e) << e.error().message;
  ASSERT_EQ(e->op, FilterExpr::Op::Or);
  EXPECT_EQ(e->children[0].cmp.field, FieldId::SrvGroup);
  EXPECT_EQ(std::get<std::uint64_t>(e->children[0].cmp.value), 8u);
  EXPECT_EQ(e->children[1].cmp.field, FieldId::Group);
  EXPECT_EQ(e->children[1].cmp.op, Comparator::Ne);
  auto unknown = parse_filter("CLNIP == Nowhere", ctx);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().where->offset, 9u);
  auto no_groups = parse_filter("CLNIP == Campus");
  ASSERT_FALSE(no_groups);
  EXPECT_NE(no_groups.error().message.find("no IP groups"), std::string::npos);
}

TEST(FilterParser, PrecedenceAndGrouping) {
  auto e = parse_filter("PORT == 1 || PORT == 2 && !PORT == 3");
  ASSERT_TRUE(e);
  ASSERT_EQ(e->op, FilterExpr::Op::Or);
  ASSERT_EQ(e->children.size(), 2u);
  EXPECT_EQ(e->children[1].op, FilterExpr::Op::And);
  EXPECT_EQ(e->children[1].children[1].op, FilterExpr::Op::Not);
  auto p = parse_filter("(PORT == 1 || PORT == 2) && PORT == 3");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->op, FilterExpr::Op::And);
  EXPECT_EQ(p->children[0].op, FilterExpr::Op::Or);
  auto flat = parse_filter("PORT == 1 && (PORT == 2 && PORT == 3)");
  ASSERT_TRUE(flat);
  EXPECT_EQ(flat->children.size(), 3u);
  auto empty = parse_filter("   ");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->op, FilterExpr::Op::All);
}

struct ErrorCase {
  const char* filter;
  std::size_t offset;
  const char* message_part;
};

TEST(FilterParser, ErrorsSayWhereAndWhat) {
  const ErrorCase cases[] = {
      {"SRVPROT == 80", 0, "did you mean SRVPORT?"},
      {"SRVPORT 80", 8, "expected a comparator"},
      {"SRVPORT == ", 11, "expected a number from 0 to 65535"},
      {"SRVPORT == 70000", 11, "out of range"},
      {"SRVPORT == http", 11, "not a valid value for SRVPORT"},
      {"SRVIP == 10.0.0.300", 16, "not a valid value for SRVIP"},
      {"SRVIP > 10.0.0.1", 6, "SRVIP cannot be compared with >; it allows ==, !="},
      {"PROTO == tcpp", 9, "protocol name"},
      {"FLAGS == FSYN|FOO", 14, "\"FOO\" is not a TCP flag"},
      {"CLNCC == BEL", 9, "two-letter country code"},
      {"(PORT == 1 || PORT == 2", 0, "'(' is never closed"},
      {"PORT == 1)", 9, "')' without a matching '('"},
      {"PORT == 1 PORT == 2", 10, "expected '&&', '||'"},
      {"PORT == 1 &&", 12, "expected a comparison"},
      {"&& PORT == 1", 0, "expected a field name"},
      {"APP == \"http", 7, "never closed"},
      {"STARTTIME > 2026-13-01", 17, "not a time for STARTTIME"},
      {"TTIME > 5x", 8, "not a valid value for TTIME"},
      {"src_addr == 10.0.0.1", 0, "unknown field"},
  };
  for (const ErrorCase& c : cases) {
    auto e = parse_filter(c.filter, test_context());
    ASSERT_FALSE(e.has_value()) << c.filter;
    ASSERT_TRUE(e.error().where.has_value()) << c.filter;
    EXPECT_EQ(e.error().where->offset, c.offset) << c.filter << ": " << e.error().message;
    EXPECT_NE(e.error().message.find(c.message_part), std::string::npos)
        << c.filter << ": " << e.error().message;
  }
  auto e = parse_filter("SRVPORT == 80 && CLNIP = 1.2.3.4.5");
  ASSERT_FALSE(e);
  EXPECT_EQ(render_error("filter", "SRVPORT == 80 && CLNIP = 1.2.3.4.5", e.error()),
            "filter: \"1.2.3.4.5\" is not a valid value for CLNIP; expected an IPv4/IPv6 address "
            "or CIDR (10.0.0.0/8, 2001:db8::/32)\n"
            "  SRVPORT == 80 && CLNIP = 1.2.3.4.5\n"
            "                                  ^");
}

TEST(FilterParser, CanonicalTextParsesBack) {
  const FilterContext ctx = test_context();
  for (const char* text :
       {"SRVIP == 10.0.0.1 && CLNIP == 2001:db8::/32", "!(PORT == 53) || PROTO == icmp",
        "(TOTBYTS > 1000 || PACKETS < 3) && FLAGS == FSYN|FACK",
        "STARTTIME >= \"2026-11-24 08:00:00.250\" && TTIME <= 2h && APP == \"it's\"",
        "CLNCC == be && SRVGRP == Campus && ADDR != Campus/Physics"}) {
    auto e = parse_filter(text, ctx);
    ASSERT_TRUE(e) << text << ": " << e.error().message;
    const std::string canonical = to_text(*e);
    auto again = parse_filter(canonical, ctx);
    ASSERT_TRUE(again) << canonical << ": " << again.error().message;
    EXPECT_TRUE(same_filter(*e, *again)) << text << " -> " << canonical;
  }
}

TEST(NfdumpFilter, TranslatesToTheFlowTraqEquivalent) {
  const FilterContext ctx = test_context();
  const std::pair<const char*, const char*> cases[] = {
      {"src ip 10.0.0.1", "CLNIP == 10.0.0.1"},
      {"dst host 2001:db8::1", "SRVIP == 2001:db8::1"},
      {"ip 10.0.0.1", "ADDR == 10.0.0.1"},
      {"src net 10.0.0.0/8", "CLNIP == 10.0.0.0/8"},
      {"net 192.168.0.0 255.255.0.0", "ADDR == 192.168.0.0/16"},
      {"dst port 443", "SRVPORT == 443"},
      {"port > 1023", "PORT > 1023"},
      {"src port lt 1024", "CLNPORT < 1024"},
      {"proto tcp", "PROTO == tcp"},
      {"proto 47", "PROTO == 47"},
      {"udp", "PROTO == udp"},
      {"packets > 10", "TOTPKTS > 10"},
      {"bytes >= 2k", "TOTBYTS >= 2000"},
      {"bytes < 1m", "TOTBYTS < 1000000"},
      {"flags SA", "FLAGS == FSYN|FACK"},
      {"flags FR", "FLAGS == FFIN|FRST"},
      {"src as 64512", "CLNAS == 64512"},
      {"as 3356", "ASN == 3356"},
      {"in if 3", "INIF == 3"},
      {"out if 4", "OUTIF == 4"},
      {"if 5", "IFACE == 5"},
      {"vlan 10", "VLAN == 10"},
      {"src vlan 10", "INVLAN == 10"},
      {"tos 184", "TOS == 184"},
      {"duration > 1000", "TTIME > 1.000"},
      {"router ip 192.0.2.1", "EXPIP == 192.0.2.1"},
      {"next ip 192.0.2.2", "NEXTHOP == 192.0.2.2"},
      {"ipv4", "CLNIP == 0.0.0.0/0"},
      {"inet6", "!(CLNIP == 0.0.0.0/0)"},
      {"any", ""},
      {"not any", "!(PORT == 1 || !(PORT == 1))"},
      {"src ip 10.0.0.1 and dst port 80", "CLNIP == 10.0.0.1 && SRVPORT == 80"},
      {"src ip 10.0.0.1 && (dst port 80 or dst port 443)",
       "CLNIP == 10.0.0.1 && (SRVPORT == 80 || SRVPORT == 443)"},
      {"not (proto udp or proto icmp)", "!(PROTO == udp || PROTO == icmp)"},
      {"! port 53 and any", "!(PORT == 53)"},
  };
  for (const auto& [nf, ft] : cases) {
    auto a = parse_nfdump_filter(nf, ctx);
    ASSERT_TRUE(a) << nf << ": " << a.error().message;
    if (std::string_view(nf) == "not any") {
      ASSERT_EQ(a->op, FilterExpr::Op::Not);
      EXPECT_EQ(a->children[0].op, FilterExpr::Op::All);
      continue;
    }
    auto b = parse_filter(ft, ctx);
    ASSERT_TRUE(b) << ft << ": " << b.error().message;
    EXPECT_TRUE(same_filter(*a, *b)) << nf << " gave " << to_text(*a) << ", expected " << ft;
  }
}

TEST(NfdumpFilter, ErrorsSayWhereAndWhat) {
  const ErrorCase cases[] = {
      {"src ip", 6, "expected an IP address"},
      {"dst port http", 9, "not a valid value for SRVPORT"},
      {"proto tcp and", 13, "expected a filter term"},
      {"flags SAZ", 8, "'Z' is not a TCP flag letter"},
      {"foo 1", 0, "unknown nfdump filter term \"foo\""},
      {"(src ip 10.0.0.1", 0, "'(' is never closed"},
      {"src ip 10.0.0.1 dst port 80", 16, "expected 'and', 'or'"},
      {"net 10.0.0.0 255.0.255.0", 13, "not contiguous"},
  };
  for (const ErrorCase& c : cases) {
    auto e = parse_nfdump_filter(c.filter, test_context());
    ASSERT_FALSE(e.has_value()) << c.filter;
    ASSERT_TRUE(e.error().where.has_value()) << c.filter;
    EXPECT_EQ(e.error().where->offset, c.offset) << c.filter << ": " << e.error().message;
    EXPECT_NE(e.error().message.find(c.message_part), std::string::npos)
        << c.filter << ": " << e.error().message;
  }
}

TEST(FilterParser, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '(');
  auto e = parse_filter(deep + "PORT == 1");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("nests too deeply"), std::string::npos);
  std::string nots(5000, '!');
  EXPECT_FALSE(parse_filter(nots + "PORT == 1"));
  EXPECT_FALSE(parse_nfdump_filter(std::string(5000, '(') + "any"));
}

}  // namespace
}  // namespace flowscope::query
