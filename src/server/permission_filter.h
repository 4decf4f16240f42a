#pragma once
// The data permissions of a Principal as a query filter tree (docs/users.md "Permissions"): the
// user's filter AND (group 1's restriction OR group 2's ...), where a group's restriction is
// (exporter is one of its exporters) AND (an address is in one of its CIDRs, or a side's IP
// group is one of its IP groups or nested in one). Because the restriction is part of the
// filter, it holds for raw sessions and statistics alike (a stat cannot be filtered after
// aggregation), and the store still prunes with it. Pure functions; any thread.
// Internal to flowscope_server: other modules use its public headers.

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

// `where` with the principal's restriction attached as a parsed tree (Selection::restriction),
// which the executor ANDs to the user's parsed filter. The user's text is never rewritten or
// re-parsed with the restriction, so no string in it can escape into the restriction.
query::Selection restrict_selection(query::Selection where, const Principal& principal,
                                    const enrich::IpGroups* groups);

}  // namespace flowscope::server
