#include "core/field_registry.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "core/record_batch.h"

namespace flowscope {
namespace {

const FieldInfo& by_filter(std::string_view keyword) {
  auto id = find_filter_field(keyword);
  EXPECT_TRUE(id.has_value()) << keyword;
  return field_info(id.value_or(FieldId::Proto));
}

// FlowTraq's filter table, with what each is: stored, either side, or derived.
TEST(FieldRegistry, CoversFlowTraqsFields) {
  const std::map<std::string_view, FieldKind> kFlowTraq = {
      {"SRVIP", FieldKind::Stored},   {"CLNIP", FieldKind::Stored},
      {"ADDR", FieldKind::Either},    {"SRVPORT", FieldKind::Stored},
      {"CLNPORT", FieldKind::Stored}, {"PORT", FieldKind::Either},
      {"PROTO", FieldKind::Stored},   {"CLNPKTS", FieldKind::Stored},
      {"SRVPKTS", FieldKind::Stored}, {"PACKETS", FieldKind::Either},
      {"TOTPKTS", FieldKind::Sum},    {"CLNBYTS", FieldKind::Stored},
      {"SRVBYTS", FieldKind::Stored}, {"BYTES", FieldKind::Either},
      {"TOTBYTS", FieldKind::Sum},    {"TTIME", FieldKind::Diff},
      {"TOS", FieldKind::Stored},     {"CLNCC", FieldKind::Stored},
      {"SRVCC", FieldKind::Stored},   {"INIF", FieldKind::Stored},
      {"OUTIF", FieldKind::Stored},   {"IFACE", FieldKind::Either},
      {"INVLAN", FieldKind::Stored},  {"OUTVLAN", FieldKind::Stored},
      {"VLAN", FieldKind::Either},    {"CLNAS", FieldKind::Stored},
      {"SRVAS", FieldKind::Stored},   {"ASN", FieldKind::Either},
      {"ASAEVT", FieldKind::Stored},  {"ASAEXTEVT", FieldKind::Stored},
      {"FLAGS", FieldKind::Stored},   {"EXPIP", FieldKind::Stored},
      {"EXPV", FieldKind::Stored},
  };
  for (const auto& [keyword, kind] : kFlowTraq) {
    const FieldInfo& f = by_filter(keyword);
    EXPECT_EQ(f.kind, kind) << keyword;
    EXPECT_TRUE(in_kind(f, RecordKind::Session)) << keyword;
    EXPECT_FALSE(comparators(f).empty()) << keyword;
  }
  EXPECT_EQ(definition(by_filter("ADDR")), "CLNIP or SRVIP");
  EXPECT_EQ(definition(by_filter("TOTBYTS")), "CLNBYTS + SRVBYTS");
  EXPECT_EQ(definition(by_filter("TTIME")), "ENDTIME - STARTTIME");
}

TEST(FieldRegistry, CoversTheExtraSessionFields) {
  for (std::string_view name : {"start_time", "end_time", "cln_city", "srv_city", "cln_as_org",
                                "srv_as_org", "application", "exporter", "sampling", "cln_rtt",
                                "srv_rtt", "cln_retrans", "srv_retrans", "ftp_ctrl_id"}) {
    EXPECT_TRUE(find_field(RecordKind::Session, name)) << name;
  }
}

TEST(FieldRegistry, CoversTheOneWayFlowNames) {
  for (std::string_view name :
       {"src_addr",  "dst_addr", "src_port", "dst_port", "proto",    "packets",  "bytes",
        "tcp_flags", "tos",      "in_if",    "out_if",   "src_vlan", "dst_vlan", "src_as",
        "dst_as",    "first",    "last",     "exporter", "version",  "sampling"}) {
    auto id = find_field(RecordKind::Flow, name);
    ASSERT_TRUE(id) << name;
    EXPECT_EQ(field_info(*id).kind, FieldKind::Stored) << name;
  }
  // The same canonical name can mean different things per kind: a flow's packets are a column,
  // a session's PACKETS are either side's.
  EXPECT_EQ(field_info(*find_field(RecordKind::Flow, "packets")).kind, FieldKind::Stored);
  EXPECT_EQ(field_info(*find_field(RecordKind::Session, "packets")).kind, FieldKind::Either);
  EXPECT_FALSE(find_field(RecordKind::Flow, "cln_addr"));
  EXPECT_FALSE(find_field(RecordKind::Session, "src_addr"));
}

TEST(FieldRegistry, NamesAreWellFormedAndUnique) {
  std::set<std::string> filters;
  for (RecordKind kind : {RecordKind::Flow, RecordKind::Session}) {
    std::set<std::string_view> names;
    for (FieldId id : fields_of(kind)) {
      EXPECT_TRUE(names.insert(field_info(id).name).second)
          << "duplicate " << record_kind_name(kind) << " name " << field_info(id).name;
    }
  }
  for (const FieldInfo& f : kFieldTable) {
    EXPECT_EQ(&field_info(f.id), &f) << "table order must follow the enum";
    EXPECT_FALSE(f.name.empty());
    EXPECT_TRUE(std::all_of(f.name.begin(), f.name.end(), [](char c) {
      return std::islower(c) || std::isdigit(c) || c == '_';
    })) << f.name;
    EXPECT_TRUE(std::all_of(f.filter_name.begin(), f.filter_name.end(), [](char c) {
      return std::isupper(c) != 0;
    })) << f.filter_name;
    EXPECT_FALSE(f.description.empty()) << f.name;
    if (!f.filter_name.empty()) {
      EXPECT_TRUE(filters.insert(std::string(f.filter_name)).second) << f.filter_name;
    }
  }
}

TEST(FieldRegistry, DerivedFieldsAreDefinedByStoredOnes) {
  for (const FieldInfo& f : kFieldTable) {
    if (f.kind == FieldKind::Stored) continue;
    for (FieldId op : f.operands) {
      const FieldInfo& o = field_info(op);
      EXPECT_EQ(o.kind, FieldKind::Stored) << f.name << " uses " << o.name;
      EXPECT_TRUE(in_kind(o, RecordKind::Session)) << f.name << " uses " << o.name;
      if (f.kind == FieldKind::Diff) {
        EXPECT_EQ(o.type, FieldType::Time) << f.name;
      } else {
        EXPECT_EQ(o.type, f.type) << f.name << " and " << o.name;
      }
    }
    EXPECT_NE(f.operands[0], f.operands[1]) << f.name;
    if (f.kind == FieldKind::Sum) {
      EXPECT_TRUE(is_numeric(f.type)) << f.name;
    }
    if (f.kind == FieldKind::Diff) {
      EXPECT_EQ(f.type, FieldType::Duration) << f.name;
    }
  }
}

TEST(FieldRegistry, ComparatorsFollowTheType) {
  EXPECT_TRUE(comparators(by_filter("CLNIP")).has(Comparator::Eq));
  EXPECT_FALSE(comparators(by_filter("CLNIP")).has(Comparator::Lt));
  EXPECT_TRUE(comparators(by_filter("TOTBYTS")).has(Comparator::Ge));
  EXPECT_TRUE(comparators(by_filter("TTIME")).has(Comparator::Lt));
  EXPECT_FALSE(comparators(by_filter("FLAGS")).has(Comparator::Gt));
  EXPECT_FALSE(comparators(by_filter("CLNCC")).has(Comparator::Le));
  for (const FieldInfo& f : kFieldTable) {
    EXPECT_EQ(comparators(f).empty(), f.filter_name.empty()) << f.name;
  }
}

// A decoder maps an information element to exactly one field of a flow record.
TEST(FieldRegistry, WireIdsAreUnambiguous) {
  std::map<std::uint16_t, std::string_view> owner;
  for (FieldId id : fields_of(RecordKind::Flow)) {
    for (std::uint16_t ie : field_info(id).wire.view()) {
      auto [it, fresh] = owner.emplace(ie, field_info(id).name);
      EXPECT_TRUE(fresh) << "IE " << ie << " maps to " << it->second << " and "
                         << field_info(id).name;
    }
  }
  EXPECT_EQ(owner.at(8), "src_addr");
  EXPECT_EQ(owner.at(28), "dst_addr");
  EXPECT_EQ(owner.at(152), "first");
  EXPECT_EQ(owner.at(40005), "asa_event");
  EXPECT_EQ(owner.at(33002), "asa_ext_event");
}

TEST(FieldRegistry, WidthsMatchTheValueTypes) {
  EXPECT_EQ(type_width(FieldType::Ip), sizeof(field_value_t<FieldId::SrcAddr>));
  EXPECT_EQ(type_width(FieldType::U64), sizeof(field_value_t<FieldId::ClnBytes>));
  EXPECT_EQ(type_width(FieldType::Time), sizeof(field_value_t<FieldId::StartTime>));
  EXPECT_EQ(type_width(FieldType::Country), sizeof(field_value_t<FieldId::ClnCountry>));
  EXPECT_EQ(type_width(FieldType::U16), sizeof(field_value_t<FieldId::SrcPort>));
  EXPECT_EQ(type_width(FieldType::TcpFlags), sizeof(field_value_t<FieldId::TcpFlags>));
  for (const FieldInfo& f : kFieldTable) EXPECT_GT(type_width(f.type), 0u) << f.name;
}

// Consumers cover every row: each batch kind has exactly one column per stored field.
TEST(FieldRegistry, BatchesHaveAColumnPerStoredField) {
  FlowBatch flows;
  SessionBatch sessions;
  std::size_t flow_stored = 0, session_stored = 0;
  for (const FieldInfo& f : kFieldTable) {
    bool stored = f.kind == FieldKind::Stored;
    EXPECT_EQ(flows.has_column(f.id), stored && in_kind(f, RecordKind::Flow)) << f.name;
    EXPECT_EQ(sessions.has_column(f.id), stored && in_kind(f, RecordKind::Session)) << f.name;
    flow_stored += stored && in_kind(f, RecordKind::Flow);
    session_stored += stored && in_kind(f, RecordKind::Session);
  }
  EXPECT_EQ(flows.columns().size(), flow_stored);
  EXPECT_EQ(sessions.columns().size(), session_stored);
  EXPECT_EQ(FlowBatch::kColumns, flow_stored);
  for (std::size_t i = 0; i < flows.columns().size(); ++i) {
    EXPECT_EQ(FlowBatch::column_index(flows.columns()[i].field()), static_cast<int>(i));
  }
}

TEST(FieldRegistry, LookupAndSuggestions) {
  EXPECT_EQ(find_filter_field("clnip"), FieldId::ClnAddr);
  EXPECT_EQ(find_filter_field("TotBytS"), FieldId::TotalBytes);
  EXPECT_FALSE(find_filter_field(""));
  EXPECT_FALSE(find_filter_field("SRCIP"));
  EXPECT_EQ(suggest_filter_field("CLNPIP"), "CLNIP");
  EXPECT_EQ(suggest_filter_field("srv_addr"), "SRVIP");
  EXPECT_EQ(suggest_filter_field("TOTBYTES"), "TOTBYTS");
  EXPECT_EQ(suggest_filter_field("qqqqqqqqqq"), "");
}

}  // namespace
}  // namespace flowscope
