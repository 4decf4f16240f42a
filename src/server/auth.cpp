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
// Bound of the throttling tables: beyond it the oldest quiet entries are forgotten.
constexpr std::size_t kMaxTracked = 65536;

Error refused(AuthFailure f, std::string_view hint) {
  return Error{ErrorCode::InvalidArgument, fmt::format("{}: {}", auth_failure_name(f), hint)};
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
}

Result<void> AuthService::reload_users() {
  auto db = UserDb::load(users_file_);
  if (!db) return db.error();
  std::lock_guard lock(mutex_);
  users_ = std::make_shared<const UserDb>(std::move(*db));
  // Keys of users that were removed stop working now.
  std::erase_if(keys_, [&](const auto& kv) { return users_->find(kv.second.user) == nullptr; });
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
  std::lock_guard lock(mutex_);
  if (audit_) {
    audit_ << line.dump() << '\n';
    audit_.flush();
  } else {
    logger("server")->info("audit: {}", line.dump());
  }
}

bool AuthService::throttled(Failures& f, TimeMs now) const { return f.locked_until > now; }

void AuthService::record_failure(Failures& f, TimeMs now) {
  std::erase_if(f.times, [&](TimeMs t) { return now - t >= config_.failure_window; });
  f.times.push_back(now);
  if (f.times.size() >= config_.max_failures) {
    f.locked_until = now + config_.lockout;
    f.times.clear();
  }
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
    if (by_address_.size() > kMaxTracked) by_address_.clear();
    if (by_user_.size() > kMaxTracked) by_user_.clear();
    if (throttled(by_address_[source], now) || throttled(by_user_[user], now)) {
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
  // argon2id takes ~50 ms and 64 MiB: outside the lock.
  const User* u = db->find(user);
  const bool ok = u != nullptr && verify_password(u->hash, password);
  std::unique_lock lock(mutex_);
  const TimeMs now = clock_();
  if (!ok) {
    ++stats_.logins_failed;
    record_failure(by_address_[source], now);
    record_failure(by_user_[user], now);
    lock.unlock();
    audit("login_failed", user, source, u == nullptr ? "unknown user" : "wrong password");
    return refused(AuthFailure::BadCredentials, "wrong user name or password");
  }
  ++stats_.logins_ok;
  by_address_.erase(source);
  by_user_.erase(user);
  auto principal = principal_of(user);
  if (!principal) return principal.error();
  LoginOk out{std::move(*principal), {}};
  if (want_key) {
    unsigned char raw[kKeyBytes];
    randombytes_buf(raw, sizeof raw);
    char hex[kKeyBytes * 2 + 1];
    sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
    out.key = hex;
    keys_[out.key] = KeyState{user, source, now, now};
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
  if (throttled(by_address_[source], now)) {
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
    } else {
      k.last_used = now;
    }
  }
  if (failure) {
    ++stats_.keys_refused;
    if (*failure != AuthFailure::Throttled) record_failure(by_address_[source], now);
    lock.unlock();
    audit("key_refused", user, source, auth_failure_name(*failure));
    switch (*failure) {
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

AuthStats AuthService::stats() const {
  std::lock_guard lock(mutex_);
  AuthStats s = stats_;
  s.keys_active = keys_.size();
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
