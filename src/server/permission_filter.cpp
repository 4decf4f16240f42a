#include "server/permission_filter.h"

#include "enrich/ip_groups.h"
#include "query/filter.h"

namespace flowscope::server {
namespace {

using query::FilterExpr;

FilterExpr any_of(std::vector<FilterExpr> items) {
  if (items.size() == 1) return std::move(items.front());
  return FilterExpr::make(FilterExpr::Op::Or, std::move(items));
}

FilterExpr compare(FieldId field, query::FilterValue value) {
  query::Comparison c;
  c.field = field;
  c.op = Comparator::Eq;
  c.value = std::move(value);
  return FilterExpr::compare(std::move(c));
}

// Matches no session (PROTO == 0 && !(PROTO == 0)), in a form to_text() writes and the parser
// reads back.
FilterExpr nothing() {
  FilterExpr p = compare(FieldId::Proto, std::uint64_t{0});
  FilterExpr not_p = FilterExpr::make(FilterExpr::Op::Not, {p});
  return FilterExpr::make(FilterExpr::Op::And, {std::move(p), std::move(not_p)});
}

}  // namespace

FilterExpr permission_filter(const Principal& principal, const enrich::IpGroups* groups) {
  if (principal.all_data) return FilterExpr::all();
  std::vector<FilterExpr> per_group;
  for (const GroupPerms& g : principal.groups) {
    std::vector<FilterExpr> parts;
    // The device dimension: whole exporters, or single interfaces of one (either side).
    if (!g.exporters.empty() || !g.interfaces.empty()) {
      std::vector<FilterExpr> ex;
      for (const IpAddress& e : g.exporters)
        ex.push_back(compare(FieldId::Exporter, Cidr::host(e)));
      for (const InterfaceGrant& i : g.interfaces) {
        ex.push_back(FilterExpr::make(FilterExpr::Op::And,
                                      {compare(FieldId::Exporter, Cidr::host(i.exporter)),
                                       compare(FieldId::Iface, std::uint64_t{i.if_index})}));
      }
      parts.push_back(any_of(std::move(ex)));
    }
    if (!g.ip_groups.empty()) {
      std::vector<FilterExpr> where;
      for (const std::string& item : g.ip_groups) {
        if (auto c = Cidr::parse(item, Cidr::HostBits::Clear)) {
          where.push_back(compare(FieldId::Addr, *c));
          continue;
        }
        const enrich::IpGroup* ig = groups != nullptr ? groups->find(item) : nullptr;
        if (ig == nullptr) continue;  // an unknown name grants nothing
        for (const enrich::IpGroup& sub : groups->groups()) {
          if (groups->is_within(sub.id, ig->id)) {
            where.push_back(compare(FieldId::Group, std::uint64_t{sub.id}));
          }
        }
      }
      parts.push_back(where.empty() ? nothing() : any_of(std::move(where)));
    }
    if (parts.empty()) {
      if (g.restricted) continue;  // made through user_api: no grant, nothing
      return FilterExpr::all();    // a group without restrictions sees all
    }
    per_group.push_back(parts.size() == 1
                            ? std::move(parts.front())
                            : FilterExpr::make(FilterExpr::Op::And, std::move(parts)));
  }
  if (per_group.empty()) return nothing();
  return any_of(std::move(per_group));
}

query::Selection restrict_selection(query::Selection where, const Principal& principal,
                                    const enrich::IpGroups* groups) {
  if (principal.all_data) return where;
  FilterExpr allowed = permission_filter(principal, groups);
  where.restriction = std::make_shared<const FilterExpr>(
      where.restriction ? query::and_of(*where.restriction, std::move(allowed))
                        : std::move(allowed));
  return where;
}

}  // namespace flowscope::server
