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

Result<InterfaceGrant> parse_interface_grant(std::string_view value) {
  const std::size_t colon = value.rfind(':');
  Error bad{ErrorCode::InvalidArgument,
            fmt::format("interface \"{}\" is not EXPORTER:IFINDEX, e.g. 192.0.2.1:3", value)};
  if (colon == std::string_view::npos) return bad;
  auto a = IpAddress::parse(value.substr(0, colon));
  const std::string digits(value.substr(colon + 1));
  if (!a || digits.empty() || digits.size() > 10 ||
      digits.find_first_not_of("0123456789") != std::string::npos) {
    return bad;
  }
  const std::uint64_t index = std::stoull(digits);
  if (index > 0xFFFFFFFFu) return bad;
  return InterfaceGrant{*a, static_cast<std::uint32_t>(index)};
}

std::string sha256_hex(std::string_view text) {
  unsigned char digest[crypto_hash_sha256_BYTES];
  crypto_hash_sha256(digest, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  char hex[crypto_hash_sha256_BYTES * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
  return std::string(hex);
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  hex.pop_back();
  return hex;
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
      for (const auto& i : g.value("interfaces", nlohmann::json::array())) {
        auto a = IpAddress::parse(i.at("exporter").get<std::string>());
        if (!a)
          return bad(
              fmt::format("group \"{}\": an interface's exporter is not an address", perms.name));
        perms.interfaces.push_back(InterfaceGrant{*a, i.at("if_index").get<std::uint32_t>()});
      }
      perms.restricted = g.value("restricted", false);
      perms.id = g.value("id", std::uint32_t{0});
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
      user.id = u.value("id", std::uint32_t{0});
      db.users_.push_back(std::move(user));
    }
    for (const auto& t : j.value("tokens", nlohmann::json::array())) {
      ApiToken token;
      token.id = t.at("id").get<std::string>();
      token.user = t.at("user").get<std::string>();
      token.hash = t.at("hash").get<std::string>();
      token.label = t.value("label", "");
      token.created_ms = t.value("created_ms", std::int64_t{0});
      db.tokens_.push_back(std::move(token));
    }
  } catch (const nlohmann::json::exception& e) {
    return bad(e.what());
  }
  db.assign_ids();
  return db;
}

// Files written before ids existed get them in file order; new entries take the next free one.
void UserDb::assign_ids() {
  std::uint32_t next_user = 1;
  std::uint32_t next_group = kFirstGroupId;
  for (const User& u : users_) next_user = std::max(next_user, u.id + 1);
  for (const GroupPerms& g : groups_) next_group = std::max(next_group, g.id + 1);
  for (User& u : users_) {
    if (u.id == 0) u.id = next_user++;
  }
  for (GroupPerms& g : groups_) {
    if (g.id < kFirstGroupId) g.id = next_group++;
  }
}

Result<void> UserDb::save(const std::filesystem::path& path) const {
  nlohmann::json j;
  j["version"] = kUsersVersion;
  j["groups"] = nlohmann::json::array();
  for (const GroupPerms& g : groups_) {
    std::vector<std::string> exporters;
    for (const IpAddress& e : g.exporters) exporters.push_back(fmt::format("{}", e));
    nlohmann::json interfaces = nlohmann::json::array();
    for (const InterfaceGrant& i : g.interfaces) {
      interfaces.push_back({{"exporter", fmt::format("{}", i.exporter)}, {"if_index", i.if_index}});
    }
    nlohmann::json group = {
        {"name", g.name}, {"id", g.id}, {"ip_groups", g.ip_groups}, {"exporters", exporters}};
    if (!g.interfaces.empty()) group["interfaces"] = std::move(interfaces);
    if (g.restricted) group["restricted"] = true;
    j["groups"].push_back(std::move(group));
  }
  j["users"] = nlohmann::json::array();
  for (const User& u : users_) {
    j["users"].push_back({{"name", u.name},
                          {"id", u.id},
                          {"hash", u.hash},
                          {"role", role_name(u.role)},
                          {"groups", u.groups}});
  }
  j["tokens"] = nlohmann::json::array();
  for (const ApiToken& t : tokens_) {
    j["tokens"].push_back({{"id", t.id},
                           {"user", t.user},
                           {"hash", t.hash},
                           {"label", t.label},
                           {"created_ms", t.created_ms}});
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
  users_.push_back(User{std::string(name), std::move(*hash), role, {}, 0});
  assign_ids();
  return {};
}

Result<void> UserDb::remove_user(std::string_view name) {
  auto it =
      std::find_if(users_.begin(), users_.end(), [&](const User& u) { return u.name == name; });
  if (it == users_.end()) return no_user(name);
  users_.erase(it);
  std::erase_if(tokens_, [&](const ApiToken& t) { return t.user == name; });
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
  GroupPerms g;
  g.name = std::string(name);
  groups_.push_back(std::move(g));
  assign_ids();
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
  if (kind == GrantKind::Interface) {
    auto i = parse_interface_grant(value);
    if (!i) return i.error();
    if (std::find(g->interfaces.begin(), g->interfaces.end(), *i) == g->interfaces.end()) {
      g->interfaces.push_back(*i);
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
  } else if (kind == GrantKind::Interface) {
    if (auto i = parse_interface_grant(value)) removed = std::erase(g->interfaces, *i);
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

Result<void> UserDb::rename_user(std::string_view from, std::string_view to) {
  if (!valid_name(to)) return bad_name("user", to);
  User* u = find_mutable(from);
  if (u == nullptr) return no_user(from);
  if (find(to) != nullptr) {
    return Error{ErrorCode::InvalidArgument, fmt::format("user \"{}\" exists", to)};
  }
  for (ApiToken& t : tokens_) {
    if (t.user == from) t.user = std::string(to);
  }
  u->name = std::string(to);
  return {};
}

Result<void> UserDb::set_restricted(std::string_view group, bool restricted) {
  GroupPerms* g = find_group_mutable(group);
  if (g == nullptr) return no_group(group);
  g->restricted = restricted;
  return {};
}

Result<std::string> UserDb::add_token(std::string_view user, std::string_view label,
                                      std::int64_t now_ms) {
  if (sodium_init() < 0) return Error{ErrorCode::Io, "libsodium failed to initialise"};
  if (find(user) == nullptr) return no_user(user);
  ApiToken t;
  do {
    t.id = random_hex(4);
  } while (
      std::any_of(tokens_.begin(), tokens_.end(), [&](const ApiToken& o) { return o.id == t.id; }));
  const std::string token = "fst_" + t.id + "_" + random_hex(16);
  t.user = std::string(user);
  t.hash = sha256_hex(token);
  t.label = std::string(label);
  t.created_ms = now_ms;
  tokens_.push_back(std::move(t));
  return token;
}

Result<void> UserDb::remove_token(std::string_view id) {
  if (std::erase_if(tokens_, [&](const ApiToken& t) { return t.id == id; }) == 0) {
    return Error{ErrorCode::NotFound,
                 fmt::format("no token \"{}\"; see 'flowscope user token list'", id)};
  }
  return {};
}

const ApiToken* UserDb::find_token(std::string_view token) const {
  if (sodium_init() < 0) return nullptr;
  const std::string hash = sha256_hex(token);
  const ApiToken* found = nullptr;
  // Every stored hash is compared (no early exit), each in constant time.
  for (const ApiToken& t : tokens_) {
    if (t.hash.size() == hash.size() &&
        sodium_memcmp(t.hash.data(), hash.data(), hash.size()) == 0) {
      found = &t;
    }
  }
  return found;
}

const User* UserDb::find_id(std::uint32_t id) const {
  for (const User& u : users_) {
    if (u.id == id) return &u;
  }
  return nullptr;
}

const GroupPerms* UserDb::find_group_id(std::uint32_t id) const {
  for (const GroupPerms& g : groups_) {
    if (g.id == id) return &g;
  }
  return nullptr;
}

}  // namespace flowscope::server
