#pragma once
// What a one-way flow field becomes in a session and back, from the registry's relations
// (core/fields.def, column Relations; docs/architecture.md "The field registry"):
//  - one-way flow records as one-sided sessions (client = source, sides = 1), the stand-in for
//    the stitcher when importing flow files (nfcapd, flow-tools, CSV);
//  - a session as its two one-way flow records, client to server and server to client, what the
//    probe's exporter sends.
// A field added to fields.def with its counterpart and twin needs no change here. Pure
// functions: any thread.

#include <cstddef>
#include <optional>

#include "core/record_batch.h"

namespace flowscope::session {

// The session field a flow field fills in a one-sided session: itself for a field both have,
// else its counterpart; nullopt when sessions have no such field (masks, NAT translations,
// egress counters, direction, source id).
std::optional<FieldId> one_sided_session_field(FieldId flow_field);

// Appends every flow of `flows` to `sessions` as a one-sided session. A field both have that
// also has a counterpart (tcp_flags) fills both: the session's and the client's.
void append_one_sided(const FlowBatch& flows, SessionBatch& sessions);

// The session field the flow field `flow_field` of the flow that side `side` (0 client, 1 server)
// sent comes from: the counterpart for the client, its twin for the server (a counterpart
// without twin, such as start_time, serves both); a field both have, itself; nullopt when none.
std::optional<FieldId> session_source_field(FieldId flow_field, int side);

// Appends to `flows` the flows row `row` of `sessions` stands for: the client's, then the
// server's; a side that sent no packet gives no flow. ICMP echo sessions carry the request's
// type in the server port; the reply's destination port is type 0 (v4) or 129 (v6) * 256, as
// NetFlow puts type * 256 + code there. Returns how many flows were appended (0 to 2).
std::size_t append_session_flows(const SessionBatch& sessions, std::size_t row, FlowBatch& flows);

}  // namespace flowscope::session
