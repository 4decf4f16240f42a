#include "query/field_json.h"

namespace flowscope::query {

nlohmann::json field_json(const FieldInfo& f) {
  nlohmann::json cmp = nlohmann::json::array();
  for (Comparator c : kAllComparators) {
    if (comparators(f).has(c)) cmp.push_back(comparator_symbol(c));
  }
  nlohmann::json wire = nlohmann::json::array();
  for (std::uint16_t id : f.wire.view()) wire.push_back(id);
  nlohmann::json j = {
      {"name", f.name},
      {"filter", f.filter_name},
      {"scope", scope_name(f.scope)},
      {"kind", kind_name(f.kind)},
      {"type", type_name(f.type)},
      {"width", f.kind == FieldKind::Stored ? type_width(f.type) : 0},
      {"unit", f.unit},
      {"comparators", cmp},
      {"ipfix_ids", wire},
      {"description", f.description},
  };
  if (f.kind != FieldKind::Stored) {
    j["definition"] = definition(f);
    j["operands"] = {field_info(f.operands[0]).name, field_info(f.operands[1]).name};
  }
  return j;
}

}  // namespace flowscope::query
