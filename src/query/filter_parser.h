#pragma once
// Parsers of the two filter syntaxes into the filter AST (query/filter.h); grammar and
// examples in docs/query.md.
//
// FlowTraq's syntax (parse_filter): comparisons `FIELD OP VALUE` over every filterable field of
// the registry (core/fields.def, find_filter_field: SRVIP, CLNPORT, PROTO, FLAGS, ...), with
// the comparators the field allows (comparators()), joined by `&&`, `||`, `!` and parentheses;
// keywords are case-insensitive. Values: IPv4/IPv6 addresses and CIDRs for address fields,
// protocol names or numbers, two-letter country codes, flag names FSYN FACK FRST FFIN FPSH
// FURG FECN FCWR (joined with `|` or `,`), IP group names for group fields (and for address
// fields, meaning that side's group), times and durations as core/time.h reads them, quoted
// strings for text fields.
//
// nfdump's syntax (parse_nfdump_filter), as a migration aid: `[src|dst] ip|host|net ADDR`,
// `[src|dst] port [OP] N`, `proto NAME`, `packets|bytes [OP] N`, `flags LETTERS`,
// `[src|dst] as N`, `[in|out] if N`, `[src|dst] vlan N`, ..., joined with `and`, `or`, `not`.
// nfdump's source is flowscope's client and its destination the server (sessions imported
// from one-way flows are client = source).
//
// Errors carry the offset where the filter stops making sense and say what was expected there;
// core/error.h render_error shows it with a caret. Pure functions; any thread.

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "core/result.h"
#include "core/time.h"
#include "query/filter.h"

namespace flowscope::query {

// Resolves an IP group name ("Campus/Physics") to its id (core: CLNGRP/SRVGRP values);
// nullopt for an unknown name. Typically enrich::IpGroups::find.
using GroupResolver = std::function<std::optional<std::uint32_t>(std::string_view)>;

struct FilterContext {
  // For time values ("STARTTIME >= 2026-11-24 08:00"): now and the zone local times are in.
  TimeContext time{TimeMs{}, TimeZoneRef::utc()};
  GroupResolver groups;  // may be empty: group names are then an error (ids still work)
};

// An empty or blank text is FilterExpr::all().
Result<FilterExpr> parse_filter(std::string_view text, const FilterContext& ctx = {});
Result<FilterExpr> parse_nfdump_filter(std::string_view text, const FilterContext& ctx = {});

}  // namespace flowscope::query
