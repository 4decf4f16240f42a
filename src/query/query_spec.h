#pragma once
// What a query asks, as plain values: QuerySpec for raw sessions (`flowscope query`, FlowTraq's
// ftsq) and StatSpec for statistics (`flowscope stat`, ftstat). The CLI fills them from its
// options, the server (F7) from a request; both run them with query/executor.h. JSON forms
// (nlohmann) for the wire: field names are the registry's canonical session names.
// Plain values; any thread.

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/field_registry.h"
#include "core/result.h"

namespace flowscope::query {

enum class FilterSyntax : std::uint8_t { FlowTraq, Nfdump };

struct FilterExpr;

// The window and filter every query has.
struct Selection {
  std::string filter;  // text in `syntax`; "" = every session
  FilterSyntax syntax = FilterSyntax::FlowTraq;
  // A parsed restriction ANDed to the filter as a tree (query/executor_support.h
  // selection_filter): the user's data permissions, set by the server
  // (server/permission_filter.h). Null = none. Never on the wire (to_json leaves it out and
  // *_from_json never sets it), so no text a client sends can reach it.
  std::shared_ptr<const FilterExpr> restriction;
  // start_time in [begin_ms, end_ms); the CLI resolves `-t` (core/time.h parse_window).
  std::int64_t begin_ms = std::numeric_limits<std::int64_t>::min();
  std::int64_t end_ms = std::numeric_limits<std::int64_t>::max();
};

struct SortKey {
  FieldId field = FieldId::StartTime;  // stored, Sum or Diff field
  bool descending = false;
};

struct QuerySpec {
  Selection where;
  // Output columns: stored, Sum or Diff session fields; empty = default_query_fields().
  std::vector<FieldId> fields;
  std::vector<SortKey> sort;  // empty: store order (by partition, then arrival)
  std::uint64_t limit = 0;    // 0 = no limit
};

// What a stat counts per group.
enum class CountKind : std::uint8_t { Bytes, Packets, Sessions, Unique };
// Which side's traffic a stat counts: both (total), what the group sent, or what it received.
enum class Side : std::uint8_t { Both, Send, Receive };

// One group-by item: a stored session field or an Either field (ADDR, PORT, ASN, GROUP, IFACE,
// VLAN, ...: each session counts once for each side). `both_sides` does the same for a client
// field that has a server twin without an Either field in the registry (cln_country and
// srv_country: "country"). Address fields may be aggregated into networks, IPv4 and IPv6
// independently.
struct GroupKey {
  FieldId field = FieldId::Addr;
  bool both_sides = false;
  std::uint8_t v4_prefix = 32;
  std::uint8_t v6_prefix = 128;
  friend bool operator==(const GroupKey&, const GroupKey&) = default;
};

struct StatSpec {
  Selection where;
  std::vector<GroupKey> group_by;  // empty: one group (totals only)
  CountKind count = CountKind::Bytes;
  FieldId unique_field = FieldId::SrvPort;  // CountKind::Unique: a stored or Either field
  Side side = Side::Both;
  std::uint64_t top = 10;      // rows before "others"; 0 = all
  std::int64_t bucket_ms = 0;  // > 0: a time series per row with this bucket
};

// The columns of `flowscope query` without -o: start, end, client, server, ports, protocol,
// packets, bytes.
std::vector<FieldId> default_query_fields();

// "host", "pair", "port", "srvport", "service", "country", "as", "proto", "iface", "vlan",
// "exporter", "app", a registry name or filter keyword ("srv_port", "SRVPORT"), or a tuple of
// these joined by ','; an address item may end in /N (IPv4 networks) or /N/M (IPv4 /N, IPv6
// /M): "host/24/64". Errors name the item and list the choices.
Result<std::vector<GroupKey>> parse_group_spec(std::string_view text);
// "bytes", "packets", "sessions", "uports" (distinct server ports), "uhosts" (distinct peer
// addresses), "unique FIELD" or "unique:FIELD".
Result<void> parse_count_spec(std::string_view text, StatSpec& spec);
// A registry name or filter keyword of a session field that can be output (stored, Sum, Diff).
Result<FieldId> parse_output_field(std::string_view text);
// A field that records of `kind` can output: for sessions parse_output_field, for flows a
// stored flow field by registry name (the error points to 'flowscope fields --kind flow').
Result<FieldId> parse_record_field(std::string_view text, RecordKind kind);
// The one field-list parser (`query --fields`, `decode --fields`, `capture --fields`, the HTTP
// API's fields=): names separated by commas ("cln_addr, srv_port"), each parse_record_field;
// empty items are skipped, a list with no name is an error.
Result<std::vector<FieldId>> parse_field_list(std::string_view list,
                                              RecordKind kind = RecordKind::Session);
// "field", "-field" or "field:desc" (descending), "field:asc".
Result<SortKey> parse_sort_key(std::string_view text);

std::string_view count_name(CountKind k);
std::string_view side_name(Side s);
// "host/24/64", "pair" items come back as their fields: "cln_addr", "country", "srv_port".
std::string group_key_text(const GroupKey& k);
// The two stored fields a sided item counts (client side first), or one field for the others.
std::vector<FieldId> side_fields(const GroupKey& k);
bool is_sided(const GroupKey& k);

// JSON forms: {"filter": ..., "syntax": "flowtraq"|"nfdump", "begin_ms": ..., "end_ms": ...,
// "fields": ["start_time", ...], "sort": [{"field": ..., "desc": true}], "limit": N} and
// {..., "group_by": ["addr/24/64", ...], "count": "bytes"|"unique", "unique": "srv_port",
// "side": "both"|"send"|"receive", "top": N, "bucket_ms": N}. Missing keys take the defaults.
nlohmann::json to_json(const QuerySpec& spec);
nlohmann::json to_json(const StatSpec& spec);
Result<QuerySpec> query_spec_from_json(const nlohmann::json& j);
Result<StatSpec> stat_spec_from_json(const nlohmann::json& j);

}  // namespace flowscope::query
