// Scrutinizer's user_api (rm=user_api, docs/http.md "user_api") over flowscope's user file:
// createUser, delUsers, createUsergroup, delUsergroups, membership, permissions,
// changeUsername. Scrutinizer's built-in groups 1 (Administrators) and 2 (Guests) are roles
// here (admin; read-only); other groups are flowscope groups, named by their ids. Groups made
// here are `restricted` (they see nothing until granted), as Scrutinizer's new groups see no
// device; its device / interface / group permissions become exporter, interface and IP group
// grants. One request is one edit of the user file (all or nothing), audited with the caller.
#include <fmt/format.h>

#include "enrich/ip_groups.h"
#include "server/http_server.h"
#include "server/scrutinizer_report.h"
#include "server/server.h"

namespace flowscope::server {
namespace {

Error bad(std::string m) { return Error{ErrorCode::InvalidArgument, std::move(m)}; }

// A user named by id (number) or name (string).
const User* user_ref(const UserDb& db, const nlohmann::json& ref) {
  if (ref.is_number_unsigned() || ref.is_number_integer()) {
    return db.find_id(static_cast<std::uint32_t>(ref.get<std::int64_t>()));
  }
  if (ref.is_string()) {
    const std::string s = ref.get<std::string>();
    if (const User* u = db.find(s)) return u;
    if (!s.empty() && s.find_first_not_of("0123456789") == std::string::npos && s.size() < 10) {
      return db.find_id(static_cast<std::uint32_t>(std::stoul(s)));
    }
  }
  return nullptr;
}

const GroupPerms* group_ref(const UserDb& db, const nlohmann::json& ref) {
  if (ref.is_number_unsigned() || ref.is_number_integer()) {
    return db.find_group_id(static_cast<std::uint32_t>(ref.get<std::int64_t>()));
  }
  if (ref.is_string()) return db.find_group(ref.get<std::string>());
  return nullptr;
}

std::optional<std::int64_t> id_of(const nlohmann::json& ref) {
  if (ref.is_number_integer() || ref.is_number_unsigned()) return ref.get<std::int64_t>();
  return std::nullopt;
}

// The user and group named in one membership or permission entry.
nlohmann::json member_of(const nlohmann::json& e, std::string_view id_key,
                         std::string_view name_key) {
  if (e.contains(id_key)) return e[std::string(id_key)];
  if (e.contains(name_key)) return e[std::string(name_key)];
  return nullptr;
}

Result<void> apply_role_groups(UserDb& db, const std::string& user, const nlohmann::json& ids,
                               std::vector<std::string> groups) {
  bool admin = false;
  bool guest = false;
  for (const auto& id : ids) {
    const auto n = id_of(id);
    if (n == kAdministratorsGroupId) {
      admin = true;
    } else if (n == kGuestsGroupId) {
      guest = true;
    } else {
      const GroupPerms* g = group_ref(db, id);
      if (g == nullptr) return bad(fmt::format("no usergroup {}", json_text(id)));
      groups.push_back(g->name);
    }
  }
  const Role role =
      admin ? Role::Admin : (guest && groups.empty() ? Role::ReadOnly : Role::Analyst);
  if (auto r = db.set_role(user, role); !r) return r;
  return db.set_groups(user, groups);
}

Result<nlohmann::json> create_users(UserDb& db, const nlohmann::json& j) {
  if (!j.contains("users") || !j["users"].is_array()) {
    return bad("createUser needs json {\"users\": [{\"name\", \"pass\", \"membership\": [ids]}]}");
  }
  nlohmann::json data = nlohmann::json::array();
  for (const auto& u : j["users"]) {
    if (!u.is_object() || !u.contains("name") || !u["name"].is_string() || !u.contains("pass") ||
        !u["pass"].is_string()) {
      return bad("each user needs \"name\" and \"pass\" strings");
    }
    const std::string name = u["name"].get<std::string>();
    if (auto r = db.add_user(name, u["pass"].get<std::string>(), Role::ReadOnly); !r) {
      data.push_back({{"name", name}, {"error", r.error().message}});
      continue;
    }
    if (auto r = apply_role_groups(db, name, u.value("membership", nlohmann::json::array()), {});
        !r) {
      return r.error();  // a bad group id: nothing of this request is written
    }
    data.push_back({{"id", db.find(name)->id}, {"name", name}});
  }
  return data;
}

Result<nlohmann::json> del_users(UserDb& db, const nlohmann::json& j) {
  if (!j.contains("delUsers") || !j["delUsers"].is_array()) {
    return bad("delUsers needs json {\"delUsers\": [id or name, ...]}");
  }
  nlohmann::json data = nlohmann::json::array();
  for (const auto& ref : j["delUsers"]) {
    const User* u = user_ref(db, ref);
    const std::string what = ref.is_string() ? fmt::format("named '{}'", ref.get<std::string>())
                                             : fmt::format("id {}", json_text(ref));
    if (u == nullptr) {
      data.push_back(fmt::format("Deleting user {} (0 matched)", what));
      continue;
    }
    const std::string name = u->name;
    if (auto r = db.remove_user(name); !r) return r.error();
    data.push_back(fmt::format("Deleting user {} (1 matched)", what));
  }
  return data;
}

Result<nlohmann::json> create_groups(UserDb& db, const nlohmann::json& j) {
  if (!j.contains("usergroups") || !j["usergroups"].is_array()) {
    return bad(
        "createUsergroup needs json {\"usergroups\": [{\"name\", \"template_usergroup\", "
        "\"users\": [...]}]}");
  }
  nlohmann::json data = nlohmann::json::array();
  for (const auto& g : j["usergroups"]) {
    if (!g.is_object() || !g.contains("name") || !g["name"].is_string()) {
      return bad("each usergroup needs a \"name\"");
    }
    const std::string name = g["name"].get<std::string>();
    if (db.find_group(name) != nullptr) {
      data.push_back({{"name", name}, {"error", "A usergroup already exists with that name"}});
      continue;
    }
    if (auto r = db.add_group(name); !r) {
      data.push_back({{"name", name}, {"error", r.error().message}});
      continue;
    }
    // A template's grants are copied; Administrators as a template sees everything.
    const nlohmann::json tmpl = g.value("template_usergroup", nlohmann::json());
    const bool all = id_of(tmpl) == kAdministratorsGroupId;
    if (auto r = db.set_restricted(name, !all); !r) return r.error();
    if (const GroupPerms* t = group_ref(db, tmpl); t != nullptr && t->name != name) {
      const GroupPerms copy = *t;
      for (const auto& ig : copy.ip_groups) (void)db.grant(name, GrantKind::IpGroup, ig);
      for (const auto& e : copy.exporters) {
        (void)db.grant(name, GrantKind::Exporter, fmt::format("{}", e));
      }
      for (const auto& i : copy.interfaces) {
        (void)db.grant(name, GrantKind::Interface, fmt::format("{}:{}", i.exporter, i.if_index));
      }
      if (auto r = db.set_restricted(name, copy.restricted); !r) return r.error();
    }
    nlohmann::json members = nlohmann::json::array();
    for (const auto& ref : g.value("users", nlohmann::json::array())) {
      const User* u = user_ref(db, ref);
      if (u == nullptr) continue;
      std::vector<std::string> groups = u->groups;
      groups.push_back(name);
      const std::string uname = u->name;
      if (auto r = db.set_groups(uname, groups); !r) return r.error();
      members.push_back(ref.is_string() ? ref.get<std::string>() : json_text(ref));
    }
    data.push_back({{"id", db.find_group(name)->id}, {"name", name}, {"members", members}});
  }
  return data;
}

Result<nlohmann::json> del_groups(UserDb& db, const nlohmann::json& j) {
  const nlohmann::json list =
      j.contains("delUsergroups") ? j["delUsergroups"] : j.value("usergroups", nlohmann::json());
  if (!list.is_array()) return bad("delUsergroups needs json {\"delUsergroups\": [id or name]}");
  nlohmann::json data = nlohmann::json::array();
  for (const auto& ref : list) {
    const auto id = id_of(ref);
    if (id == kAdministratorsGroupId || id == kGuestsGroupId) {
      data.push_back(fmt::format("Usergroup {} is built in and cannot be deleted", *id));
      continue;
    }
    const GroupPerms* g = group_ref(db, ref);
    if (g == nullptr) {
      data.push_back(fmt::format("Deleting usergroup {} (0 matched)", json_text(ref)));
      continue;
    }
    const std::string name = g->name;
    for (const User& u : std::vector<User>(db.users())) {  // members leave it first
      std::vector<std::string> groups = u.groups;
      if (std::erase(groups, name) > 0) {
        if (auto r = db.set_groups(u.name, groups); !r) return r.error();
      }
    }
    if (auto r = db.remove_group(name); !r) return r.error();
    data.push_back(fmt::format("Deleting usergroup {} (1 matched)", json_text(ref)));
  }
  return data;
}

Result<nlohmann::json> membership(UserDb& db, const nlohmann::json& j) {
  if (!j.contains("membership") || !j["membership"].is_object()) {
    return bad(
        "membership needs json {\"membership\": {\"add\": [{\"user_id\", "
        "\"usergroup_id\"}], \"remove\": [...]}}");
  }
  nlohmann::json errors = nlohmann::json::array();
  nlohmann::json updated = nlohmann::json::array();
  for (const bool add : {true, false}) {
    for (const auto& e : j["membership"].value(add ? "add" : "remove", nlohmann::json::array())) {
      const User* u = user_ref(db, member_of(e, "user_id", "user_name"));
      const nlohmann::json gref = member_of(e, "usergroup_id", "usergroup_name");
      if (u == nullptr) {
        errors.push_back(fmt::format("no user {}", json_text(e)));
        continue;
      }
      const std::string user = u->name;
      const auto gid = id_of(gref);
      if (gid == kAdministratorsGroupId || gid == kGuestsGroupId) {
        const Role role =
            add ? (gid == kAdministratorsGroupId ? Role::Admin : Role::ReadOnly) : Role::Analyst;
        if (auto r = db.set_role(user, role); !r) return r.error();
        updated.push_back(fmt::format("{} user {} {} usergroup {}", add ? "Added" : "Removed", user,
                                      add ? "to" : "from", *gid));
        continue;
      }
      const GroupPerms* g = group_ref(db, gref);
      if (g == nullptr) {
        errors.push_back(fmt::format("no usergroup {}", json_text(gref)));
        continue;
      }
      std::vector<std::string> groups = u->groups;
      const std::string gname = g->name;
      std::erase(groups, gname);
      if (add) groups.push_back(gname);
      if (auto r = db.set_groups(user, groups); !r) return r.error();
      updated.push_back(fmt::format("{} user {} {} usergroup {}", add ? "Added" : "Removed", user,
                                    add ? "to" : "from", g->id));
    }
  }
  return nlohmann::json{{"errors", errors}, {"updated", updated}};
}

Result<nlohmann::json> permissions(UserDb& db, const nlohmann::json& j,
                                   const enrich::IpGroups* ip_groups) {
  if (!j.contains("permissions") || !j["permissions"].is_object()) {
    return bad(
        "permissions needs json {\"permissions\": {\"add\": [{\"usergroup_id\", "
        "\"permission_type\", \"seccode\"}], \"remove\": [...]}}");
  }
  nlohmann::json errors = nlohmann::json::array();
  nlohmann::json updated = nlohmann::json::array();
  for (const bool add : {true, false}) {
    for (const auto& e : j["permissions"].value(add ? "add" : "remove", nlohmann::json::array())) {
      const GroupPerms* g = group_ref(db, member_of(e, "usergroup_id", "usergroup_name"));
      if (g == nullptr) {
        errors.push_back(fmt::format("no usergroup in {}", json_text(e)));
        continue;
      }
      const std::string group = g->name;
      const std::uint32_t gid = g->id;
      const std::string type = e.value("permission_type", "");
      const std::string code = e.contains("seccode") && e["seccode"].is_string()
                                   ? e["seccode"].get<std::string>()
                                   : (e.contains("seccode") ? json_text(e["seccode"]) : "");
      GrantKind kind = GrantKind::Exporter;
      std::string value;
      if (type == "device") {
        auto a = scrutinizer_exporter(code);
        if (!a) {
          errors.push_back(a.error().message);
          continue;
        }
        value = fmt::format("{}", *a);
      } else if (type == "interface") {
        const std::size_t dash = code.rfind('-');
        auto a = dash == std::string::npos ? Result<IpAddress>(bad("no '-'"))
                                           : scrutinizer_exporter(code.substr(0, dash));
        if (!a) {
          errors.push_back(fmt::format("interface \"{}\" is not <exporter hex>-<ifIndex>", code));
          continue;
        }
        kind = GrantKind::Interface;
        value = fmt::format("{}:{}", *a, code.substr(dash + 1));
      } else if (type == "group") {
        const std::uint32_t id = code.find_first_not_of("0123456789") == std::string::npos &&
                                         !code.empty() && code.size() < 10
                                     ? static_cast<std::uint32_t>(std::stoul(code))
                                     : 0;
        const enrich::IpGroup* ig = ip_groups != nullptr ? ip_groups->group(id) : nullptr;
        if (ig == nullptr) {
          errors.push_back(fmt::format("no IP group {}; see [enrich] ip_groups", code));
          continue;
        }
        kind = GrantKind::IpGroup;
        value = ig->name;
      } else {
        errors.push_back(
            fmt::format("permission type \"{}\" has no flowscope equivalent (device, "
                        "interface and group do)",
                        type));
        continue;
      }
      auto r = add ? db.grant(group, kind, value) : db.revoke(group, kind, value);
      if (!r) {
        errors.push_back(r.error().message);
        continue;
      }
      updated.push_back(fmt::format("{} {} permission {} {} usergroup {}",
                                    add ? "Added" : "Removed", type, code, add ? "to" : "from",
                                    gid));
    }
  }
  return nlohmann::json{{"errors", errors}, {"updated", updated}};
}

Result<nlohmann::json> change_username(UserDb& db, const nlohmann::json& j) {
  nlohmann::json list = j.contains("changeUsername") ? j["changeUsername"]
                        : j.contains("users")        ? j["users"]
                                                     : j;
  if (list.is_object()) list = nlohmann::json::array({list});
  if (!list.is_array()) return bad("changeUsername needs json {\"user_id\", \"new_name\"}");
  nlohmann::json data = nlohmann::json::array();
  for (const auto& e : list) {
    const User* u = user_ref(db, member_of(e, "user_id", "user_name"));
    const std::string to = e.value("new_name", e.value("username", ""));
    if (u == nullptr || to.empty()) {
      return bad("changeUsername: name the user (user_id or user_name) and new_name");
    }
    const std::string from = u->name;
    if (auto r = db.rename_user(from, to); !r) return r.error();
    data.push_back(fmt::format("Renamed user {} to {}", from, to));
  }
  return data;
}

}  // namespace

Result<nlohmann::json> user_api(Server& server, HttpCall& call) {
  if (call.principal->role != Role::Admin) {
    server.auth().audit("request_refused", call.principal->user, call.peer,
                        "user_api needs the admin role");
    return Error{ErrorCode::InvalidArgument, "permissionDenied: user_api is for admins"};
  }
  const std::string* action = find_param(call.params, "action");
  if (action == nullptr) return bad("user_api needs an action");
  auto j = json_param(call.params, "json");
  if (!j) return j.error();
  if (!j->is_object()) return bad("user_api needs json={...}");
  const auto groups = server.ip_groups();
  nlohmann::json data;
  auto r = server.auth().edit_users([&](UserDb& db) -> Result<void> {
    Result<nlohmann::json> out = bad(
        fmt::format("user_api action \"{}\" is not one of createUser, delUsers, createUsergroup, "
                    "delUsergroups, membership, permissions, changeUsername",
                    *action));
    if (*action == "createUser") out = create_users(db, *j);
    if (*action == "delUsers") out = del_users(db, *j);
    if (*action == "createUsergroup") out = create_groups(db, *j);
    if (*action == "delUsergroups") out = del_groups(db, *j);
    if (*action == "membership") out = membership(db, *j);
    if (*action == "permissions") out = permissions(db, *j, groups.get());
    if (*action == "changeUsername") out = change_username(db, *j);
    if (!out) return out.error();
    data = std::move(*out);
    return {};
  });
  if (!r) return r.error();
  server.auth().audit("user_api", call.principal->user, call.peer, *action);
  return nlohmann::json{{"data", std::move(data)}};
}

}  // namespace flowscope::server
