// Authentication (F15): a login for an unknown user takes as long as a wrong password (no user
// enumeration by timing); session keys die when their user's password, role, groups or group
// permissions change, or the user is removed, at the users reload; the throttling tables evict
// their oldest quiet entries at the cap instead of forgetting every lockout at once.
#include "server/auth.h"

#include <algorithm>
#include <chrono>
#include <vector>

#include <gtest/gtest.h>

#include "server/server_fixture.h"

namespace flowscope::server::testing {
namespace {

class AuthTest : public ServerFixture {
 protected:
  AuthService make_auth(AuthConfig config) {
    return AuthService(std::move(config), users_file(), dir_ / "audit.log", clock_.clock());
  }
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// An unknown user was refused in 0.5 ms, a wrong password in 50 ms (argon2id).
TEST_F(AuthTest, UnknownUserTakesAsLongAsAWrongPassword) {
  make_users();
  AuthConfig config;
  config.max_failures = 1000;  // no lockout during the measurement
  AuthService auth = make_auth(config);
  ASSERT_TRUE(auth.reload_users());
  const IpAddress source = *IpAddress::parse("127.0.0.1");
  auto time_login = [&](const std::string& user) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = auth.login(user, "not-the-password", source, false);
    const auto t1 = std::chrono::steady_clock::now();
    EXPECT_FALSE(r);
    if (!r) {
      EXPECT_EQ(r.error().message.rfind("bad_credentials", 0), 0u) << r.error().message;
    }
    return std::chrono::duration<double, std::milli>(t1 - t0).count();
  };
  // Interleaved, so that load on the machine hits both series alike; medians ignore outliers.
  std::vector<double> unknown, wrong;
  for (int i = 0; i < 15; ++i) {
    unknown.push_back(time_login("mallory" + std::to_string(i)));
    wrong.push_back(time_login("bob"));
  }
  const double ratio = median(unknown) / median(wrong);
  EXPECT_GT(ratio, 0.5) << "unknown user " << median(unknown) << " ms, wrong password "
                        << median(wrong) << " ms";
  EXPECT_LT(ratio, 2.0) << "unknown user " << median(unknown) << " ms, wrong password "
                        << median(wrong) << " ms";
}

class KeyRevocationTest : public AuthTest {
 protected:
  void SetUp() override {
    AuthTest::SetUp();
    make_users();
    start(config());
  }
  std::string key_of(const std::string& user, const std::string& password) {
    ClientOptions o = login_as(user, password);
    o.want_key = true;
    auto c = Client::connect(o);
    EXPECT_TRUE(c) << c.error().message;
    return c ? c->key() : std::string();
  }
  void edit_users(const std::function<void(UserDb&)>& edit) {
    auto db = UserDb::load(users_file());
    ASSERT_TRUE(db);
    edit(*db);
    ASSERT_TRUE(db->save(users_file()));
    // What SIGHUP does: the configuration (here unchanged) is applied and the users reread.
    ASSERT_TRUE(server_->reload(config()));
  }
  void expect_revoked(const std::string& key, const std::string& user) {
    auto r = Client::connect(with_key(key));
    ASSERT_FALSE(r) << "the key of " << user << " still works";
    EXPECT_EQ(r.error().message.rfind("key_revoked: ", 0), 0u) << r.error().message;
    EXPECT_NE(r.error().message.find("\"" + user + "\""), std::string::npos) << r.error().message;
    EXPECT_NE(r.error().message.find("log in again"), std::string::npos) << r.error().message;
  }
};

TEST_F(KeyRevocationTest, UnchangedUsersKeepTheirKeysAcrossAReload) {
  const std::string bob = key_of("bob", "bobpw");
  edit_users([](UserDb&) {});
  EXPECT_TRUE(Client::connect(with_key(bob)));
  // Another user's change leaves bob's key alone.
  edit_users([](UserDb& db) { ASSERT_TRUE(db.set_password("nogroup", "pw2")); });
  EXPECT_TRUE(Client::connect(with_key(bob)));
}

TEST_F(KeyRevocationTest, PasswordChangeRevokes) {
  const std::string bob = key_of("bob", "bobpw");
  const std::string admin = key_of("admin", "adminpw");
  edit_users([](UserDb& db) { ASSERT_TRUE(db.set_password("bob", "newpw")); });
  expect_revoked(bob, "bob");
  EXPECT_TRUE(Client::connect(with_key(admin)));
  EXPECT_TRUE(Client::connect(login_as("bob", "newpw")));
  // A revocation is not a guess: it does not count toward the throttling of the address.
  for (int i = 0; i < 5; ++i) expect_revoked(bob, "bob");
  EXPECT_TRUE(Client::connect(login_as("bob", "newpw")));
}

TEST_F(KeyRevocationTest, RemovalRevokes) {
  const std::string key = key_of("nogroup", "pw");
  edit_users([](UserDb& db) { ASSERT_TRUE(db.remove_user("nogroup")); });
  expect_revoked(key, "nogroup");
}

TEST_F(KeyRevocationTest, RoleChangeRevokes) {
  const std::string key = key_of("admin", "adminpw");
  edit_users([](UserDb& db) { ASSERT_TRUE(db.set_role("admin", Role::ReadOnly)); });
  expect_revoked(key, "admin");
}

TEST_F(KeyRevocationTest, GroupMembershipChangeRevokes) {
  const std::string key = key_of("bob", "bobpw");
  edit_users([](UserDb& db) { ASSERT_TRUE(db.set_groups("bob", {})); });
  expect_revoked(key, "bob");
}

TEST_F(KeyRevocationTest, GroupPermissionChangeRevokesItsMembers) {
  const std::string bob = key_of("bob", "bobpw");
  const std::string other = key_of("nogroup", "pw");
  edit_users(
      [](UserDb& db) { ASSERT_TRUE(db.grant("limited", GrantKind::IpGroup, "10.0.0.0/8")); });
  expect_revoked(bob, "bob");
  EXPECT_TRUE(Client::connect(with_key(other)));
  EXPECT_GE(server_->auth().stats().keys_revoked, 1u);
}
// Five bad passwords lock the user out from the offending address only (F16): the same user
// logs in from another address, and another user from a clean address too.
TEST_F(AuthTest, LockoutIsPerOffendingAddress) {
  make_users();
  AuthConfig config;  // max_failures 5
  AuthService auth = make_auth(config);
  ASSERT_TRUE(auth.reload_users());
  const IpAddress guesser = *IpAddress::parse("192.0.2.7");
  const IpAddress office = *IpAddress::parse("198.51.100.9");
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(auth.login("bob", "guess", guesser, false));
  auto locked = auth.login("bob", "bobpw", guesser, false);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().message.rfind("throttled", 0), 0u) << locked.error().message;
  EXPECT_TRUE(auth.login("bob", "bobpw", office, false)) << "locked out from everywhere";
  // Four failures elsewhere do not lock; the guesser's count is its own.
  for (int i = 0; i < 4; ++i) EXPECT_FALSE(auth.login("bob", "guess", office, false));
  EXPECT_TRUE(auth.login("bob", "bobpw", office, false));
}

// More than 65,536 tracked addresses emptied the table, lockouts included: an attacker with
// many source addresses reset the throttling of the address it was guessing from.
TEST_F(AuthTest, ThrottledAddressStaysThrottledWhenTheTableFills) {
  make_users();
  AuthConfig config;
  config.max_failures = 3;
  AuthService auth = make_auth(config);
  ASSERT_TRUE(auth.reload_users());
  const IpAddress guesser = *IpAddress::parse("192.0.2.1");
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(auth.login("bob", "guess", guesser, false));
  auto locked = auth.login("bob", "bobpw", guesser, false);
  ASSERT_FALSE(locked);
  EXPECT_EQ(locked.error().message.rfind("throttled", 0), 0u) << locked.error().message;
  // One failed key use from each of 70,000 other addresses (no argon2id: fast).
  for (std::uint32_t i = 0; i < 70'000; ++i) {
    EXPECT_FALSE(auth.resume("bogus", IpAddress::v4(0x0a000000u + i)));
  }
  auto still = auth.login("nogroup", "pw", guesser, false);
  ASSERT_FALSE(still) << "the lockout was forgotten";
  EXPECT_EQ(still.error().message.rfind("throttled", 0), 0u) << still.error().message;
  EXPECT_GE(auth.stats().throttle_evictions, 70'000u - 65'536u);
}

}  // namespace
}  // namespace flowscope::server::testing
