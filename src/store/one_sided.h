#pragma once
// One-way flow records as one-sided sessions (client = source, sides = 1), the stand-in for the
// stitcher (F4) when importing flow files: what a flow field becomes in a session. Pure
// functions: any thread.

#include <optional>

#include "core/record_batch.h"

namespace flowscope::store {

// The session field a flow field fills in a one-sided session, or nullopt when sessions have
// no such field (masks, NAT translations, egress counters, direction, source id).
std::optional<FieldId> one_sided_session_field(FieldId flow_field);

// Appends every flow of `flows` to `sessions` as a one-sided session.
void append_one_sided(const FlowBatch& flows, SessionBatch& sessions);

}  // namespace flowscope::store
