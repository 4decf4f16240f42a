#pragma once
// Information element -> field mapping for the template decoders, derived from the registry
// (core/fields.def, column WireIds) at compile time: no second hand-written list
// (docs/conventions.md "The field registry").
// Also the runtime setters that store a decoded value into a FlowBatch column chosen by a
// FieldId held in a compiled template; the switch over every registry row is generated from
// fields.def, so a new row needs no change here. Everything is constexpr or stateless.
// Internal to flowscope_decode: other modules use its public headers.

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>

#include "core/field_registry.h"
#include "core/record_batch.h"

namespace flowscope::decode {

struct WireMapEntry {
  std::uint16_t wire_id = 0;
  FieldId field{};
};

namespace detail {

constexpr bool is_flow_column(const FieldInfo& f) {
  return f.kind == FieldKind::Stored && in_kind(f, RecordKind::Flow);
}

constexpr std::size_t wire_entry_count() {
  std::size_t n = 0;
  for (const FieldInfo& f : kFieldTable) {
    if (is_flow_column(f)) n += f.wire.size();
  }
  return n;
}

constexpr auto make_wire_map() {
  std::array<WireMapEntry, wire_entry_count()> map{};
  std::size_t n = 0;
  for (const FieldInfo& f : kFieldTable) {
    if (!is_flow_column(f)) continue;
    for (std::uint16_t id : f.wire.view()) map[n++] = WireMapEntry{id, f.id};
  }
  std::sort(map.begin(), map.end(),
            [](const WireMapEntry& a, const WireMapEntry& b) { return a.wire_id < b.wire_id; });
  return map;
}

}  // namespace detail

// Sorted by wire id; built once, at compile time.
inline constexpr auto kWireMap = detail::make_wire_map();

// The flow field an IPFIX IE / NetFlow v9 type maps to (enterprise 0 only).
constexpr std::optional<FieldId> field_for_wire_id(std::uint16_t wire_id) {
  auto it =
      std::lower_bound(kWireMap.begin(), kWireMap.end(), wire_id,
                       [](const WireMapEntry& e, std::uint16_t id) { return e.wire_id < id; });
  if (it == kWireMap.end() || it->wire_id != wire_id) return std::nullopt;
  return it->field;
}

namespace detail {

template <FieldId F>
inline void set_int_impl(FlowBatch& batch, std::size_t row, std::uint64_t value) {
  if constexpr (FlowBatch::column_index(F) >= 0) {
    using T = field_value_t<F>;
    if constexpr (std::is_integral_v<T>) batch.set<F>(row, static_cast<T>(value));
  }
}

template <FieldId F>
inline void set_ip_impl(FlowBatch& batch, std::size_t row, const IpAddress& value) {
  if constexpr (FlowBatch::column_index(F) >= 0) {
    if constexpr (std::is_same_v<field_value_t<F>, IpAddress>) batch.set<F>(row, value);
  }
}

}  // namespace detail

// Stores an integer (U8..U64, Time, TcpFlags, Proto) into field `id`, truncated to its width.
// Fields of another type are left untouched (a compiled template never asks for that).
inline void set_int(FlowBatch& batch, FieldId id, std::size_t row, std::uint64_t value) {
  switch (id) {
#define FLOWSCOPE_FIELD(fid, ...)                          \
  case FieldId::fid:                                       \
    detail::set_int_impl<FieldId::fid>(batch, row, value); \
    break;
#include "core/fields.def"
#undef FLOWSCOPE_FIELD
  }
}

inline void set_ip(FlowBatch& batch, FieldId id, std::size_t row, const IpAddress& value) {
  switch (id) {
#define FLOWSCOPE_FIELD(fid, ...)                         \
  case FieldId::fid:                                      \
    detail::set_ip_impl<FieldId::fid>(batch, row, value); \
    break;
#include "core/fields.def"
#undef FLOWSCOPE_FIELD
  }
}

}  // namespace flowscope::decode
