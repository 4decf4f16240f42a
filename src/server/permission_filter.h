#pragma once
// The data permissions of a Principal as a query filter (docs/users.md "Permissions"): the
// user's filter AND (group 1's restriction OR group 2's ...), where a group's restriction is
// (exporter is one of its exporters) AND (an address is in one of its CIDRs, or a side's IP
// group is one of its IP groups or nested in one). Because the restriction is part of the
// filter, it holds for raw sessions and statistics alike (a stat cannot be filtered after
// aggregation), and the store still prunes with it. Pure functions; any thread.

#include "core/result.h"
#include "query/filter_parser.h"
#include "query/query_spec.h"
#include "server/auth.h"

namespace flowscope::enrich {
class IpGroups;
}

namespace flowscope::server {

// The restriction alone (FilterExpr::all() for admins; a filter matching nothing for a user
// without groups). IP group names unknown to `groups` (may be null) match nothing.
query::FilterExpr permission_filter(const Principal& principal, const enrich::IpGroups* groups);

// `where` with the principal's restriction ANDed to its filter, in FlowTraq syntax. Fails when
// the user's filter does not parse (the error keeps its position in the user's text).
Result<query::Selection> restrict_selection(const query::Selection& where,
                                            const Principal& principal,
                                            const enrich::IpGroups* groups,
                                            const query::FilterContext& ctx);

}  // namespace flowscope::server
