#include "server/auth.h"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <sodium.h>

#include "core/log.h"

namespace flowscope::server {
namespace {

constexpr std::size_t kKeyBytes = 32;

Error refused(AuthFailure f, std::string_view hint) {
  return Error{ErrorCode::InvalidArgument, fmt::format("{}: {}", auth_failure_name(f), hint)};
}

std::string random_hex(std::size_t bytes) {
  std::vector<unsigned char> raw(bytes);
  randombytes_buf(raw.data(), raw.size());
  std::string hex(bytes * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), raw.data(), raw.size());
  hex.pop_back();
  return hex;
}

bool same_perms(const GroupPerms* a, const GroupPerms* b) {
  if (a == nullptr || b == nullptr) return a == b;
  return a->ip_groups == b->ip_groups && a->exporters == b->exporters &&
         a->interfaces == b->interfaces && a->restricted == b->restricted;
}

// What changed about `user` between two user files, as far as its keys are concerned; nullopt
// when nothing did. (A principal is rebuilt from the file at each key use, but a key was issued
// for a password and for permissions: a change is the reason to end it.)
std::optional<std::string> change_of(const UserDb& before, const UserDb& after,
                                     const std::string& user) {
  const User* a = before.find(user);
  const User* b = after.find(user);
  if (b == nullptr) return fmt::format("user \"{}\" was removed", user);
  if (a == nullptr) return fmt::format("user \"{}\" was replaced", user);
  if (a->hash != b->hash) return fmt::format("the password of \"{}\" changed", user);
  if (a->role != b->role) return fmt::format("the role of \"{}\" changed", user);
  if (a->groups != b->groups) return fmt::format("the groups of \"{}\" changed", user);
  for (const std::string& g : b->groups) {
    if (!same_perms(before.find_group(g), after.find_group(g))) {
      return fmt::format("the permissions of group \"{}\" of \"{}\" changed", g, user);
    }
  }
  return std::nullopt;
}

}  // namespace

Clock system_clock() {
  return [] { return std::chrono::time_point_cast<DurationMs>(std::chrono::system_clock::now()); };
}

std::string_view auth_failure_name(AuthFailure f) {
  switch (f) {
    case AuthFailure::BadCredentials: return "bad_credentials";
    case AuthFailure::Throttled: return "throttled";
    case AuthFailure::KeyUnknown: return "key_unknown";
    case AuthFailure::KeyExpired: return "key_expired";
    case AuthFailure::KeyWrongSource: return "key_wrong_source";
    case AuthFailure::KeyRevoked: return "key_revoked";
    case AuthFailure::TokenInvalid: return "invalidToken";
    case AuthFailure::AddressRefused: return "address_refused";
  }
  return "bad_credentials";
}

AuthService::AuthService(AuthConfig config, std::filesystem::path users_file,
                         std::filesystem::path audit_log, Clock clock)
    : clock_(std::move(clock)),
      users_file_(std::move(users_file)),
      audit_path_(std::move(audit_log)),
      config_(std::move(config)),
      users_(std::make_shared<UserDb>()) {
  audit_.open(audit_path_, std::ios::app);
  if (!audit_) {
    logger("server")->error("cannot open the audit log {}; audit events go to this log",
                            audit_path_.string());
  }
  // Same parameters as every user's hash (hash_password), so that verifying against it costs
  // what a real verification costs.
  if (auto dummy = hash_password(random_hex(16)); dummy) {
    dummy_hash_ = std::move(*dummy);
  } else {
    logger("server")->warn(
        "no dummy password hash ({}): refusals of unknown user names are "
        "faster than of wrong passwords",
        dummy.error().message);
  }
}

Result<void> AuthService::reload_users() {
  auto db = UserDb::load(users_file_);
  if (!db) return db.error();
  auto next = std::make_shared<const UserDb>(std::move(*db));
  std::map<std::string, std::optional<std::string>> changes;  // per user with keys
  std::uint64_t revoked = 0;
  {
    std::lock_guard lock(mutex_);
    for (auto& [key, k] : keys_) {
      auto it = changes.find(k.user);
      if (it == changes.end())
        it = changes.emplace(k.user, change_of(*users_, *next, k.user)).first;
      if (it->second && k.revoked.empty()) {
        k.revoked = *it->second;
        ++revoked;
      }
    }
    users_ = std::move(next);
    stats_.keys_revoked += revoked;
  }
  for (const auto& [user, change] : changes) {
    if (!change) continue;
    logger("server")->info("users reloaded: session keys of \"{}\" revoked: {}", user, *change);
    write_audit(nlohmann::json{
        {"time", format_time(clock_())},
        {"event", "keys_revoked"},
        {"user", user},
        {"source", "server"},
        {"detail",
         *change}}.dump());
  }
  return {};
}

void AuthService::set_config(const AuthConfig& config) {
  std::lock_guard lock(mutex_);
  config_ = config;
}

void AuthService::audit(std::string_view event, std::string_view user, const IpAddress& source,
                        std::string_view detail) {
  nlohmann::json line = {{"time", format_time(clock_())},
                         {"event", event},
                         {"user", user},
                         {"source", fmt::format("{}", source)}};
  if (!detail.empty()) line["detail"] = detail;
  // Names and details may come from HTTP forms, which are bytes: never throw on bad UTF-8.
  write_audit(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void AuthService::reopen_audit() {
  std::lock_guard lock(mutex_);
  audit_.close();
  audit_.clear();
  audit_.open(audit_path_, std::ios::app);
  if (!audit_) {
    logger("server")->error("cannot reopen the audit log {}; audit events go to this log",
                            audit_path_.string());
  }
}

void AuthService::write_audit(const std::string& line) {
  std::lock_guard lock(mutex_);
  if (audit_) {
    audit_ << line << '\n';
    audit_.flush();
  } else {
    logger("server")->info("audit: {}", line);
  }
}

void AuthService::count_failure(Failures& f, TimeMs now) const {
  std::erase_if(f.times, [&](TimeMs t) { return now - t >= config_.failure_window; });
  f.times.push_back(now);
  if (f.times.size() >= config_.max_failures) {
    f.locked_until = now + config_.lockout;
    f.times.clear();
  }
}

// A user's failures count per source address: five bad passwords lock the user out from the
// address they came from only, so a guesser elsewhere cannot lock the real user out (F16).
std::string AuthService::user_at(const std::string& user, const IpAddress& source) {
  return user + '\n' + source.to_string();
}

void AuthService::record_failure(const IpAddress& source, const std::string& user, TimeMs now) {
  auto count = [&](Failures& f) { count_failure(f, now); };
  by_address_.update(source, now, count);
  if (!user.empty()) by_user_.update(user_at(user, source), now, count);
}

Result<Principal> AuthService::principal_of(const std::string& user) const {
  const User* u = users_->find(user);
  if (u == nullptr) return refused(AuthFailure::BadCredentials, "the user no longer exists");
  Principal p;
  p.user = u->name;
  p.role = u->role;
  p.all_data = u->role == Role::Admin;
  for (const std::string& g : u->groups) {
    if (const GroupPerms* perms = users_->find_group(g)) p.groups.push_back(*perms);
  }
  return p;
}

Result<LoginOk> AuthService::login(const std::string& user, const std::string& password,
                                   const IpAddress& source, bool want_key) {
  std::shared_ptr<const UserDb> db;
  {
    std::lock_guard lock(mutex_);
    const TimeMs now = clock_();
    if (throttled(by_address_.find(source), now) ||
        throttled(by_user_.find(user_at(user, source)), now)) {
      ++stats_.throttled;
      db = nullptr;
    } else {
      db = users_;
    }
  }
  if (db == nullptr) {
    audit("login_throttled", user, source);
    return refused(AuthFailure::Throttled,
                   "too many failed logins; wait for the lockout to pass and try again");
  }
  // argon2id takes ~50 ms and 64 MiB: outside the lock. An unknown user costs the same
  // verification (against the dummy hash), so that its refusal does not come sooner.
  const User* u = db->find(user);
  const bool verified = verify_password(u != nullptr ? u->hash : dummy_hash_, password);
  const bool ok = verified && u != nullptr;
  std::unique_lock lock(mutex_);
  const TimeMs now = clock_();
  if (!ok) {
    ++stats_.logins_failed;
    record_failure(source, user, now);
    lock.unlock();
    audit("login_failed", user, source, u == nullptr ? "unknown user" : "wrong password");
    return refused(AuthFailure::BadCredentials, "wrong user name or password");
  }
  ++stats_.logins_ok;
  by_address_.erase(source);
  by_user_.erase(user_at(user, source));
  auto principal = principal_of(user);
  if (!principal) return principal.error();
  LoginOk out{std::move(*principal), {}};
  if (want_key) {
    out.key = random_hex(kKeyBytes);
    keys_[out.key] = KeyState{user, source, now, now, {}};
  }
  lock.unlock();
  audit(want_key ? "login_key" : "login", user, source);
  return out;
}

Result<Principal> AuthService::resume(const std::string& key, const IpAddress& source) {
  std::unique_lock lock(mutex_);
  const TimeMs now = clock_();
  // Forget keys past their age or idle limit, so the table stays bounded by live keys.
  std::erase_if(keys_, [&](const auto& kv) {
    return now - kv.second.created >= config_.max_key_age + config_.key_idle &&
           now - kv.second.last_used >= config_.key_idle * 2;
  });
  auto it = keys_.find(key);
  std::optional<AuthFailure> failure;
  std::string user;
  std::string revoked;
  if (throttled(by_address_.find(source), now)) {
    failure = AuthFailure::Throttled;
  } else if (it == keys_.end()) {
    failure = AuthFailure::KeyUnknown;
  } else {
    KeyState& k = it->second;
    user = k.user;
    if (now - k.last_used >= config_.key_idle || now - k.created >= config_.max_key_age) {
      failure = AuthFailure::KeyExpired;
      keys_.erase(it);
    } else if (!(k.origin == source)) {
      failure = AuthFailure::KeyWrongSource;
    } else if (!k.revoked.empty()) {
      failure = AuthFailure::KeyRevoked;
      revoked = k.revoked;
    } else {
      k.last_used = now;
    }
  }
  if (failure) {
    ++stats_.keys_refused;
    // A revoked key was issued, not guessed: its use does not count toward a lockout.
    if (*failure != AuthFailure::Throttled && *failure != AuthFailure::KeyRevoked) {
      record_failure(source, {}, now);
    }
    lock.unlock();
    audit("key_refused", user, source, auth_failure_name(*failure));
    switch (*failure) {
      case AuthFailure::KeyRevoked:
        return refused(*failure,
                       fmt::format("the session key was revoked when the users were reloaded: "
                                   "{}; log in again with -un/-up -us",
                                   revoked));
      case AuthFailure::KeyExpired:
        return refused(*failure, "the session key expired; log in again with -un/-up -us");
      case AuthFailure::KeyWrongSource:
        return refused(*failure, "the session key belongs to another client address");
      case AuthFailure::Throttled:
        return refused(*failure, "too many failures from this address; wait and try again");
      default: return refused(*failure, "no such session key; log in again with -un/-up -us");
    }
  }
  ++stats_.key_uses;
  auto p = principal_of(user);
  lock.unlock();
  audit("key_used", user, source);
  return p;
}

Result<Principal> AuthService::token(const std::string& token, const IpAddress& source,
                                     const std::vector<Cidr>& allow) {
  std::unique_lock lock(mutex_);
  const TimeMs now = clock_();
  std::optional<AuthFailure> failure;
  std::string user;
  if (throttled(by_address_.find(source), now)) {
    failure = AuthFailure::Throttled;
  } else if (const ApiToken* t = users_->find_token(token); t == nullptr) {
    failure = AuthFailure::TokenInvalid;
  } else {
    user = t->user;
    if (!allowed(allow, source)) failure = AuthFailure::AddressRefused;
  }
  if (failure) {
    ++stats_.keys_refused;
    if (*failure == AuthFailure::TokenInvalid) record_failure(source, {}, now);
    lock.unlock();
    audit("token_refused", user, source, auth_failure_name(*failure));
    switch (*failure) {
      case AuthFailure::AddressRefused:
        return refused(*failure,
                       fmt::format("API tokens are not accepted from {}: the address is not in "
                                   "[http] allow_file",
                                   source));
      case AuthFailure::Throttled:
        return refused(*failure, "too many failures from this address; wait and try again");
      default:
        return refused(*failure,
                       "no such API token (revoked, or never issued); make one with 'flowscope "
                       "user token add USER'");
    }
  }
  ++stats_.key_uses;
  auto p = principal_of(user);
  lock.unlock();
  audit("token_used", user, source);
  return p;
}

bool AuthService::end_key(const std::string& key, const IpAddress& source) {
  std::string user;
  {
    std::lock_guard lock(mutex_);
    auto it = keys_.find(key);
    if (it == keys_.end() || !(it->second.origin == source)) return false;
    user = it->second.user;
    keys_.erase(it);
  }
  audit("logout", user, source);
  return true;
}

Result<void> AuthService::edit_users(const std::function<Result<void>(UserDb&)>& change) {
  std::lock_guard edit(edit_mutex_);
  auto db = UserDb::load(users_file_);
  if (!db) return db.error();
  if (auto r = change(*db); !r) return r.error();
  if (auto r = db->save(users_file_); !r) return r.error();
  return reload_users();
}

std::shared_ptr<const UserDb> AuthService::users() const {
  std::lock_guard lock(mutex_);
  return users_;
}

Result<Principal> AuthService::principal(const std::string& user) const {
  std::lock_guard lock(mutex_);
  return principal_of(user);
}

AuthStats AuthService::stats() const {
  std::lock_guard lock(mutex_);
  AuthStats s = stats_;
  s.keys_active = keys_.size();
  for (std::size_t r = 0; r < kThrottleEvictionCount; ++r) {
    s.address_evictions[r] = by_address_.evictions(static_cast<ThrottleEviction>(r));
    s.user_evictions[r] = by_user_.evictions(static_cast<ThrottleEviction>(r));
  }
  s.throttle_evictions = by_address_.evictions() + by_user_.evictions();
  return s;
}

void append_audit(const std::filesystem::path& path, std::string_view event,
                  std::string_view detail) {
  const char* who = std::getenv("USER");
  nlohmann::json line = {{"time", format_time(system_clock()())},
                         {"event", event},
                         {"user", who != nullptr ? who : ""},
                         {"source", "local"},
                         {"detail", detail}};
  std::ofstream out(path, std::ios::app);
  if (out) {
    out << line.dump() << '\n';
  } else {
    logger("server")->warn("cannot append to the audit log {}", path.string());
  }
}

bool allowed(const std::vector<Cidr>& allow, const IpAddress& address) {
  if (allow.empty()) return true;
  return std::any_of(allow.begin(), allow.end(),
                     [&](const Cidr& c) { return c.contains(address); });
}

}  // namespace flowscope::server
