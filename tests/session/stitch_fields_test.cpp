// The registry's promise for stitching (docs/conventions.md "The field registry"): every stored
// field that both one-way flows and sessions have (Scope::Both in core/fields.def) survives
// stitching. The test walks the
// registry, so a row added there without the stitcher carrying it fails here.
#include <gtest/gtest.h>

#include "core/record_batch.h"
#include "session/stitcher.h"

#include "flow_builder.h"

namespace flowscope::session {
namespace {

using testing::add_flow;
using testing::ip;

// A present, non-default value for `id` in `row`, chosen by type; Proto and Version keep the
// record a TCP NetFlow v9 one so that the stitcher's own rules apply as for real export.
template <RecordKind K>
void set_probe_value(Batch<K>& b, FieldId id, std::size_t row) {
  Column& col = b.mutable_column(id);
  const FieldInfo& f = field_info(id);
  switch (f.type) {
    case FieldType::Ip: col.vec<IpAddress>()[row] = ip("198.51.100.77"); break;
    case FieldType::Proto: col.vec<std::uint8_t>()[row] = 6; break;
    case FieldType::TcpFlags: col.vec<std::uint8_t>()[row] = 0x02; break;  // SYN
    case FieldType::U8: col.vec<std::uint8_t>()[row] = id == FieldId::Version ? 9 : 3; break;
    case FieldType::U16: col.vec<std::uint16_t>()[row] = 1001; break;
    case FieldType::U32: col.vec<std::uint32_t>()[row] = 7; break;
    case FieldType::U64: col.vec<std::uint64_t>()[row] = 123456; break;
    case FieldType::Time:
    case FieldType::Duration: col.vec<std::int64_t>()[row] = 1'000'500; break;
    case FieldType::Country: col.vec<CountryCode>()[row] = *CountryCode::parse("NL"); break;
    case FieldType::String: col.strings().set(row, "probe-app"); break;
  }
  col.mark_valid(row);
}

// Compares one column's value in two batches of possibly different kinds.
template <RecordKind A, RecordKind B>
::testing::AssertionResult same_value(const Batch<A>& a, std::size_t ra, const Batch<B>& b,
                                      std::size_t rb, FieldId id) {
  const Column& ca = a.column(id);
  const Column& cb = b.column(id);
  if (!cb.valid(rb)) return ::testing::AssertionFailure() << "absent in the session";
  bool equal = false;
  std::visit(
      [&](const auto& va) {
        using V = std::decay_t<decltype(va)>;
        const V& vb = std::get<V>(cb.data());
        if constexpr (std::is_same_v<V, StringColumn>) {
          equal = va.get(ra) == vb.get(rb);
        } else {
          equal = va[ra] == vb[rb];
        }
      },
      ca.data());
  if (!equal) return ::testing::AssertionFailure() << "value differs";
  return ::testing::AssertionSuccess();
}

TEST(StitchFields, EveryFieldOfBothKindsSurvivesStitching) {
  // The client's record carries every Both field; the server's answer only the basics.
  FlowBatch flows;
  add_flow(flows, {.src = "10.0.0.1",
                   .sport = 40000,
                   .dst = "10.0.0.2",
                   .dport = 443,
                   .first = 1'000'000,
                   .last = 1'000'100,
                   .flags = 0x02,
                   .version = 9});
  add_flow(flows, {.src = "10.0.0.2",
                   .sport = 443,
                   .dst = "10.0.0.1",
                   .dport = 40000,
                   .first = 1'000'010,
                   .last = 1'000'090,
                   .flags = 0x12,
                   .version = 9});
  std::size_t both = 0;
  for (const FieldInfo& f : kFieldTable) {
    if (f.scope != Scope::Both || f.kind != FieldKind::Stored) continue;
    set_probe_value(flows, f.id, 0);
    ++both;
  }
  ASSERT_GE(both, 13u) << "the registry lost its Both fields?";

  Stitcher stitcher(StitcherConfig{});
  SessionBatch out;
  stitcher.add(flows, out);
  stitcher.flush(out);
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out.get<FieldId::ClnAddr>(0), ip("10.0.0.1"));

  for (const FieldInfo& f : kFieldTable) {
    if (f.scope != Scope::Both || f.kind != FieldKind::Stored) continue;
    if (f.id == FieldId::TcpFlags) {
      // The union of both sides: the client's SYN and the server's SYN|ACK.
      EXPECT_EQ(out.get<FieldId::TcpFlags>(0), 0x12) << f.name;
      continue;
    }
    EXPECT_TRUE(same_value(flows, 0, out, 0, f.id)) << f.name << " did not survive stitching";
  }
}

TEST(StitchFields, TheServersRecordDescribesAOneSidedServerSession) {
  // Only the server's answer was exported: its values describe the session (inputs swapped).
  FlowBatch flows;
  add_flow(flows, {.src = "10.0.0.2",
                   .sport = 443,
                   .dst = "10.0.0.1",
                   .dport = 40000,
                   .flags = 0x12,
                   .version = 9});
  set_probe_value(flows, FieldId::NextHop, 0);
  set_probe_value(flows, FieldId::Application, 0);
  set_probe_value(flows, FieldId::EndReason, 0);
  flows.set<FieldId::InIf>(0, 11);
  flows.set<FieldId::OutIf>(0, 22);
  Stitcher stitcher(StitcherConfig{});
  SessionBatch out;
  stitcher.add(flows, out);
  stitcher.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.get<FieldId::SrvPort>(0), 443);
  EXPECT_TRUE(same_value(flows, 0, out, 0, FieldId::NextHop));
  EXPECT_TRUE(same_value(flows, 0, out, 0, FieldId::Application));
  EXPECT_TRUE(same_value(flows, 0, out, 0, FieldId::EndReason));
  EXPECT_EQ(out.get<FieldId::InIf>(0), 22u);
  EXPECT_EQ(out.get<FieldId::OutIf>(0), 11u);
}

TEST(StitchFields, ALaterRecordOfTheSameExporterUpdatesCarriedValues) {
  // NSEL: a "created" event, then the teardown ("deleted", 2) with the end reason.
  FlowBatch flows;
  add_flow(flows, {.src = "10.0.0.1",
                   .sport = 40000,
                   .dst = "10.0.0.2",
                   .dport = 443,
                   .first = 1'000'000,
                   .last = 1'000'000,
                   .version = 9});
  flows.set<FieldId::AsaEvent>(0, 1);
  add_flow(flows, {.src = "10.0.0.1",
                   .sport = 40000,
                   .dst = "10.0.0.2",
                   .dport = 443,
                   .first = 1'000'000,
                   .last = 1'000'900,
                   .version = 9});
  flows.set<FieldId::AsaEvent>(1, 2);
  flows.set<FieldId::EndReason>(1, 3);
  Stitcher stitcher(StitcherConfig{});
  SessionBatch out;
  stitcher.add(flows, out);
  stitcher.flush(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out.get<FieldId::AsaEvent>(0), 2);
  EXPECT_EQ(out.get<FieldId::EndReason>(0), 3);
}

}  // namespace
}  // namespace flowscope::session
