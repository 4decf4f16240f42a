#pragma once
// What `flowscope user` (FlowTraq's ftum; docs/users.md) does with the user file beyond
// UserDb's own edits: where users.json and the audit log are (given directly, or from a serve
// configuration), saving an edit together with its audit line, granting or revoking several
// permissions of a group at once, and the rows and JSON of the user, group and token lists.
// The cli parses options and calls these. Plain functions over values and files: one caller
// per user file (the server re-reads it on SIGHUP).

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "server/users.h"

namespace flowscope::server {

struct UserFilePaths {
  std::filesystem::path users;      // users.json
  std::filesystem::path audit;      // audit.log
  std::filesystem::path ip_groups;  // the serve configuration's [enrich] ip_groups; may be empty
};

// `users` (a users.json; the audit log beside it) when given, else the [auth] paths of the
// serve configuration `config`. REQUIRES: one of them is not empty.
Result<UserFilePaths> user_file_paths(const std::string& users, const std::string& config);

// Saves `db` to the user file and appends "event detail" to the audit log.
Result<void> save_users(const UserDb& db, const UserFilePaths& paths, std::string_view event,
                        std::string_view detail);

// One edit of `flowscope user` and the audit line it leaves.
enum class UserEdit {
  AddUser,
  RemoveUser,
  SetPassword,
  SetRole,
  SetGroups,
  AddGroup,
  RemoveGroup,
  RevokeToken
};
struct UserChange {
  UserEdit edit = UserEdit::AddUser;
  std::string name;                 // the user; the group (AddGroup, RemoveGroup); the token id
  std::string password;             // AddUser, SetPassword
  Role role = Role::Analyst;        // AddUser, SetRole
  std::string role_text;            // the role as the user wrote it, for the audit line
  std::vector<std::string> groups;  // AddUser (when not empty), SetGroups
};
struct AuditEntry {
  std::string event;   // user_add, user_remove, user_passwd, user_role, user_groups, group_add,
                       // group_remove, token_revoke
  std::string detail;  // "alice role analyst", "alice [campus,dmz]", "campus", ...
};
// Applies `change` to `db` (not saved); the first refusal of UserDb is the error.
Result<AuditEntry> apply_user_change(UserDb& db, const UserChange& change);

// Grants (or revokes) each IP group, exporter and interface to `group`, stopping at the first
// error. Returns the audit detail: "group G ip_groups [..] exporters [..] interfaces [..]".
Result<std::string> change_grants(UserDb& db, const std::string& group, bool grant,
                                  const std::vector<std::string>& ip_groups,
                                  const std::vector<std::string>& exporters,
                                  const std::vector<std::string>& interfaces);

// One edit of the user file as a whole: loads it, lets `edit` change the database and name the
// audit line, then saves both (save_users). Nothing is written when the load or the edit fails
// (an exception from `edit`, such as a password prompt given nothing, passes through unsaved).
Result<AuditEntry> edit_user_file(const UserFilePaths& paths,
                                  const std::function<Result<AuditEntry>(UserDb&)>& edit);

// `user grant` (`grant`) and `user revoke`: a grant's IP group names are checked first against
// `groups_file`, or the configuration's groups file when it is empty (check_ip_group_names),
// then change_grants runs as one edit of the user file.
Result<AuditEntry> change_grants_in_file(const UserFilePaths& paths,
                                         const std::filesystem::path& groups_file,
                                         const std::string& group, bool grant,
                                         const std::vector<std::string>& ip_groups,
                                         const std::vector<std::string>& exporters,
                                         const std::vector<std::string>& interfaces);

// Checks the IP group names among `values` (CIDRs and addresses pass) against the groups file
// `groups_file` (TOML or ipInfo.ini, enrich/ip_groups.h) before `user grant` stores them: an
// unknown name would grant nothing (server/permission_filter.h), silently. Errors name the
// unknown group and list the known ones, or say how to give the file when there is none.
Result<void> check_ip_group_names(const std::vector<std::string>& values,
                                  const std::filesystem::path& groups_file);

// What `user add`, `passwd`, `remove` and the other edits tell the user after saving: the
// running server reads the user file again on SIGHUP (docs/users.md).
inline constexpr const char* kReloadNote =
    "saved; a running `flowscope serve` uses the change after its next reload "
    "(systemctl reload flowscope, or kill -HUP its pid)";

// `user list`: [{"name", "role", "groups"}]; rows user, role, groups (joined by ',').
nlohmann::json users_json(const UserDb& db);
std::vector<std::vector<std::string>> user_rows(const UserDb& db);
// `user groups`: rows group, ip_groups, exporters ("(any)" when a list is empty).
std::vector<std::vector<std::string>> group_rows(const UserDb& db);
// `user token list`: [{"id", "user", "label", "created"}]; rows id, user, label, created (ISO
// 8601 UTC). Never the token.
nlohmann::json tokens_json(const UserDb& db);
std::vector<std::vector<std::string>> token_rows(const UserDb& db);

}  // namespace flowscope::server
