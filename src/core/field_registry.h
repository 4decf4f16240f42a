#pragma once
// The field registry, the spine of flowscope (docs/conventions.md "The field registry",
// docs/fields.md): every field of a one-way flow record and of a two-way session, described once in
// core/fields.def and expanded here into a constexpr table. Decoders fill fields by FieldId,
// batches and the store lay out one column per stored field, and the filter language, output
// formats, HTTP API and Python read names, types and comparators from this table. Nothing else
// lists fields.
//
// Everything here is constexpr or const: callable from any thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "core/country_code.h"
#include "core/ip_address.h"

namespace flowscope {

enum class FieldId : std::uint16_t {
#define FLOWSCOPE_FIELD(id, ...) id,
#include "core/fields.def"
#undef FLOWSCOPE_FIELD
};

inline constexpr std::size_t kFieldCount = 0
#define FLOWSCOPE_FIELD(...) +1
#include "core/fields.def"
#undef FLOWSCOPE_FIELD
    ;

// Which record kinds a field belongs to.
enum class Scope : std::uint8_t { Flow, Session, Both };
// The two kinds of records: one-way flows (decoders) and two-way sessions (stitched, stored).
enum class RecordKind : std::uint8_t { Flow, Session };
// Stored fields are columns; the others are defined by their two operands.
enum class FieldKind : std::uint8_t { Stored, Either, Sum, Diff };
enum class FieldType : std::uint8_t {
  Ip,  // IpAddress, 16 bytes
  U8,
  U16,
  U32,
  U64,
  Time,      // int64 milliseconds since the epoch
  Duration,  // int64 milliseconds
  Country,   // CountryCode, 2 bytes
  String,    // text; stored dictionary-encoded (4-byte ids)
  TcpFlags,  // uint8 bit set (core/tcp_flags.h)
  Proto,     // uint8 IP protocol number (core/ip_proto.h)
};

enum class Comparator : std::uint8_t { Eq, Ne, Lt, Le, Gt, Ge };
inline constexpr std::array<Comparator, 6> kAllComparators = {
    Comparator::Eq, Comparator::Ne, Comparator::Lt, Comparator::Le, Comparator::Gt, Comparator::Ge};

class ComparatorSet {
 public:
  constexpr ComparatorSet() = default;
  static constexpr ComparatorSet equality() { return ComparatorSet(0b000011); }
  static constexpr ComparatorSet all() { return ComparatorSet(0b111111); }
  constexpr bool has(Comparator c) const { return (bits_ >> static_cast<unsigned>(c)) & 1u; }
  constexpr bool empty() const { return bits_ == 0; }
  friend constexpr bool operator==(ComparatorSet, ComparatorSet) = default;

 private:
  constexpr explicit ComparatorSet(std::uint8_t bits) : bits_(bits) {}
  std::uint8_t bits_ = 0;
};

// IPFIX information element ids (and NetFlow v9 type numbers) a decoder maps to a field.
struct WireIds {
  std::array<std::uint16_t, 6> ids{};
  constexpr std::size_t size() const {
    std::size_t n = 0;
    while (n < ids.size() && ids[n] != 0) ++n;
    return n;
  }
  constexpr std::span<const std::uint16_t> view() const { return {ids.data(), size()}; }
};

// Where a field is a default column (core/fields.def, column Columns).
enum class Surface : std::uint8_t { Decode, Capture, Query, Server };
inline constexpr std::size_t kSurfaceCount = 4;

struct FieldInfo {
  FieldId id;
  std::string_view name;         // canonical, unique within a record kind
  std::string_view filter_name;  // FlowTraq keyword, "" when not filterable
  Scope scope;
  FieldKind kind;
  FieldType type;
  std::string_view unit;
  std::array<FieldId, 2> operands;  // for Either, Sum, Diff
  WireIds wire;
  // Relations (core/fields.def, column Relations): the session field a flow's value fills as the
  // client's side, and the other side's field (client <-> server, source <-> destination).
  std::optional<FieldId> counterpart;
  std::optional<FieldId> twin;
  std::string_view nfdump;                          // nfdump filter keyword, "" when none
  std::array<std::uint8_t, kSurfaceCount> columns;  // default column position per Surface, 0 = no
  std::string_view description;
};

// The row values of FS_REL: one constant per field, and None.
namespace field_ref {
inline constexpr std::optional<FieldId> None = std::nullopt;
#define FLOWSCOPE_FIELD(id, ...) inline constexpr std::optional<FieldId> id = FieldId::id;
#include "core/fields.def"
#undef FLOWSCOPE_FIELD
}  // namespace field_ref

#define FS_OPS(a, b) \
  std::array<FieldId, 2> { FieldId::a, FieldId::b }
#define FS_NO_OPS \
  std::array<FieldId, 2> {}
#define FS_WIRE(...) \
  WireIds {          \
    { __VA_ARGS__ }  \
  }
#define FS_REL(counterpart, twin) field_ref::counterpart, field_ref::twin
#define FS_NO_REL std::nullopt, std::nullopt
#define FS_COLS(decode, capture, query, server) \
  std::array<std::uint8_t, kSurfaceCount> { decode, capture, query, server }
#define FS_NO_COLS \
  std::array<std::uint8_t, kSurfaceCount> {}

inline constexpr std::array<FieldInfo, kFieldCount> kFieldTable = {{
#define FLOWSCOPE_FIELD(id, name, filter, scope, kind, type, unit, ops, wire, rel, nfdump, cols, \
                        desc)                                                                    \
  FieldInfo{FieldId::id,     name, filter, Scope::scope, FieldKind::kind,                        \
            FieldType::type, unit, ops,    wire,         rel,                                    \
            nfdump,          cols, desc},
#include "core/fields.def"
#undef FLOWSCOPE_FIELD
}};

#undef FS_OPS
#undef FS_NO_OPS
#undef FS_WIRE
#undef FS_REL
#undef FS_NO_REL
#undef FS_COLS
#undef FS_NO_COLS

constexpr const FieldInfo& field_info(FieldId id) {
  return kFieldTable[static_cast<std::size_t>(id)];
}

constexpr bool in_kind(const FieldInfo& f, RecordKind kind) {
  return f.scope == Scope::Both ||
         (kind == RecordKind::Flow ? f.scope == Scope::Flow : f.scope == Scope::Session);
}

// ---- relations (core/fields.def, columns Relations, nfdump, Columns) ------------------------

// The session field a one-way flow's field fills as the client's side (src_addr -> cln_addr,
// packets -> cln_packets, tcp_flags -> cln_tcp_flags); nullopt when none.
constexpr std::optional<FieldId> session_counterpart(FieldId flow_field) {
  return field_info(flow_field).counterpart;
}

// The flow field whose counterpart `session_field` is (cln_addr -> src_addr); nullopt when none.
constexpr std::optional<FieldId> flow_counterpart(FieldId session_field) {
  for (const FieldInfo& f : kFieldTable) {
    if (f.counterpart == session_field) return f.id;
  }
  return std::nullopt;
}

// The other side's field: cln_addr <-> srv_addr, src_port <-> dst_port; nullopt when none.
constexpr std::optional<FieldId> twin(FieldId f) { return field_info(f).twin; }

// 0 for a client-side (source, input) field or one without a side, 1 for a server-side
// (destination, output) one: the later row of a twin pair or the second operand of an Either.
constexpr int side_of(FieldId f) {
  if (auto t = twin(f); t && *t < f) return 1;
  for (const FieldInfo& info : kFieldTable) {
    if (info.kind == FieldKind::Either && info.operands[1] == f) return 1;
  }
  return 0;
}

// `side`'s field of a pair: the operand of an Either field (ADDR -> CLNIP or SRVIP) or a
// field's twin (cln_country, 1 -> srv_country); `f` itself for side 0 or a field without sides.
constexpr FieldId on_side(FieldId f, int side) {
  const FieldInfo& info = field_info(f);
  if (info.kind == FieldKind::Either) return info.operands[side == 0 ? 0 : 1];
  if (side_of(f) != side && info.twin) return *info.twin;
  return f;
}

// The field an nfdump filter keyword names ("port" -> PORT); nullopt when none.
constexpr std::optional<FieldId> find_nfdump_field(std::string_view keyword) {
  for (const FieldInfo& f : kFieldTable) {
    if (!f.nfdump.empty() && f.nfdump == keyword) return f.id;
  }
  return std::nullopt;
}

namespace detail {
constexpr std::size_t default_column_count(Surface s) {
  std::size_t n = 0;
  for (const FieldInfo& f : kFieldTable) n += f.columns[static_cast<std::size_t>(s)] != 0;
  return n;
}
template <Surface S>
constexpr auto make_default_columns() {
  std::array<FieldId, default_column_count(S)> out{};
  for (const FieldInfo& f : kFieldTable) {
    const std::size_t pos = f.columns[static_cast<std::size_t>(S)];
    if (pos != 0) out[pos - 1] = f.id;  // positions are 1..N without gaps (registry test)
  }
  return out;
}
template <Surface S>
inline constexpr auto kDefaultColumns = make_default_columns<S>();
}  // namespace detail

// The default columns of a surface in their order: decode's flow fields, capture's, query's and
// the server's session fields (core/fields.def, column Columns).
constexpr std::span<const FieldId> default_columns(Surface s) {
  switch (s) {
    case Surface::Decode: return detail::kDefaultColumns<Surface::Decode>;
    case Surface::Capture: return detail::kDefaultColumns<Surface::Capture>;
    case Surface::Query: return detail::kDefaultColumns<Surface::Query>;
    case Surface::Server: return detail::kDefaultColumns<Surface::Server>;
  }
  return {};
}

// The canonical names of a surface's default columns, comma-separated ("first,last,proto,...").
std::string default_column_names(Surface s);

// Bytes per value in a column: what the store's plain encoding and the batches use.
constexpr std::size_t type_width(FieldType t) {
  switch (t) {
    case FieldType::Ip: return 16;
    case FieldType::U8:
    case FieldType::TcpFlags:
    case FieldType::Proto: return 1;
    case FieldType::U16:
    case FieldType::Country: return 2;
    case FieldType::U32:
    case FieldType::String: return 4;
    case FieldType::U64:
    case FieldType::Time:
    case FieldType::Duration: return 8;
  }
  return 0;
}

// Addresses compare by equality (with CIDRs), flag sets by containment, names by equality;
// numbers, times and protocol numbers are ordered (FlowTraq's manual lists PROTO with all six).
constexpr ComparatorSet comparators_for(FieldType t) {
  switch (t) {
    case FieldType::Ip:
    case FieldType::Country:
    case FieldType::String:
    case FieldType::TcpFlags: return ComparatorSet::equality();
    default: return ComparatorSet::all();
  }
}

constexpr ComparatorSet comparators(const FieldInfo& f) {
  return f.filter_name.empty() ? ComparatorSet() : comparators_for(f.type);
}

constexpr bool is_numeric(FieldType t) {
  return t == FieldType::U8 || t == FieldType::U16 || t == FieldType::U32 || t == FieldType::U64 ||
         t == FieldType::Time || t == FieldType::Duration;
}

// The C++ type of one value of a field, as batches hold it.
template <FieldType T>
struct FieldValue;
template <>
struct FieldValue<FieldType::Ip> {
  using type = IpAddress;
};
template <>
struct FieldValue<FieldType::U8> {
  using type = std::uint8_t;
};
template <>
struct FieldValue<FieldType::TcpFlags> {
  using type = std::uint8_t;
};
template <>
struct FieldValue<FieldType::Proto> {
  using type = std::uint8_t;
};
template <>
struct FieldValue<FieldType::U16> {
  using type = std::uint16_t;
};
template <>
struct FieldValue<FieldType::U32> {
  using type = std::uint32_t;
};
template <>
struct FieldValue<FieldType::U64> {
  using type = std::uint64_t;
};
template <>
struct FieldValue<FieldType::Time> {
  using type = std::int64_t;
};
template <>
struct FieldValue<FieldType::Duration> {
  using type = std::int64_t;
};
template <>
struct FieldValue<FieldType::Country> {
  using type = CountryCode;
};
template <>
struct FieldValue<FieldType::String> {
  using type = std::string_view;
};

template <FieldId F>
using field_value_t = typename FieldValue<field_info(F).type>::type;

std::string_view type_name(FieldType t);
std::string_view scope_name(Scope s);
std::string_view kind_name(FieldKind k);
std::string_view record_kind_name(RecordKind k);
std::string_view comparator_symbol(Comparator c);

// A canonical name within a record kind ("src_addr" for flows, "cln_addr" for sessions).
std::optional<FieldId> find_field(RecordKind kind, std::string_view name);
// A filter keyword, case-insensitive ("CLNIP", "clnip").
std::optional<FieldId> find_filter_field(std::string_view keyword);
// The filter keyword or name closest to `text`, for "did you mean ...?"; empty when none is
// close enough.
std::string_view suggest_filter_field(std::string_view text);
// For derived fields, what they are: "CLNIP or SRVIP", "CLNBYTS + SRVBYTS", "ENDTIME - STARTTIME";
// "" for stored ones.
std::string definition(const FieldInfo& f);
// The fields of a record kind in registry order; `stored_only` leaves out derived ones.
std::span<const FieldId> fields_of(RecordKind kind, bool stored_only = false);

}  // namespace flowscope
