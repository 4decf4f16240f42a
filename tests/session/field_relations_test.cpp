// The registry's relations (core/fields.def, columns Relations, nfdump, Columns; docs/
// architecture.md "The field registry"): the relations are consistent, and no field that both
// one-way flows and sessions have is lost on any path between them: stitching, the probe's
// meter and its session -> two flows export, and import's one-sided sessions. The tests walk the
// registry, so a row added to fields.def that a path does not carry fails here.
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "capture/flow_meter.h"
#include "core/record_batch.h"
#include "session/one_sided.h"
#include "session/stitcher.h"

#include "flow_builder.h"

namespace flowscope::session {
namespace {

using testing::add_flow;
using testing::ip;

// A distinctive value per field (its id shows in it), so a copy from the wrong field fails.
template <RecordKind K>
void set_distinct(Batch<K>& b, FieldId id, std::size_t row) {
  Column& col = b.mutable_column(id);
  const auto n = static_cast<std::uint32_t>(id) + 1;
  switch (field_info(id).type) {
    case FieldType::Ip:
      col.vec<IpAddress>()[row] = IpAddress::v4(0xC6336400u + n);  // 198.51.100.n
      break;
    case FieldType::Proto: col.vec<std::uint8_t>()[row] = 17; break;
    case FieldType::TcpFlags:
    case FieldType::U8: col.vec<std::uint8_t>()[row] = static_cast<std::uint8_t>(n); break;
    case FieldType::U16:
      col.vec<std::uint16_t>()[row] = static_cast<std::uint16_t>(1000 + n);
      break;
    case FieldType::U32: col.vec<std::uint32_t>()[row] = 100000 + n; break;
    case FieldType::U64: col.vec<std::uint64_t>()[row] = 5'000'000 + n; break;
    case FieldType::Time:
    case FieldType::Duration: col.vec<std::int64_t>()[row] = 1'700'000'000'000 + n; break;
    case FieldType::Country: col.vec<CountryCode>()[row] = *CountryCode::parse("NL"); break;
    case FieldType::String: col.strings().set(row, field_info(id).name); break;
  }
  col.mark_valid(row);
}

// Whether column `a` of row `ra` equals column `b` of row `rb` (same type), and `b` is set.
template <RecordKind A, RecordKind B>
::testing::AssertionResult same_value(const Batch<A>& from, std::size_t ra, FieldId a,
                                      const Batch<B>& to, std::size_t rb, FieldId b) {
  const Column& ca = from.column(a);
  const Column& cb = to.column(b);
  if (!cb.valid(rb)) {
    return ::testing::AssertionFailure()
           << field_info(a).name << " -> " << field_info(b).name << ": absent";
  }
  bool equal = false;
  std::visit(
      [&](const auto& va) {
        using V = std::decay_t<decltype(va)>;
        const V* vb = std::get_if<V>(&cb.data());
        if (vb == nullptr) return;
        if constexpr (std::is_same_v<V, StringColumn>) {
          equal = va.get(ra) == vb->get(rb);
        } else {
          equal = va[ra] == (*vb)[rb];
        }
      },
      ca.data());
  if (!equal) {
    return ::testing::AssertionFailure()
           << field_info(a).name << " -> " << field_info(b).name << ": value differs";
  }
  return ::testing::AssertionSuccess();
}

// ---- the relations themselves -----------------------------------------------------------------

TEST(FieldRelations, CounterpartsLinkAFlowFieldToASessionFieldOfTheSameType) {
  std::set<FieldId> targets;
  for (const FieldInfo& f : kFieldTable) {
    if (!f.counterpart) continue;
    const FieldInfo& c = field_info(*f.counterpart);
    EXPECT_TRUE(in_kind(f, RecordKind::Flow)) << f.name;
    EXPECT_EQ(c.scope, Scope::Session) << f.name << " -> " << c.name;
    EXPECT_EQ(c.kind, FieldKind::Stored) << c.name;
    EXPECT_EQ(c.type, f.type) << f.name << " -> " << c.name;
    EXPECT_TRUE(targets.insert(c.id).second) << c.name << " is the counterpart of two fields";
    EXPECT_EQ(flow_counterpart(c.id), f.id) << c.name;
  }
  EXPECT_GE(targets.size(), 13u);
}

TEST(FieldRelations, TwinsArePairsOfTheSameTypeAndKind) {
  for (const FieldInfo& f : kFieldTable) {
    if (!f.twin) continue;
    const FieldInfo& t = field_info(*f.twin);
    EXPECT_EQ(t.twin, f.id) << f.name << " <-> " << t.name << " is not symmetric";
    EXPECT_NE(t.id, f.id) << f.name;
    EXPECT_EQ(t.type, f.type) << f.name;
    EXPECT_EQ(t.scope, f.scope) << f.name;
    EXPECT_EQ(side_of(f.id) + side_of(t.id), 1) << f.name << " and " << t.name;
    // The twin of a counterpart is the counterpart of the flow field's twin (or none).
    if (f.counterpart && field_info(*f.counterpart).twin) {
      EXPECT_EQ(field_info(*f.counterpart).twin, t.counterpart) << f.name;
    }
  }
  // The sides of an Either field are each other's twins when they are client/server fields.
  EXPECT_EQ(twin(FieldId::ClnAddr), FieldId::SrvAddr);
  EXPECT_EQ(on_side(FieldId::ClnCountry, 1), FieldId::SrvCountry);
  EXPECT_EQ(on_side(FieldId::SrvCountry, 1), FieldId::SrvCountry);
  EXPECT_EQ(on_side(FieldId::Vlan, 1), FieldId::OutVlan);
  EXPECT_EQ(side_of(FieldId::SrvAsOrg), 1);
  EXPECT_EQ(side_of(FieldId::OutIf), 1);
  EXPECT_EQ(side_of(FieldId::Proto), 0);
}

TEST(FieldRelations, NfdumpKeywordsAreUniqueAndNameFilterableFields) {
  std::set<std::string_view> seen;
  for (const FieldInfo& f : kFieldTable) {
    if (f.nfdump.empty()) continue;
    EXPECT_TRUE(seen.insert(f.nfdump).second) << f.nfdump;
    EXPECT_TRUE(in_kind(f, RecordKind::Session)) << f.name;
    EXPECT_EQ(find_nfdump_field(f.nfdump), f.id);
  }
  // Every keyword the nfdump grammar looks up (query/filter_parser.cpp) is in the registry.
  for (std::string_view keyword : {"ip", "port", "as", "vlan", "if", "proto", "packets", "bytes",
                                   "duration", "tos", "router", "next"}) {
    EXPECT_TRUE(find_nfdump_field(keyword).has_value()) << keyword;
  }
  EXPECT_EQ(find_nfdump_field("port"), FieldId::Port);
  EXPECT_EQ(on_side(FieldId::Port, 1), FieldId::SrvPort);
  EXPECT_EQ(on_side(FieldId::Iface, 0), FieldId::InIf);
  EXPECT_EQ(find_nfdump_field("nope"), std::nullopt);
}

TEST(FieldRelations, DefaultColumnsAreStoredFieldsOfTheSurfacesRecordKind) {
  for (Surface s : {Surface::Decode, Surface::Capture, Surface::Query, Surface::Server}) {
    const RecordKind kind = s == Surface::Decode ? RecordKind::Flow : RecordKind::Session;
    const auto columns = default_columns(s);
    EXPECT_FALSE(columns.empty());
    std::set<FieldId> unique(columns.begin(), columns.end());
    EXPECT_EQ(unique.size(), columns.size());
    for (FieldId id : columns) {
      EXPECT_TRUE(in_kind(field_info(id), kind)) << field_info(id).name;
      EXPECT_EQ(field_info(id).kind, FieldKind::Stored) << field_info(id).name;
    }
  }
  // The lists as they were written by hand before the registry said them.
  EXPECT_EQ(default_column_names(Surface::Decode),
            "first,last,proto,src_addr,src_port,dst_addr,dst_port,packets,bytes,tcp_flags,"
            "exporter,version");
  EXPECT_EQ(default_column_names(Surface::Capture),
            "session_id,start_time,end_time,proto,cln_addr,cln_port,srv_addr,srv_port,"
            "cln_packets,srv_packets,cln_bytes,srv_bytes,cln_tcp_flags,srv_tcp_flags,end_reason,"
            "application");
  EXPECT_EQ(default_column_names(Surface::Query),
            "start_time,end_time,cln_addr,cln_port,srv_addr,srv_port,proto,cln_packets,"
            "srv_packets,cln_bytes,srv_bytes");
  EXPECT_EQ(default_column_names(Surface::Server),
            "start_time,end_time,proto,cln_addr,cln_port,srv_addr,srv_port,cln_bytes,srv_bytes,"
            "exporter,session_id");
}

// ---- no field both kinds have is lost -----------------------------------------------------------

// The session fields a one-way flow's fields reach: Both fields and counterparts.
std::vector<std::pair<FieldId, FieldId>> flow_to_session_pairs() {
  std::vector<std::pair<FieldId, FieldId>> out;
  for (FieldId id : fields_of(RecordKind::Flow, /*stored_only=*/true)) {
    if (field_info(id).scope == Scope::Both) out.emplace_back(id, id);
    if (auto c = session_counterpart(id)) out.emplace_back(id, *c);
  }
  return out;
}

TEST(FieldRelations, ImportsOneSidedSessionsKeepEveryRelatedField) {
  // nfcapd, flow-tools and CSV flow files all become sessions through append_one_sided.
  FlowBatch flows;
  flows.add_row();
  for (FieldId id : fields_of(RecordKind::Flow, /*stored_only=*/true)) set_distinct(flows, id, 0);
  SessionBatch sessions;
  append_one_sided(flows, sessions);
  ASSERT_EQ(sessions.size(), 1u);
  for (auto [flow_field, session_field] : flow_to_session_pairs()) {
    EXPECT_TRUE(same_value(flows, 0, flow_field, sessions, 0, session_field));
  }
  EXPECT_EQ(sessions.get<FieldId::Sides>(0), 1);
}

TEST(FieldRelations, StitchingKeepsEveryRelatedFieldOfTheClientsRecord) {
  FlowBatch flows;
  add_flow(flows, {.src = "10.0.0.1", .sport = 40000, .dst = "10.0.0.2", .dport = 443});
  for (auto [flow_field, session_field] : flow_to_session_pairs()) {
    // Key, counters and times, exporter, sampling and interfaces have rules of their own
    // (docs/sessions.md); every other field is carried as it is.
    if (flow_field == session_field && field_info(flow_field).scope == Scope::Both &&
        flow_field != FieldId::Proto && flow_field != FieldId::TcpFlags &&
        flow_field != FieldId::Exporter && flow_field != FieldId::Sampling &&
        flow_field != FieldId::InIf && flow_field != FieldId::OutIf) {
      set_distinct(flows, flow_field, 0);
    }
    // Counterparts the flow does not have yet (AS numbers, VLANs).
    if (flow_field != session_field && !flows.is_set(flow_field, 0)) {
      set_distinct(flows, flow_field, 0);
    }
  }
  Stitcher stitcher(StitcherConfig{});
  SessionBatch out;
  stitcher.add(flows, out);
  stitcher.flush(out);
  ASSERT_EQ(out.size(), 1u);
  for (auto [flow_field, session_field] : flow_to_session_pairs()) {
    if (flow_field == FieldId::Sampling || !flows.is_set(flow_field, 0)) continue;
    EXPECT_TRUE(same_value(flows, 0, flow_field, out, 0, session_field));
  }
}

// A session with a distinctive value in every field a flow field comes from.
SessionBatch every_related_session_field() {
  SessionBatch s;
  s.add_row();
  for (FieldId id : fields_of(RecordKind::Flow, /*stored_only=*/true)) {
    for (int side = 0; side < 2; ++side) {
      if (auto from = session_source_field(id, side)) set_distinct(s, *from, 0);
    }
  }
  s.set<FieldId::Proto>(0, 6);
  return s;
}

TEST(FieldRelations, ExportsTwoFlowsThatKeepEveryRelatedField) {
  const SessionBatch s = every_related_session_field();
  FlowBatch flows;
  ASSERT_EQ(append_session_flows(s, 0, flows), 2u);
  for (int side = 0; side < 2; ++side) {
    for (auto [flow_field, session_field] : flow_to_session_pairs()) {
      // A field both have that also has a counterpart (tcp_flags) is exported per side.
      if (flow_field == session_field && session_counterpart(flow_field)) continue;
      const FieldId from = side == 0 || flow_field == session_field
                               ? session_field
                               : twin(session_field).value_or(session_field);
      EXPECT_TRUE(same_value(s, 0, from, flows, static_cast<std::size_t>(side), flow_field))
          << "side " << side;
    }
  }
  // The client's record goes from client to server, the server's back.
  EXPECT_EQ(flows.get<FieldId::SrcAddr>(0), s.get<FieldId::ClnAddr>(0));
  EXPECT_EQ(flows.get<FieldId::SrcAddr>(1), s.get<FieldId::SrvAddr>(0));
  EXPECT_EQ(flows.get<FieldId::FlowBytes>(1), s.get<FieldId::SrvBytes>(0));
  EXPECT_EQ(flows.get<FieldId::TcpFlags>(1), s.get<FieldId::SrvTcpFlags>(0));
}

TEST(FieldRelations, ASideThatSentNothingExportsNoFlow) {
  SessionBatch s = every_related_session_field();
  s.set<FieldId::SrvPackets>(0, 0);
  FlowBatch flows;
  EXPECT_EQ(append_session_flows(s, 0, flows), 1u);
}

TEST(FieldRelations, MeteredSessionsExportedAndStitchedKeepTheirRelatedFields) {
  // One TCP exchange through the probe's meter, its two exported flows stitched again: every
  // field the meter set that a flow carries comes back.
  capture::FlowMeter meter(capture::MeterConfig{});
  SessionBatch metered;
  auto frame = [](std::uint32_t src, std::uint32_t dst, std::uint16_t sport, std::uint16_t dport,
                  std::uint8_t flags) {
    std::vector<std::byte> f(12, std::byte{0x02});
    auto put = [&](std::uint64_t v, int bytes) {
      for (int i = bytes - 1; i >= 0; --i) f.push_back(std::byte((v >> (8 * i)) & 0xFF));
    };
    put(0x0800, 2);
    put(0x45, 1), put(0x28, 1), put(40, 2), put(1, 2), put(0, 2), put(64, 1), put(6, 1);
    put(0, 2), put(src, 4), put(dst, 4);
    put(sport, 2), put(dport, 2), put(1, 4), put(0, 4), put(0x50, 1), put(flags, 1);
    put(1000, 2), put(0, 4);
    return f;
  };
  const capture::TimeNs t0 = 1'700'000'000 * capture::kNsPerSecond;
  for (const auto& [f, t] :
       {std::pair{frame(0x0A000001, 0x0A000002, 40000, 80, 0x02), t0},
        std::pair{frame(0x0A000002, 0x0A000001, 80, 40000, 0x12), t0 + 1'000'000},
        std::pair{frame(0x0A000001, 0x0A000002, 40000, 80, 0x11), t0 + 2'000'000},
        std::pair{frame(0x0A000002, 0x0A000001, 80, 40000, 0x11), t0 + 3'000'000}}) {
    meter.add(LinkType::Ethernet, f, f.size(), t, metered);
  }
  meter.flush(metered);
  ASSERT_EQ(metered.size(), 1u);

  FlowBatch flows;
  ASSERT_EQ(append_session_flows(metered, 0, flows), 2u);
  Stitcher stitcher(StitcherConfig{});
  SessionBatch again;
  stitcher.add(flows, again);
  stitcher.flush(again);
  ASSERT_EQ(again.size(), 1u);
  for (FieldId id : fields_of(RecordKind::Flow, /*stored_only=*/true)) {
    for (int side = 0; side < 2; ++side) {
      const auto from = session_source_field(id, side);
      if (!from || !metered.is_set(*from, 0)) continue;
      // The collector stamps its own exporter and version; the union of flags is recomputed.
      if (*from == FieldId::Version || *from == FieldId::Exporter) continue;
      EXPECT_TRUE(same_value(metered, 0, *from, again, 0, *from));
    }
  }
}

}  // namespace
}  // namespace flowscope::session
