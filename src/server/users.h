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
// Ids: every user and group has a stable number (Scrutinizer's user_api names them by id);
// group ids 1 and 2 are Scrutinizer's built-in "Administrators" and "Guests", which flowscope
// maps to roles (user_api), so real groups start at 3. A group made through user_api is
// `restricted`: with no grants it sees nothing (Scrutinizer's new groups see no device), while a
// group made with `flowscope user groups add` keeps the documented rule (no grant: everything).
//
// API tokens (`flowscope user token`, `authToken=` of the HTTP API) belong to a user and act
// with its role and groups. Only a SHA-256 of each token is stored; the token itself is shown
// once, when made. Tokens are 160 random bits, so a fast hash is enough (no password stretching).
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

// One interface of one exporter (Scrutinizer's "interface" permission, "0A010107-1").
struct InterfaceGrant {
  IpAddress exporter;
  std::uint32_t if_index = 0;
  friend bool operator==(const InterfaceGrant&, const InterfaceGrant&) = default;
};

struct GroupPerms {
  std::string name;
  std::vector<std::string> ip_groups;  // IP group names (enrich) or CIDRs
  std::vector<IpAddress> exporters;
  std::vector<InterfaceGrant> interfaces;  // sessions seen on these interfaces (either side)
  bool restricted = false;                 // no grant at all: sees nothing (user_api groups)
  std::uint32_t id = 0;                    // >= kFirstGroupId
};

inline constexpr std::uint32_t kAdministratorsGroupId = 1;  // Scrutinizer's built-in groups
inline constexpr std::uint32_t kGuestsGroupId = 2;
inline constexpr std::uint32_t kFirstGroupId = 3;

struct ApiToken {
  std::string id;    // 8 hex digits, also the token's prefix: names it in list and revoke
  std::string user;  // acts as this user
  std::string hash;  // SHA-256 of the whole token, hex
  std::string label;
  std::int64_t created_ms = 0;
};

struct User {
  std::string name;
  std::string hash;  // argon2id, crypto_pwhash_str format
  Role role = Role::ReadOnly;
  std::vector<std::string> groups;
  std::uint32_t id = 0;  // >= 1
};

// What a grant or revoke is about.
// An interface is written "EXPORTER:IFINDEX" ("192.0.2.1:3").
enum class GrantKind : std::uint8_t { IpGroup, Exporter, Interface };

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
  Result<void> rename_user(std::string_view from, std::string_view to);
  Result<void> set_restricted(std::string_view group, bool restricted);

  // A new token for `user`; returns the token text ("fst_" + id + "_" + 32 hex digits), which is
  // not stored and cannot be shown again.
  Result<std::string> add_token(std::string_view user, std::string_view label, std::int64_t now_ms);
  Result<void> remove_token(std::string_view id);
  // The token whose hash matches `token` (constant-time comparison of the hashes), or null.
  const ApiToken* find_token(std::string_view token) const;
  const std::vector<ApiToken>& tokens() const { return tokens_; }

  const User* find_id(std::uint32_t id) const;
  const GroupPerms* find_group_id(std::uint32_t id) const;

  const User* find(std::string_view name) const;
  const GroupPerms* find_group(std::string_view name) const;
  const std::vector<User>& users() const { return users_; }
  const std::vector<GroupPerms>& groups() const { return groups_; }

 private:
  User* find_mutable(std::string_view name);
  GroupPerms* find_group_mutable(std::string_view name);
  void assign_ids();
  std::vector<User> users_;
  std::vector<GroupPerms> groups_;
  std::vector<ApiToken> tokens_;
};

// argon2id hash of `password` (libsodium interactive limits: 2 passes, 64 MiB).
Result<std::string> hash_password(std::string_view password);
// Constant-time verification against a stored hash.
bool verify_password(const std::string& hash, std::string_view password);

}  // namespace flowscope::server
