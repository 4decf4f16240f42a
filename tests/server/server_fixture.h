#pragma once
// A `flowscope serve` in-process on loopback (ports 0) with an injected clock and three users
// (admin/adminpw, bob/bobpw in group "limited", nogroup/pw), for the tests of the query port's
// connection handling and of authentication. Raw-socket helpers speak the framing by hand.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include "server/client.h"
#include "server/protocol.h"
#include "server/server.h"

namespace flowscope::server::testing {

using namespace std::chrono_literals;

// Waits for `done` with a deadline (docs/conventions.md "Tests": no bare sleeps; this polls a
// condition).
template <typename F>
bool wait_until(F done, std::chrono::milliseconds limit = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return done();
}

struct ManualClock {
  std::shared_ptr<std::atomic<std::int64_t>> ms =
      std::make_shared<std::atomic<std::int64_t>>(1'790'000'000'000);
  Clock clock() const {
    auto p = ms;
    return [p] { return time_from_ms(p->load()); };
  }
  void advance(DurationMs d) { ms->fetch_add(d.count()); }
};

// A TCP connection to 127.0.0.1:`port` from `bind` (any 127/8 address); -1 on failure.
inline int raw_connect(std::uint16_t port, const char* bind = "127.0.0.1") {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, bind, &local.sin_addr);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True when the server closed `fd` (EOF or reset) within `limit`; frames sent before the close
// are skipped. False when the connection is still open at the deadline.
inline bool closed_within(int fd, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return true;
  }
}

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("flowscope-" + std::string(test_info()->test_suite_name()) + "-" +
            std::to_string(::getpid()) + "-" + test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
  }
  static const ::testing::TestInfo* test_info() {
    return ::testing::UnitTest::GetInstance()->current_test_info();
  }

  ServerConfig config() const {
    ServerConfig c;
    c.source = "test";
    c.ingest.listen = {"127.0.0.1"};
    c.ingest.netflow_port = c.ingest.ipfix_port = c.ingest.sflow_port = 0;
    c.ingest.workers = 1;
    c.store.dir = dir_ / "data";
    c.query.port = 0;
    c.http.port = 0;
    c.auth.users = dir_ / "users.json";
    c.auth.max_failures = 3;
    return c;
  }

  std::filesystem::path users_file() const { return dir_ / "users.json"; }

  void make_users() {
    UserDb db;
    ASSERT_TRUE(db.add_user("admin", "adminpw", Role::Admin));
    ASSERT_TRUE(db.add_user("bob", "bobpw", Role::Analyst));
    ASSERT_TRUE(db.add_user("nogroup", "pw", Role::Analyst));
    ASSERT_TRUE(db.add_group("limited"));
    ASSERT_TRUE(db.set_groups("bob", {"limited"}));
    ASSERT_TRUE(db.save(users_file()));
  }

  void start(ServerConfig c) {
    auto s = Server::start(std::move(c), ServerOptions{clock_.clock()});
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }

  ClientOptions login_as(const std::string& user, const std::string& password) const {
    ClientOptions o;
    o.server = "127.0.0.1:" + std::to_string(server_->query_port());
    o.user = user;
    o.password = password;
    return o;
  }

  ClientOptions with_key(const std::string& key) const {
    ClientOptions o;
    o.server = "127.0.0.1:" + std::to_string(server_->query_port());
    o.key = key;
    return o;
  }

  std::filesystem::path dir_;
  ManualClock clock_;
  std::unique_ptr<Server> server_;
};

}  // namespace flowscope::server::testing
