#include "enrich/ip_groups.h"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "core/toml_section.h"
#include "enrich/ip_range.h"

namespace flowscope::enrich {

const IpGroup* IpGroups::group(std::uint32_t id) const {
  auto it = std::lower_bound(groups_.begin(), groups_.end(), id,
                             [](const IpGroup& g, std::uint32_t v) { return g.id < v; });
  return it != groups_.end() && it->id == id ? &*it : nullptr;
}

const IpGroup* IpGroups::find(std::string_view name) const {
  for (const IpGroup& g : groups_) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

bool IpGroups::is_within(std::uint32_t id, std::uint32_t ancestor) const {
  // Parents were checked acyclic in build(), so this ends within groups_.size() steps.
  for (std::size_t steps = 0; id != 0 && steps <= groups_.size(); ++steps) {
    if (id == ancestor) return true;
    const IpGroup* g = group(id);
    if (g == nullptr) return false;
    id = g->parent;
  }
  return false;
}

Result<IpGroups> IpGroups::build(std::vector<IpGroup> groups, std::vector<std::string> parents,
                                 std::string_view source) {
  const std::string where = std::string(source) + ": ";
  // Ids: explicit ones are kept; the others get the next free numbers in file order.
  std::uint32_t next = 1;
  for (const IpGroup& g : groups) next = std::max(next, g.id + 1);
  std::unordered_map<std::uint32_t, std::size_t> by_id;
  std::unordered_map<std::string, std::size_t> by_name;
  for (std::size_t i = 0; i < groups.size(); ++i) {
    IpGroup& g = groups[i];
    if (g.name.empty()) return Error{ErrorCode::InvalidArgument, where + "a group has no name"};
    if (g.id == 0) g.id = next++;
    if (g.id == PrefixTable::kNoValue) {
      return Error{ErrorCode::OutOfRange, where + "group \"" + g.name + "\": id is too large"};
    }
    if (!by_id.emplace(g.id, i).second) {
      return Error{ErrorCode::InvalidArgument, where + "group \"" + g.name + "\": id " +
                                                   std::to_string(g.id) +
                                                   " is already used; give each group its own id"};
    }
    if (!by_name.emplace(g.name, i).second) {
      return Error{ErrorCode::InvalidArgument,
                   where + "group \"" + g.name + "\" is defined twice; merge the sections"};
    }
  }
  for (std::size_t i = 0; i < groups.size(); ++i) {
    if (parents[i].empty()) continue;
    auto it = by_name.find(parents[i]);
    if (it == by_name.end()) {
      return Error{ErrorCode::NotFound, where + "group \"" + groups[i].name + "\": parent \"" +
                                            parents[i] + "\" is not a group in this file"};
    }
    groups[i].parent = groups[it->second].id;
  }
  // Refuse parent cycles: walking up from any group must end within groups.size() steps.
  for (const IpGroup& g : groups) {
    std::uint32_t id = g.parent;
    for (std::size_t steps = 0; id != 0; ++steps) {
      if (steps > groups.size() || id == g.id) {
        return Error{ErrorCode::InvalidArgument,
                     where + "group \"" + g.name + "\": its parents form a cycle"};
      }
      id = groups[by_id.at(id)].parent;
    }
  }
  PrefixTableBuilder builder;
  // Two groups claiming the same prefix: the one listed last wins (PrefixTableBuilder's rule).
  for (const IpGroup& g : groups) {
    for (const Cidr& c : g.prefixes) builder.add(c, g.id);
  }
  IpGroups out;
  out.table_ = builder.build();
  std::sort(groups.begin(), groups.end(),
            [](const IpGroup& a, const IpGroup& b) { return a.id < b.id; });
  out.groups_ = std::move(groups);
  return out;
}

Result<IpGroups> IpGroups::from_toml(std::string_view text, std::string_view source) {
  auto parsed = parse_toml(text, source);
  if (!parsed) return parsed.error();
  const toml::table& root = *parsed;
  std::vector<IpGroup> groups;
  std::vector<std::string> parents;
  TomlSection top(&root, source, "");
  const toml::node* list_node = top.find("group");
  if (auto r = top.check_keys(); !r) return r.error();
  const toml::array* list = list_node != nullptr ? list_node->as_array() : nullptr;
  if (list == nullptr) {
    return Error{ErrorCode::InvalidArgument,
                 std::string(source) + ": no [[group]] tables; see docs/enrich.md"};
  }
  for (const toml::node& node : *list) {
    if (node.as_table() == nullptr) return top.key_error(&node, "group", "is not a table");
    TomlSection t(node.as_table(), source, "[group]");
    IpGroup g;
    if (auto r = t.string("name", g.name); !r) return r.error();
    if (g.name.empty()) return t.error_at(&node, "group without a name; add name = \"...\"");
    std::int64_t id = 0;
    if (auto r = t.integer("id", id, 0, PrefixTable::kNoValue - 1, " (0 or absent: the next free)");
        !r) {
      return Error{ErrorCode::OutOfRange, r.error().message, *r.error().where};
    }
    g.id = static_cast<std::uint32_t>(id);
    if (auto r = t.string("location", g.location); !r) return r.error();
    if (auto r = t.string("activity", g.activity); !r) return r.error();
    std::string parent;
    if (auto r = t.string("parent", parent); !r) return r.error();
    parents.push_back(std::move(parent));
    std::vector<std::string> addresses;
    if (auto r = t.string_list("addresses", addresses); !r) return r.error();
    for (const std::string& a : addresses) {
      if (auto r = parse_address_item(a, g.prefixes); !r) {
        return t.key_error(t.find("addresses"), "addresses",
                           "group \"" + g.name + "\": " + r.error().message);
      }
    }
    if (auto r = t.check_keys(); !r) return r.error();
    groups.push_back(std::move(g));
  }
  return build(std::move(groups), std::move(parents), source);
}

Result<IpGroups> IpGroups::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorCode::NotFound, path.string() + ": cannot open the IP group file"};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (path.extension() == ".toml") return from_toml(text, path.string());
  return from_ini(text, path.string());
}

}  // namespace flowscope::enrich
