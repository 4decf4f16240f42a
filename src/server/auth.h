#pragma once
// AuthService: logins, session keys, throttling and the audit log of the query server
// (docs/users.md).
//
// - A login checks the password against the user's argon2id hash. It may ask for a session
//   key (`-us`): 32 random bytes, hex. A key is accepted only from the address that obtained
//   it, expires after `key_idle` without use (each use resets the idle timer) and after
//   `max_key_age` (maxsessionkeyage) whatever its use.
// - A key dies when its user changes: a users reload (reload_users) that finds the user's
//   password, role, groups or one of its groups' permissions changed, or the user removed,
//   revokes the user's keys (refused as key_revoked from then on).
// - An unknown user's password is checked against a dummy hash of the same cost, so that the
//   refusal takes as long as for a wrong password: the timing does not tell which names exist.
// - Throttling: after `max_failures` failed logins from one address within `failure_window`,
//   that address is refused for `lockout`, even with the right password (and so is the user
//   name, from any address, so that a distributed guesser gains nothing). The tables are
//   bounded (ThrottleTable): at the cap they forget quiet entries first, not the lockouts.
// - API tokens (docs/http.md): a token acts as its user; it is refused when unknown (counted
//   like a wrong key toward the lockout) or used from outside the token allow-list ([http]
//   allow_file). Tokens live in the user file, so a reload or an edit through edit_users() that
//   removes one ends it at once.
// - Audit: one JSON line per login, failure, refusal, key use and admin action, appended to
//   the audit log (never the password).
//
// Time comes from an injected clock so that tests expire keys without waiting.
// Threads: every method from any thread (one mutex; argon2id verification runs outside it).

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/cidr.h"
#include "core/ip_address.h"
#include "core/record_batch.h"
#include "core/result.h"
#include "core/time.h"
#include "server/server_config.h"
#include "server/throttle_table.h"
#include "server/users.h"

namespace flowscope::enrich {
class IpGroups;
}

namespace flowscope::server {

using Clock = std::function<TimeMs()>;
Clock system_clock();

// Why a login or key was refused; the protocol sends the name.
enum class AuthFailure : std::uint8_t {
  BadCredentials,  // unknown user or wrong password (one answer for both)
  Throttled,       // too many failures: wait for the lockout to pass
  KeyUnknown,      // no such key (never issued, or expired and forgotten)
  KeyExpired,      // idle too long or older than maxsessionkeyage
  KeyWrongSource,  // used from another address than the one that obtained it
  KeyRevoked,      // its user changed or was removed since it was issued
  TokenInvalid,    // an API token that is unknown or revoked
  AddressRefused,  // an API token used from outside [http] allow_file
};
std::string_view auth_failure_name(AuthFailure f);

// Who is asking, and what they may see.
struct Principal {
  std::string user;
  Role role = Role::ReadOnly;
  bool all_data = false;  // admin
  // One entry per group of the user: a session is visible when any group permits it.
  std::vector<GroupPerms> groups;
};

struct LoginOk {
  Principal principal;
  std::string key;  // empty unless asked for
};

struct AuthStats {
  std::uint64_t logins_ok = 0;
  std::uint64_t logins_failed = 0;
  std::uint64_t throttled = 0;
  std::uint64_t key_uses = 0;
  std::uint64_t keys_refused = 0;
  std::uint64_t keys_active = 0;
  std::uint64_t keys_revoked = 0;        // their user changed or was removed (reload)
  std::uint64_t throttle_evictions = 0;  // entries the throttling tables forgot at their cap
  // The same by table and ThrottleEviction reason.
  std::array<std::uint64_t, kThrottleEvictionCount> address_evictions{};
  std::array<std::uint64_t, kThrottleEvictionCount> user_evictions{};
};

class AuthService {
 public:
  AuthService(AuthConfig config, std::filesystem::path users_file, std::filesystem::path audit_log,
              Clock clock);

  // Re-reads the user file (start, SIGHUP). On error the previous users stay.
  Result<void> reload_users();
  void set_config(const AuthConfig& config);
  // Closes and reopens the audit log at its path (SIGHUP), so that logrotate can move the file
  // away without copytruncate. Any thread.
  void reopen_audit();

  // On refusal the error's message is auth_failure_name() and what to do.
  Result<LoginOk> login(const std::string& user, const std::string& password,
                        const IpAddress& source, bool want_key);
  Result<Principal> resume(const std::string& key, const IpAddress& source);
  // An API token, from `source`; `allow` is the token allow-list (empty: any address).
  Result<Principal> token(const std::string& token, const IpAddress& source,
                          const std::vector<Cidr>& allow);
  // Ends a session key obtained from `source` (logout); false when there was none.
  bool end_key(const std::string& key, const IpAddress& source);
  // Changes the user file: reads it, applies `change`, saves it and reloads (keys of changed
  // users are revoked as at SIGHUP). One edit at a time; on an error nothing is written.
  Result<void> edit_users(const std::function<Result<void>(UserDb&)>& change);
  std::shared_ptr<const UserDb> users() const;
  // The principal of a user of the current user file (admin actions name users).
  Result<Principal> principal(const std::string& user) const;

  void audit(std::string_view event, std::string_view user, const IpAddress& source,
             std::string_view detail = {});
  AuthStats stats() const;
  TimeMs now() const { return clock_(); }

 private:
  struct KeyState {
    std::string user;
    IpAddress origin;
    TimeMs created;
    TimeMs last_used;
    std::string revoked;  // why, once its user changed; kept until it would have expired
  };
  static bool throttled(const Failures* f, TimeMs now) { return f && f->locked_until > now; }
  // REQUIRES: mutex_ held.
  void record_failure(const IpAddress& source, const std::string& user, TimeMs now);
  static std::string user_at(const std::string& user, const IpAddress& source);
  void count_failure(Failures& f, TimeMs now) const;
  Result<Principal> principal_of(const std::string& user) const;
  void write_audit(const std::string& line);  // one JSON line; takes mutex_

  Clock clock_;
  std::filesystem::path users_file_;
  std::filesystem::path audit_path_;

  std::mutex edit_mutex_;  // edit_users(): one read-change-write at a time
  mutable std::mutex mutex_;
  AuthConfig config_;                    // guarded by mutex_
  std::shared_ptr<const UserDb> users_;  // guarded by mutex_
  // argon2id of a random password with the users' parameters (made once, at construction).
  std::string dummy_hash_;

  std::map<std::string, KeyState> keys_;  // guarded by mutex_
  ThrottleTable<IpAddress> by_address_;   // guarded by mutex_
  ThrottleTable<std::string> by_user_;    // keyed by user_at(user, address); guarded by mutex_
  AuthStats stats_;                       // guarded by mutex_
  std::ofstream audit_;                   // guarded by mutex_
};

// Appends an admin action done locally (`flowscope user`) to the audit log at `path`, as the
// user running the command from source "local".
void append_audit(const std::filesystem::path& path, std::string_view event,
                  std::string_view detail);

// Whether `address` is in `allow` (an empty list allows every address).
bool allowed(const std::vector<Cidr>& allow, const IpAddress& address);

}  // namespace flowscope::server
