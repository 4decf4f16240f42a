// `flowscope user`'s file handling, grants and listings over UserDb (user_admin.h).
#include "server/user_admin.h"

#include <fmt/format.h>

#include "core/cidr.h"
#include "core/time.h"
#include "enrich/ip_groups.h"
#include "server/auth.h"
#include "server/server_config.h"

namespace flowscope::server {

Result<UserFilePaths> user_file_paths(const std::string& users, const std::string& config) {
  if (!users.empty()) {
    const std::filesystem::path path(users);
    return UserFilePaths{path, path.parent_path() / "audit.log", {}};
  }
  auto cfg = load_server_config(config);
  if (!cfg) return cfg.error();
  return UserFilePaths{cfg->users_path(), cfg->audit_path(), cfg->enrich.ip_groups};
}

Result<void> save_users(const UserDb& db, const UserFilePaths& paths, std::string_view event,
                        std::string_view detail) {
  if (auto r = db.save(paths.users); !r) return r.error();
  append_audit(paths.audit, event, detail);
  return {};
}

Result<AuditEntry> edit_user_file(const UserFilePaths& paths,
                                  const std::function<Result<AuditEntry>(UserDb&)>& edit) {
  auto db = UserDb::load(paths.users);
  if (!db) return db.error();
  auto audit = edit(*db);
  if (!audit) return audit.error();
  if (auto r = save_users(*db, paths, audit->event, audit->detail); !r) return r.error();
  return audit;
}

Result<AuditEntry> change_grants_in_file(const UserFilePaths& paths,
                                         const std::filesystem::path& groups_file,
                                         const std::string& group, bool grant,
                                         const std::vector<std::string>& ip_groups,
                                         const std::vector<std::string>& exporters,
                                         const std::vector<std::string>& interfaces) {
  if (grant) {
    // An unknown name would grant nothing; refuse it before the file changes.
    if (auto r =
            check_ip_group_names(ip_groups, groups_file.empty() ? paths.ip_groups : groups_file);
        !r) {
      return Error{r.error().code, "--ip-group: " + r.error().message};
    }
  }
  return edit_user_file(paths, [&](UserDb& db) -> Result<AuditEntry> {
    auto detail = change_grants(db, group, grant, ip_groups, exporters, interfaces);
    if (!detail) return detail.error();
    return AuditEntry{grant ? "grant" : "revoke", *detail};
  });
}

Result<AuditEntry> apply_user_change(UserDb& db, const UserChange& c) {
  Result<void> r;
  AuditEntry audit{"", c.name};
  switch (c.edit) {
    case UserEdit::AddUser:
      r = db.add_user(c.name, c.password, c.role);
      if (r && !c.groups.empty()) r = db.set_groups(c.name, c.groups);
      audit = {"user_add", fmt::format("{} role {}", c.name, c.role_text)};
      break;
    case UserEdit::RemoveUser:
      r = db.remove_user(c.name);
      audit.event = "user_remove";
      break;
    case UserEdit::SetPassword:
      r = db.set_password(c.name, c.password);
      audit.event = "user_passwd";
      break;
    case UserEdit::SetRole:
      r = db.set_role(c.name, c.role);
      audit = {"user_role", fmt::format("{} {}", c.name, c.role_text)};
      break;
    case UserEdit::SetGroups:
      r = db.set_groups(c.name, c.groups);
      audit = {"user_groups", fmt::format("{} [{}]", c.name, fmt::join(c.groups, ","))};
      break;
    case UserEdit::AddGroup:
      r = db.add_group(c.name);
      audit.event = "group_add";
      break;
    case UserEdit::RemoveGroup:
      r = db.remove_group(c.name);
      audit.event = "group_remove";
      break;
    case UserEdit::RevokeToken:
      r = db.remove_token(c.name);
      audit.event = "token_revoke";
      break;
  }
  if (!r) return r.error();
  return audit;
}

Result<std::string> change_grants(UserDb& db, const std::string& group, bool grant,
                                  const std::vector<std::string>& ip_groups,
                                  const std::vector<std::string>& exporters,
                                  const std::vector<std::string>& interfaces) {
  const std::pair<GrantKind, const std::vector<std::string>*> lists[] = {
      {GrantKind::IpGroup, &ip_groups},
      {GrantKind::Exporter, &exporters},
      {GrantKind::Interface, &interfaces}};
  for (const auto& [kind, values] : lists) {
    for (const std::string& v : *values) {
      auto r = grant ? db.grant(group, kind, v) : db.revoke(group, kind, v);
      if (!r) return r.error();
    }
  }
  return fmt::format("group {} ip_groups [{}] exporters [{}] interfaces [{}]", group,
                     fmt::join(ip_groups, ","), fmt::join(exporters, ","),
                     fmt::join(interfaces, ","));
}

Result<void> check_ip_group_names(const std::vector<std::string>& values,
                                  const std::filesystem::path& groups_file) {
  std::vector<std::string> names;
  for (const std::string& v : values) {
    // UserDb::grant reads these as networks (and checks them); everything else is a name.
    if (v.find('/') == std::string::npos && !IpAddress::parse(v)) names.push_back(v);
  }
  if (names.empty()) return {};
  if (groups_file.empty()) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("cannot check IP group \"{}\": no IP groups file; give -c "
                             "serve.toml (its [enrich] ip_groups) or --groups FILE",
                             names.front())};
  }
  auto groups = enrich::IpGroups::load(groups_file);
  if (!groups) return groups.error();
  for (const std::string& name : names) {
    if (groups->find(name) != nullptr) continue;
    std::vector<std::string> known;
    for (const enrich::IpGroup& g : groups->groups()) known.push_back(g.name);
    return Error{ErrorCode::NotFound,
                 fmt::format("unknown IP group \"{}\"; the groups of {} are: {} (add it there, "
                             "or grant a network such as 10.1.0.0/16)",
                             name, groups_file.string(),
                             known.empty() ? std::string("(none)")
                                           : fmt::format("{}", fmt::join(known, ", ")))};
  }
  return {};
}

nlohmann::json users_json(const UserDb& db) {
  nlohmann::json j = nlohmann::json::array();
  for (const User& u : db.users()) {
    j.push_back({{"name", u.name}, {"role", role_name(u.role)}, {"groups", u.groups}});
  }
  return j;
}

std::vector<std::vector<std::string>> user_rows(const UserDb& db) {
  std::vector<std::vector<std::string>> rows;
  for (const User& u : db.users()) {
    rows.push_back(
        {u.name, std::string(role_name(u.role)), fmt::format("{}", fmt::join(u.groups, ","))});
  }
  return rows;
}

std::vector<std::vector<std::string>> group_rows(const UserDb& db) {
  std::vector<std::vector<std::string>> rows;
  for (const GroupPerms& g : db.groups()) {
    std::vector<std::string> ex;
    for (const IpAddress& e : g.exporters) ex.push_back(fmt::format("{}", e));
    rows.push_back({g.name,
                    g.ip_groups.empty() ? "(any)" : fmt::format("{}", fmt::join(g.ip_groups, ",")),
                    ex.empty() ? "(any)" : fmt::format("{}", fmt::join(ex, ","))});
  }
  return rows;
}

nlohmann::json tokens_json(const UserDb& db) {
  nlohmann::json j = nlohmann::json::array();
  for (const ApiToken& t : db.tokens()) {
    j.push_back({{"id", t.id},
                 {"user", t.user},
                 {"label", t.label},
                 {"created", format_time(time_from_ms(t.created_ms))}});
  }
  return j;
}

std::vector<std::vector<std::string>> token_rows(const UserDb& db) {
  std::vector<std::vector<std::string>> rows;
  for (const ApiToken& k : db.tokens()) {
    rows.push_back({k.id, k.user, k.label, format_time(time_from_ms(k.created_ms))});
  }
  return rows;
}

}  // namespace flowscope::server
