#pragma once
// What the HTTP routes that run queries share (http_api.cpp, http_sessions.cpp,
// scrutinizer_report.cpp): the time context, IP group names and the window and filter of a
// request, with the caller's data permissions attached as a parsed tree
// (server/permission_filter.h restrict_selection) — never as text. Pure functions over a Server
// snapshot; any thread.
// Internal to flowscope_server: other modules use its public headers.

#include <memory>
#include <string>

#include "core/time.h"
#include "query/executor.h"
#include "query/query_spec.h"
#include "server/http_request.h"

namespace flowscope::enrich {
class IpGroups;
}

namespace flowscope::server {

class Server;
struct Principal;

struct QueryContext {
  std::shared_ptr<const enrich::IpGroups> groups;  // keeps exec.filter.groups valid
  TimeZoneRef zone;
  TimeMs now;
  query::ExecOptions exec;
};

// `tz` (default UTC) and the server's IP groups and clock.
Result<QueryContext> query_context(Server& server, const Params& params);

// The request's window and filter: `filter` (FlowTraq syntax, or nfdump's with
// syntax=nfdump), `from`/`to` (times, docs/time.md) or `window` (a -t expression; default the
// last 15 minutes), restricted to what `who` may see.
Result<query::Selection> request_selection(const Params& params, const QueryContext& ctx,
                                           const Principal& who,
                                           std::string_view default_window = "15m");

// Checks `filter` by parsing it as the executor will, so that a bad filter is refused with
// the CLI's message and position before anything runs.
Result<void> check_filter(const query::Selection& where, const QueryContext& ctx);

}  // namespace flowscope::server
