// Compiled filters against a straightforward row-by-row evaluator of the AST, on random
// batches with absent values: pushed-down ranges plus the column-wise residual must select
// exactly the rows the reference does.
#include "query/compiled_filter.h"

#include <cctype>
#include <random>

#include <gtest/gtest.h>

#include "query/executor_support.h"
#include "query/filter_parser.h"

namespace flowscope::query {
namespace {

SessionBatch random_batch(std::size_t rows, std::uint32_t seed) {
  std::mt19937 rng(seed);
  auto pick = [&](std::uint32_t n) { return static_cast<std::uint32_t>(rng() % n); };
  auto present = [&] { return pick(10) != 0; };
  SessionBatch b(rows);
  const std::uint16_t ports[] = {22, 53, 80, 443, 1024, 8080, 65535, 0};
  const char* countries[] = {"BE", "US", "FR"};
  const char* apps[] = {"dns", "https", "HTTP", ""};
  for (std::size_t i = 0; i < rows; ++i) {
    const std::size_t r = b.add_row();
    auto addr = [&] {
      return pick(4) == 0 ? *IpAddress::parse(fmt::format("2001:db8:{}::{}", pick(3), pick(5)))
                          : IpAddress::v4(0x0A000000u + (pick(3) << 8) + pick(8));
    };
    if (present()) b.set<FieldId::ClnAddr>(r, addr());
    if (present()) b.set<FieldId::SrvAddr>(r, addr());
    if (present()) b.set<FieldId::ClnPort>(r, ports[pick(8)]);
    if (present()) b.set<FieldId::SrvPort>(r, ports[pick(8)]);
    if (present()) b.set<FieldId::Proto>(r, static_cast<std::uint8_t>(pick(3) == 0 ? 17 : 6));
    if (present()) b.set<FieldId::ClnBytes>(r, pick(3000));
    if (present()) b.set<FieldId::SrvBytes>(r, pick(3000));
    if (present()) b.set<FieldId::ClnPackets>(r, pick(10));
    if (present()) b.set<FieldId::SrvPackets>(r, pick(10));
    const std::int64_t start = 1795000000000 + pick(100000);
    if (present()) b.set<FieldId::StartTime>(r, start);
    if (present()) b.set<FieldId::EndTime>(r, start + pick(20000));
    if (present()) b.set<FieldId::ClnCountry>(r, *CountryCode::parse(countries[pick(3)]));
    if (present()) b.set<FieldId::SrvCountry>(r, *CountryCode::parse(countries[pick(3)]));
    if (present()) b.set<FieldId::Application>(r, apps[pick(4)]);
    if (present()) b.set<FieldId::TcpFlags>(r, static_cast<std::uint8_t>(pick(256)));
    if (present()) b.set<FieldId::InVlan>(r, static_cast<std::uint16_t>(pick(3) * 10));
    if (present()) b.set<FieldId::OutVlan>(r, static_cast<std::uint16_t>(pick(3) * 10));
    if (present()) b.set<FieldId::ClnAs>(r, 64500 + pick(3));
    if (present()) b.set<FieldId::SrvAs>(r, 64500 + pick(3));
    if (present()) b.set<FieldId::Sides>(r, static_cast<std::uint8_t>(1 + pick(2)));
  }
  return b;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

template <typename T>
bool ordered(T x, Comparator op, T v) {
  switch (op) {
    case Comparator::Eq: return x == v;
    case Comparator::Ne: return x != v;
    case Comparator::Lt: return x < v;
    case Comparator::Le: return x <= v;
    case Comparator::Gt: return x > v;
    case Comparator::Ge: return x >= v;
  }
  return false;
}

// One stored value against the comparison (REQUIRES: present).
bool ref_stored(const SessionBatch& b, FieldId f, std::size_t row, Comparator op,
                const FilterValue& v) {
  const Column& col = b.column(f);
  switch (col.info().type) {
    case FieldType::Ip: {
      const bool in = std::get<Cidr>(v).contains(col.vec<IpAddress>()[row]);
      return op == Comparator::Eq ? in : !in;
    }
    case FieldType::TcpFlags: {
      const auto need = std::get<std::uint64_t>(v);
      const bool has = (col.vec<std::uint8_t>()[row] & need) == need;
      return op == Comparator::Eq ? has : !has;
    }
    case FieldType::Country: {
      const bool eq = col.vec<CountryCode>()[row] == std::get<CountryCode>(v);
      return op == Comparator::Eq ? eq : !eq;
    }
    case FieldType::String: {
      const bool eq = iequal(col.strings().get(row), std::get<std::string>(v));
      return op == Comparator::Eq ? eq : !eq;
    }
    case FieldType::Time:
    case FieldType::Duration:
      return ordered(col.vec<std::int64_t>()[row], op, std::get<std::int64_t>(v));
    default: return ordered(integer_at(col, row), op, std::get<std::uint64_t>(v));
  }
}

bool ref_eval(const FilterExpr& e, const SessionBatch& b, std::size_t row) {
  switch (e.op) {
    case FilterExpr::Op::All: return true;
    case FilterExpr::Op::Not: return !ref_eval(e.children[0], b, row);
    case FilterExpr::Op::And:
      for (const auto& c : e.children) {
        if (!ref_eval(c, b, row)) return false;
      }
      return true;
    case FilterExpr::Op::Or:
      for (const auto& c : e.children) {
        if (ref_eval(c, b, row)) return true;
      }
      return false;
    case FilterExpr::Op::Compare: break;
  }
  const Comparison& c = e.cmp;
  const FieldInfo& info = field_info(c.field);
  switch (info.kind) {
    case FieldKind::Stored:
      return b.column(c.field).valid(row) && ref_stored(b, c.field, row, c.op, c.value);
    case FieldKind::Either: {
      const FieldId x = info.operands[0];
      const FieldId y = info.operands[1];
      const bool vx = b.column(x).valid(row);
      const bool vy = b.column(y).valid(row);
      if (c.op == Comparator::Ne) {
        const bool eqx = vx && ref_stored(b, x, row, Comparator::Eq, c.value);
        const bool eqy = vy && ref_stored(b, y, row, Comparator::Eq, c.value);
        return (vx || vy) && !eqx && !eqy;
      }
      return (vx && ref_stored(b, x, row, c.op, c.value)) ||
             (vy && ref_stored(b, y, row, c.op, c.value));
    }
    case FieldKind::Sum:
    case FieldKind::Diff: {
      const Column& x = b.column(info.operands[0]);
      const Column& y = b.column(info.operands[1]);
      if (!x.valid(row) && !y.valid(row)) return false;
      const std::uint64_t a = x.valid(row) ? integer_at(x, row) : 0;
      const std::uint64_t d = y.valid(row) ? integer_at(y, row) : 0;
      if (info.kind == FieldKind::Diff) {
        return ordered(static_cast<std::int64_t>(a - d), c.op, std::get<std::int64_t>(c.value));
      }
      return ordered(a + d, c.op, std::get<std::uint64_t>(c.value));
    }
  }
  return false;
}

bool passes_pushdown(const std::vector<store::ScanPredicate>& preds, const SessionBatch& b,
                     std::size_t row) {
  for (const auto& p : preds) {
    const Column& col = b.column(p.field);
    if (!col.valid(row)) return false;
    const store::OrderKey k = order_key_of(col, row);
    if (k < p.lo || p.hi < k) return false;
  }
  return true;
}

const char* const kFilters[] = {
    "SRVPORT == 443",
    "SRVPORT != 443",
    "SRVPORT >= 1024",
    "SRVPORT < 80",
    "SRVPORT <= 80 && SRVPORT > 22",
    "SRVPORT > 65535 || SRVPORT < 0",
    "PORT == 53",
    "PORT != 53",
    "PORT > 8000",
    "!(PORT == 53)",
    "CLNIP == 10.0.1.0/24",
    "CLNIP != 10.0.1.0/24",
    "SRVIP == 10.0.0.3",
    "ADDR == 2001:db8:1::/48",
    "ADDR != 10.0.0.0/8",
    "ADDR == ::/0",
    "ADDR == 0.0.0.0/0",
    "PROTO == udp",
    "PROTO != tcp",
    "FLAGS == FSYN",
    "FLAGS == FSYN|FACK",
    "FLAGS != FRST",
    "CLNBYTS > 1500",
    "BYTES >= 2990",
    "TOTBYTS > 3000",
    "TOTBYTS <= 200",
    "PACKETS == 0",
    "TOTPKTS < 5",
    "TTIME > 10s",
    "TTIME <= 0",
    "STARTTIME >= 1795000050000",
    "STARTTIME < 1795000050000 && ENDTIME > 1795000060000",
    "CLNCC == be",
    "SRVCC != US",
    "APP == https",
    "APP == http",
    "APP != dns",
    "VLAN == 10",
    "INVLAN != 0",
    "ASN == 64501",
    "CLNAS >= 64501 && SRVAS < 64502",
    "SIDES == 2",
    "SIDES == 1 || SESSID == 5",
    "(SRVPORT == 443 || SRVPORT == 80) && PROTO == tcp && !(CLNCC == FR)",
    "SRVPORT == 443 && (ADDR == 10.0.1.0/24 || TOTBYTS > 2000) && CLNCC == US",
    "!(!(PORT == 22) && !(PORT == 80))",
    "SRVIP == 10.0.0.0/8 && SRVPORT >= 80 && SRVPORT <= 1024 && STARTTIME > 1795000010000",
};

TEST(CompiledFilter, MatchesTheRowByRowReference) {
  const SessionBatch batch = random_batch(1000, 42);
  for (const char* text : kFilters) {
    auto parsed = parse_filter(text);
    ASSERT_TRUE(parsed) << text << ": " << parsed.error().message;
    auto compiled = CompiledFilter::compile(*parsed);
    ASSERT_TRUE(compiled) << text;
    std::vector<std::uint32_t> rows;
    compiled->select_rows(batch, rows);
    std::vector<std::uint32_t> got;
    for (std::uint32_t r : rows) {
      if (passes_pushdown(compiled->pushdown(), batch, r)) got.push_back(r);
    }
    std::vector<std::uint32_t> want;
    for (std::size_t r = 0; r < batch.size(); ++r) {
      if (ref_eval(*parsed, batch, r)) want.push_back(static_cast<std::uint32_t>(r));
    }
    EXPECT_EQ(got, want) << text;
    EXPECT_FALSE(want.empty() && std::string_view(text) != "SRVPORT > 65535 || SRVPORT < 0")
        << text << " selects nothing: the test data should exercise it";
  }
}

TEST(CompiledFilter, PushesDownTopLevelRangesOnly) {
  auto compile = [](const char* text) {
    auto parsed = parse_filter(text);
    EXPECT_TRUE(parsed) << text;
    auto c = CompiledFilter::compile(*parsed);
    EXPECT_TRUE(c) << text;
    return *c;
  };
  auto a = compile("SRVPORT >= 80 && SRVPORT < 1024 && SRVIP == 10.0.0.0/8");
  EXPECT_TRUE(a.pushdown_is_exact());
  ASSERT_EQ(a.pushdown().size(), 3u);
  EXPECT_EQ(a.pushdown()[0].lo, store::order_key(std::uint64_t{80}));
  EXPECT_EQ(a.pushdown()[1].hi, store::order_key(std::uint64_t{1023}));
  EXPECT_EQ(a.pushdown()[2].lo, store::order_key(*IpAddress::parse("10.0.0.0")));
  EXPECT_EQ(a.pushdown()[2].hi, store::order_key(*IpAddress::parse("10.255.255.255")));
  EXPECT_TRUE(a.columns().empty());

  auto b = compile("SRVPORT == 443 && (PORT == 53 || PROTO == udp) && SRVPORT != 8");
  EXPECT_FALSE(b.pushdown_is_exact());
  ASSERT_EQ(b.pushdown().size(), 1u);
  EXPECT_EQ(b.columns(),
            (std::vector<FieldId>{FieldId::Proto, FieldId::ClnPort, FieldId::SrvPort}));
  // Either, derived, flags and strings are never ranges.
  for (const char* text : {"PORT == 1", "TOTBYTS > 5", "FLAGS == FSYN", "APP == dns",
                           "SRVPORT == 1 || SRVPORT == 2", "!(SRVPORT == 1)", "SRVPORT < 0"}) {
    EXPECT_TRUE(compile(text).pushdown().empty()) << text;
  }
  EXPECT_TRUE(compile("").pushdown_is_exact());
}

TEST(CompiledFilter, EmptyAndOddSizedBatches) {
  auto parsed = parse_filter("!(PORT == 53)");
  auto c = CompiledFilter::compile(*parsed);
  SessionBatch empty;
  std::vector<std::uint32_t> rows;
  c->select_rows(empty, rows);
  EXPECT_TRUE(rows.empty());
  for (std::size_t n : {1u, 63u, 64u, 65u, 129u}) {
    const SessionBatch b = random_batch(n, static_cast<std::uint32_t>(n));
    c->select_rows(b, rows);
    for (std::uint32_t r : rows) EXPECT_LT(r, n);
    std::size_t want = 0;
    for (std::size_t r = 0; r < n; ++r) want += ref_eval(*parsed, b, r);
    EXPECT_EQ(rows.size(), want) << n;
  }
}

}  // namespace
}  // namespace flowscope::query
