#include "server/users.h"

#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include "core/cidr.h"

namespace flowscope::server {
namespace {

constexpr int kUsersVersion = 1;

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.' || c == '@';
  });
}

Error bad_name(std::string_view what, std::string_view name) {
  return Error{
      ErrorCode::InvalidArgument,
      fmt::format("{} name \"{}\" is not valid: use 1 to 64 of a-z A-Z 0-9 _ - . @", what, name)};
}

Error no_user(std::string_view name) {
  return Error{ErrorCode::NotFound, fmt::format("no user \"{}\"; see 'flowscope user list'", name)};
}

Error no_group(std::string_view name) {
  return Error{
      ErrorCode::NotFound,
      fmt::format("no group \"{}\"; create it with 'flowscope user groups add {}'", name, name)};
}

}  // namespace

std::string_view role_name(Role role) {
  switch (role) {
    case Role::Admin: return "admin";
    case Role::Analyst: return "analyst";
    case Role::ReadOnly: return "read-only";
  }
  return "read-only";
}

Result<Role> parse_role(std::string_view text) {
  if (text == "admin") return Role::Admin;
  if (text == "analyst") return Role::Analyst;
  if (text == "read-only" || text == "readonly") return Role::ReadOnly;
  return Error{ErrorCode::InvalidArgument,
               fmt::format("role \"{}\" is not one of admin, analyst, read-only", text)};
}

Result<std::string> hash_password(std::string_view password) {
  if (sodium_init() < 0) return Error{ErrorCode::Io, "libsodium failed to initialise"};
  if (password.empty()) {
    return Error{ErrorCode::InvalidArgument, "the password is empty; give a password"};
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return Error{ErrorCode::Io, "argon2id hashing ran out of memory (it needs 64 MiB)"};
  }
  return std::string(out);
}

bool verify_password(const std::string& hash, std::string_view password) {
  if (sodium_init() < 0 || hash.empty()) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

Result<UserDb> UserDb::load(const std::filesystem::path& path) {
  UserDb db;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) return db;
    return Error{ErrorCode::Io, fmt::format("{}: cannot read the user file; check its "
                                            "permissions",
                                            path.string())};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  const auto j = nlohmann::json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  auto bad = [&](const std::string& what) {
    return Error{ErrorCode::Malformed,
                 fmt::format("{}: {}; restore it from a backup or edit it with 'flowscope user'",
                             path.string(), what)};
  };
  if (j.is_discarded() || !j.is_object()) return bad("not valid JSON");
  if (j.value("version", 0) != kUsersVersion) {
    return bad(fmt::format("version {} is not supported", j.value("version", 0)));
  }
  // json::value() and get() throw on wrong types: a boundary (a file a human may have edited).
  try {
    for (const auto& g : j.value("groups", nlohmann::json::array())) {
      GroupPerms perms;
      perms.name = g.at("name").get<std::string>();
      perms.ip_groups = g.value("ip_groups", std::vector<std::string>{});
      for (const auto& e : g.value("exporters", std::vector<std::string>{})) {
        auto a = IpAddress::parse(e);
        if (!a)
          return bad(fmt::format("group \"{}\": exporter \"{}\" is not an address", perms.name, e));
        perms.exporters.push_back(*a);
      }
      db.groups_.push_back(std::move(perms));
    }
    for (const auto& u : j.value("users", nlohmann::json::array())) {
      User user;
      user.name = u.at("name").get<std::string>();
      user.hash = u.at("hash").get<std::string>();
      auto role = parse_role(u.at("role").get<std::string>());
      if (!role) return bad(fmt::format("user \"{}\": {}", user.name, role.error().message));
      user.role = *role;
      user.groups = u.value("groups", std::vector<std::string>{});
      db.users_.push_back(std::move(user));
    }
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
  return db;
}

Result<void> UserDb::save(const std::filesystem::path& path) const {
  nlohmann::json j;
  j["version"] = kUsersVersion;
  j["groups"] = nlohmann::json::array();
  for (const GroupPerms& g : groups_) {
    std::vector<std::string> exporters;
    for (const IpAddress& e : g.exporters) exporters.push_back(fmt::format("{}", e));
    j["groups"].push_back({{"name", g.name}, {"ip_groups", g.ip_groups}, {"exporters", exporters}});
  }
  j["users"] = nlohmann::json::array();
  for (const User& u : users_) {
    j["users"].push_back(
        {{"name", u.name}, {"hash", u.hash}, {"role", role_name(u.role)}, {"groups", u.groups}});
  }
  const auto tmp = std::filesystem::path(path.string() + ".tmp");
  if (path.has_parent_path()) {
    std::error_code ec;
    std::filesystem::create_directories(path.parent_path(), ec);
  }
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) {
      return Error{ErrorCode::Io, fmt::format("{}: cannot write; check the directory exists and "
                                              "is writable",
                                              tmp.string())};
    }
    ::chmod(tmp.c_str(), 0600);
    out << j.dump(2) << '\n';
    if (!out.flush()) return Error{ErrorCode::Io, fmt::format("{}: write failed", tmp.string())};
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return Error{ErrorCode::Io, fmt::format("{}: cannot replace: {}", path.string(), ec.message())};
  }
  return {};
}

User* UserDb::find_mutable(std::string_view name) {
  for (User& u : users_) {
    if (u.name == name) return &u;
  }
  return nullptr;
}

const User* UserDb::find(std::string_view name) const {
  return const_cast<UserDb*>(this)->find_mutable(name);
}

GroupPerms* UserDb::find_group_mutable(std::string_view name) {
  for (GroupPerms& g : groups_) {
    if (g.name == name) return &g;
  }
  return nullptr;
}

const GroupPerms* UserDb::find_group(std::string_view name) const {
  return const_cast<UserDb*>(this)->find_group_mutable(name);
}

Result<void> UserDb::add_user(std::string_view name, std::string_view password, Role role) {
  if (!valid_name(name)) return bad_name("user", name);
  if (find(name) != nullptr) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("user \"{}\" exists; change the password with 'flowscope user "
                             "passwd {}'",
                             name, name)};
  }
  auto hash = hash_password(password);
  if (!hash) return hash.error();
  users_.push_back(User{std::string(name), std::move(*hash), role, {}});
  return {};
}

Result<void> UserDb::remove_user(std::string_view name) {
  auto it =
      std::find_if(users_.begin(), users_.end(), [&](const User& u) { return u.name == name; });
  if (it == users_.end()) return no_user(name);
  users_.erase(it);
  return {};
}

Result<void> UserDb::set_password(std::string_view name, std::string_view password) {
  User* u = find_mutable(name);
  if (u == nullptr) return no_user(name);
  auto hash = hash_password(password);
  if (!hash) return hash.error();
  u->hash = std::move(*hash);
  return {};
}

Result<void> UserDb::set_role(std::string_view name, Role role) {
  User* u = find_mutable(name);
  if (u == nullptr) return no_user(name);
  u->role = role;
  return {};
}

Result<void> UserDb::set_groups(std::string_view name, const std::vector<std::string>& groups) {
  User* u = find_mutable(name);
  if (u == nullptr) return no_user(name);
  for (const std::string& g : groups) {
    if (find_group(g) == nullptr) return no_group(g);
  }
  u->groups = groups;
  return {};
}

Result<void> UserDb::add_group(std::string_view name) {
  if (!valid_name(name)) return bad_name("group", name);
  if (find_group(name) != nullptr) {
    return Error{ErrorCode::InvalidArgument, fmt::format("group \"{}\" exists", name)};
  }
  groups_.push_back(GroupPerms{std::string(name), {}, {}});
  return {};
}

Result<void> UserDb::remove_group(std::string_view name) {
  if (find_group(name) == nullptr) return no_group(name);
  for (const User& u : users_) {
    if (std::find(u.groups.begin(), u.groups.end(), name) != u.groups.end()) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("group \"{}\" still has member \"{}\"; change its groups first",
                               name, u.name)};
    }
  }
  std::erase_if(groups_, [&](const GroupPerms& g) { return g.name == name; });
  return {};
}

Result<void> UserDb::grant(std::string_view group, GrantKind kind, std::string_view value) {
  GroupPerms* g = find_group_mutable(group);
  if (g == nullptr) return no_group(group);
  if (kind == GrantKind::Exporter) {
    auto a = IpAddress::parse(value);
    if (!a) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("exporter \"{}\" is not an IP address", value)};
    }
    if (std::find(g->exporters.begin(), g->exporters.end(), *a) == g->exporters.end()) {
      g->exporters.push_back(*a);
    }
    return {};
  }
  if (value.find('/') != std::string_view::npos || IpAddress::parse(value)) {
    auto c = Cidr::parse(value, Cidr::HostBits::Reject);
    if (!c)
      return Error{ErrorCode::InvalidArgument, fmt::format("\"{}\": {}", value, c.error().message)};
  }
  if (std::find(g->ip_groups.begin(), g->ip_groups.end(), value) == g->ip_groups.end()) {
    g->ip_groups.emplace_back(value);
  }
  return {};
}

Result<void> UserDb::revoke(std::string_view group, GrantKind kind, std::string_view value) {
  GroupPerms* g = find_group_mutable(group);
  if (g == nullptr) return no_group(group);
  std::size_t removed = 0;
  if (kind == GrantKind::Exporter) {
    auto a = IpAddress::parse(value);
    if (a) removed = std::erase(g->exporters, *a);
  } else {
    removed = std::erase(g->ip_groups, std::string(value));
  }
  if (removed == 0) {
    return Error{
        ErrorCode::NotFound,
        fmt::format("group \"{}\" has no grant \"{}\"; see 'flowscope user groups'", group, value)};
  }
  return {};
}

}  // namespace flowscope::server
