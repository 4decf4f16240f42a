#include "store/one_sided.h"

namespace flowscope::store {

std::optional<FieldId> one_sided_session_field(FieldId f) {
  if (field_info(f).scope == Scope::Both) return f;
  switch (f) {
    case FieldId::SrcAddr: return FieldId::ClnAddr;
    case FieldId::DstAddr: return FieldId::SrvAddr;
    case FieldId::SrcPort: return FieldId::ClnPort;
    case FieldId::DstPort: return FieldId::SrvPort;
    case FieldId::FlowPackets: return FieldId::ClnPackets;
    case FieldId::FlowBytes: return FieldId::ClnBytes;
    case FieldId::First: return FieldId::StartTime;
    case FieldId::Last: return FieldId::EndTime;
    case FieldId::SrcVlan: return FieldId::InVlan;
    case FieldId::DstVlan: return FieldId::OutVlan;
    case FieldId::SrcAs: return FieldId::ClnAs;
    case FieldId::DstAs: return FieldId::SrvAs;
    default: return std::nullopt;
  }
}

void append_one_sided(const FlowBatch& flows, SessionBatch& sessions) {
  const std::size_t first = sessions.add_rows(flows.size());
  for (const Column& from : flows.columns()) {
    auto target = one_sided_session_field(from.field());
    if (!target) continue;
    Column& to = sessions.mutable_column(*target);
    std::visit(
        [&](auto& out) {
          using D = std::decay_t<decltype(out)>;
          const D* in = std::get_if<D>(&from.data());
          if (in == nullptr) return;  // types differ: cannot happen for the pairs above
          for (std::size_t row = 0; row < flows.size(); ++row) {
            if (!from.valid(row)) continue;
            if constexpr (std::is_same_v<D, StringColumn>) {
              out.set(first + row, in->get(row));
            } else {
              out[first + row] = (*in)[row];
            }
            to.mark_valid(first + row);
          }
        },
        to.data());
  }
  for (std::size_t row = 0; row < flows.size(); ++row) {
    sessions.set<FieldId::Sides>(first + row, 1);
    // The session's flags are the client's alone in a one-sided session.
    if (flows.is_set(FieldId::TcpFlags, row)) {
      sessions.set<FieldId::ClnTcpFlags>(first + row, flows.get<FieldId::TcpFlags>(row));
    }
  }
}

}  // namespace flowscope::store
