#include "session/one_sided.h"

#include <type_traits>
#include <variant>

namespace flowscope::session {
namespace {

// Copies one value between columns of the same type; an unset value stays unset.
void copy_value(const Column& from, std::size_t from_row, Column& to, std::size_t to_row) {
  if (!from.valid(from_row)) return;
  std::visit(
      [&](auto& out) {
        using D = std::decay_t<decltype(out)>;
        const D* in = std::get_if<D>(&from.data());
        if (in == nullptr) return;  // types differ: the registry test rules it out
        if constexpr (std::is_same_v<D, StringColumn>) {
          out.set(to_row, in->get(from_row));
        } else {
          out[to_row] = (*in)[from_row];
        }
        to.mark_valid(to_row);
      },
      to.data());
}

}  // namespace

std::optional<FieldId> one_sided_session_field(FieldId f) {
  if (field_info(f).scope == Scope::Both) return f;
  return session_counterpart(f);
}

void append_one_sided(const FlowBatch& flows, SessionBatch& sessions) {
  const std::size_t first = sessions.add_rows(flows.size());
  for (const Column& from : flows.columns()) {
    const FieldInfo& info = from.info();
    for (std::optional<FieldId> target :
         {one_sided_session_field(info.id),
          info.scope == Scope::Both ? info.counterpart : std::nullopt}) {
      if (!target || !sessions.has_column(*target)) continue;
      Column& to = sessions.mutable_column(*target);
      for (std::size_t row = 0; row < flows.size(); ++row) copy_value(from, row, to, first + row);
    }
  }
  for (std::size_t row = 0; row < flows.size(); ++row) {
    sessions.set<FieldId::Sides>(first + row, 1);
  }
}

std::optional<FieldId> session_source_field(FieldId flow_field, int side) {
  const FieldInfo& info = field_info(flow_field);
  if (info.counterpart) {
    if (side == 0) return info.counterpart;
    return field_info(*info.counterpart).twin.value_or(*info.counterpart);
  }
  if (info.scope == Scope::Both) return flow_field;
  return std::nullopt;
}

std::size_t append_session_flows(const SessionBatch& s, std::size_t row, FlowBatch& out) {
  std::size_t added = 0;
  for (int side = 0; side < 2; ++side) {
    if (s.column(on_side(FieldId::ClnPackets, side)).vec<std::uint64_t>()[row] == 0) continue;
    const std::size_t r = out.add_row();
    ++added;
    for (FieldId id : fields_of(RecordKind::Flow, /*stored_only=*/true)) {
      const auto from = session_source_field(id, side);
      if (from && s.has_column(*from)) copy_value(s.column(*from), row, out.mutable_column(id), r);
    }
    const std::uint8_t proto = s.get<FieldId::Proto>(row);
    const std::uint16_t srv_port = s.get<FieldId::SrvPort>(row);
    const bool echo = (proto == 1 && srv_port == 0x0800) || (proto == 58 && srv_port == 0x8000);
    if (echo) {
      out.set<FieldId::SrcPort>(r, 0);
      out.set<FieldId::DstPort>(r, side == 0 ? srv_port : (proto == 1 ? 0 : 0x8100));
    }
  }
  return added;
}

}  // namespace flowscope::session
