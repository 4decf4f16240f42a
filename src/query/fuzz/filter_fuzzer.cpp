// libFuzzer target: both filter syntaxes. The first byte picks the syntax; the rest is the
// filter. Checks (F15):
// - a parsed filter compiles, and its canonical text (to_text) parses back to the same tree and
//   prints the same text again, so what the server echoes is what ran;
// - a restricted selection never widens: with a permission restriction attached as the server
//   attaches it (Selection::restriction), every row the combined filter selects from a fixed
//   batch of sessions is one the restriction alone allows, whatever the user's text.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>

#include "query/compiled_filter.h"
#include "query/executor_support.h"
#include "query/filter_parser.h"

using namespace flowscope;

namespace {

// Sessions on both sides of the restriction (10.1.0.0/16), with strings that hold quotes.
const SessionBatch& sample_sessions() {
  static const SessionBatch batch = [] {
    SessionBatch b;
    const char* names[] = {"z", "z\"'or!SERVICE=='z", "it's", "a\\b", ""};
    for (std::uint32_t i = 0; i < 40; ++i) {
      const std::size_t r = b.add_row();
      b.set<FieldId::SessionId>(r, i);
      b.set<FieldId::StartTime>(r, 1795000000000 + i * 1000);
      b.set<FieldId::ClnAddr>(r, IpAddress::v4((i % 2 ? 0x0A010000u : 0x0A020000u) + i));
      b.set<FieldId::SrvAddr>(r, IpAddress::v4(0xC0A80001u + i % 3));
      b.set<FieldId::SrvPort>(r, static_cast<std::uint16_t>(i % 4 ? 443 : 53));
      b.set<FieldId::Proto>(r, static_cast<std::uint8_t>(i % 4 ? 6 : 17));
      b.set<FieldId::ClnBytes>(r, 100 + i);
      b.set<FieldId::Service>(r, names[i % 5]);
      b.set<FieldId::Application>(r, names[(i + 2) % 5]);
      if (i % 3) b.set<FieldId::ClnGroup>(r, i % 3);
    }
    return b;
  }();
  return batch;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  query::FilterContext ctx;
  ctx.time = TimeContext{time_from_ms(1795000000123), TimeZoneRef::utc()};
  ctx.groups = [](std::string_view name) -> std::optional<std::uint32_t> {
    if (name == "Campus") return 7;
    return std::nullopt;
  };
  std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);
  const auto syntax = (data[0] & 1) ? query::FilterSyntax::Nfdump : query::FilterSyntax::FlowTraq;
  auto parsed = syntax == query::FilterSyntax::Nfdump ? query::parse_nfdump_filter(text, ctx)
                                                      : query::parse_filter(text, ctx);
  if (!parsed) {
    if (parsed.error().where && parsed.error().where->offset > text.size()) __builtin_trap();
    return 0;
  }
  if (!query::CompiledFilter::compile(*parsed)) __builtin_trap();
  const std::string printed = query::to_text(*parsed);
  auto again = query::parse_filter(printed, ctx);
  if (!again || !query::same_filter(*again, *parsed)) __builtin_trap();
  if (query::to_text(*again) != printed) __builtin_trap();

  // Never widens.
  auto restriction = query::parse_filter("ADDR == 10.1.0.0/16");
  if (!restriction) __builtin_trap();
  query::Selection where;
  where.filter = std::string(text);
  where.syntax = syntax;
  where.restriction = std::make_shared<const query::FilterExpr>(*restriction);
  auto combined = query::compile_selection(where, ctx);
  auto allowed = query::CompiledFilter::compile(*restriction);
  if (!combined || !allowed) __builtin_trap();
  // select() covers the residual; the pushdown is applied by the store, so check it here too.
  const SessionBatch& batch = sample_sessions();
  std::vector<std::uint32_t> rows;
  std::vector<std::uint32_t> ok;
  combined->select_rows(batch, rows);
  allowed->select_rows(batch, ok);
  std::vector<bool> permitted(batch.size(), false);
  for (std::uint32_t r : ok) permitted[r] = true;
  const Cidr campus = *Cidr::parse("10.1.0.0/16");
  for (std::uint32_t r : rows) {
    if (!permitted[r]) __builtin_trap();
    const bool in = campus.contains(batch.get<FieldId::ClnAddr>(r)) ||
                    campus.contains(batch.get<FieldId::SrvAddr>(r));
    if (!in && combined->pushdown().empty()) __builtin_trap();
  }
  return 0;
}
