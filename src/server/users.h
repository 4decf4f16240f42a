#pragma once
// UserDb: the users, groups and data permissions of the query server (docs/users.md), kept in
// one JSON file (users.json) that `flowscope user` edits and the server reads at start and on
// SIGHUP. Passwords are stored only as argon2id hashes (libsodium crypto_pwhash_str, which embeds
// salt and cost in the string).
//
// Roles: admin (every session, user administration), analyst (queries within the permissions
// of its groups), read-only (as analyst, but no saved state). A group's permissions are the IP
// groups (enrich IP group names, or CIDRs) and exporters whose sessions its members may see;
// an empty list does not restrict on that dimension. A user with no group sees nothing unless
// admin.
//
// A plain value: copy it, edit it, save it. Not thread-safe; the server keeps an immutable
// snapshot (shared_ptr<const UserDb>).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/ip_address.h"
#include "core/result.h"

namespace flowscope::server {

enum class Role : std::uint8_t { Admin, Analyst, ReadOnly };

std::string_view role_name(Role role);
Result<Role> parse_role(std::string_view text);

struct GroupPerms {
  std::string name;
  std::vector<std::string> ip_groups;  // IP group names (enrich) or CIDRs
  std::vector<IpAddress> exporters;
};

struct User {
  std::string name;
  std::string hash;  // argon2id, crypto_pwhash_str format
  Role role = Role::ReadOnly;
  std::vector<std::string> groups;
};

// What a grant or revoke is about.
enum class GrantKind : std::uint8_t { IpGroup, Exporter };

class UserDb {
 public:
  // A missing file is an empty database (the first `flowscope user add` creates it).
  static Result<UserDb> load(const std::filesystem::path& path);
  // Writes a temporary file and renames it over `path` (mode 0600): readers never see half.
  Result<void> save(const std::filesystem::path& path) const;

  Result<void> add_user(std::string_view name, std::string_view password, Role role);
  Result<void> remove_user(std::string_view name);
  Result<void> set_password(std::string_view name, std::string_view password);
  Result<void> set_role(std::string_view name, Role role);
  // Replaces the user's groups; every group must exist.
  Result<void> set_groups(std::string_view name, const std::vector<std::string>& groups);

  Result<void> add_group(std::string_view name);
  // Refused while a user is still a member.
  Result<void> remove_group(std::string_view name);
  Result<void> grant(std::string_view group, GrantKind kind, std::string_view value);
  Result<void> revoke(std::string_view group, GrantKind kind, std::string_view value);

  const User* find(std::string_view name) const;
  const GroupPerms* find_group(std::string_view name) const;
  const std::vector<User>& users() const { return users_; }
  const std::vector<GroupPerms>& groups() const { return groups_; }

 private:
  User* find_mutable(std::string_view name);
  GroupPerms* find_group_mutable(std::string_view name);
  std::vector<User> users_;
  std::vector<GroupPerms> groups_;
};

// argon2id hash of `password` (libsodium interactive limits: 2 passes, 64 MiB).
Result<std::string> hash_password(std::string_view password);
// Constant-time verification against a stored hash.
bool verify_password(const std::string& hash, std::string_view password);

}  // namespace flowscope::server
