// The query port's connection handling (F15): idle connections that never log in cannot lock
// the users out (eviction of the oldest, a per-address limit, a handshake deadline), admins keep
// reserved slots when non-admin users fill the server, a length-0 frame ends the connection at
// once (docs/protocol.md), and the [query] keys of these limits are checked with file:line.
#include "server/query_server.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/server_fixture.h"

namespace flowscope::server::testing {
namespace {

std::string metric(const Server& s, const std::string& line_prefix) {
  const std::string text = s.metrics_text();
  const auto at = text.find(line_prefix + " ");
  if (at == std::string::npos) return "(missing)";
  const auto end = text.find('\n', at);
  return text.substr(at + line_prefix.size() + 1, end - at - line_prefix.size() - 1);
}

std::string rejected(const Server& s, const std::string& reason) {
  return metric(s, "flowscope_query_connections_rejected_total{reason=\"" + reason + "\"}");
}

// Reads frames until an Error frame (its body) or the end of the connection (null).
nlohmann::json error_frame(int fd) {
  for (;;) {
    auto f = read_frame(fd, std::chrono::milliseconds(5000));
    if (!f) return nullptr;
    if (f->type == FrameType::Error) return f->body;
  }
}

class QueryServerTest : public ServerFixture {
 protected:
  void TearDown() override {
    for (int fd : fds_) ::close(fd);
    ServerFixture::TearDown();
  }
  int idle(const char* bind = "127.0.0.1") {
    const int fd = raw_connect(server_->query_port(), bind);
    EXPECT_GE(fd, 0) << "connect from " << bind;
    fds_.push_back(fd);
    return fd;
  }
  std::uint64_t active() { return server_->query_server().stats().active; }
  std::vector<int> fds_;
};

// 64 idle connections from 8 addresses filled the server: every login answered `busy` until
// they timed out, renewably. Now a newcomer evicts the oldest connection that has not logged in.
TEST_F(QueryServerTest, IdleConnectionsDoNotLockOutLogins) {
  make_users();
  ServerConfig c = config();
  c.query.limits.handshake_timeout = std::chrono::minutes(5);  // eviction, not the deadline
  start(c);
  for (int a = 0; a < 8; ++a) {
    const std::string bind = "127.0.0." + std::to_string(10 + a);
    for (int i = 0; i < 8; ++i) idle(bind.c_str());
  }
  ASSERT_TRUE(wait_until([&] { return active() == 64; })) << active();

  auto admin = Client::connect(login_as("admin", "adminpw"));
  ASSERT_TRUE(admin) << admin.error().message;
  auto bob = Client::connect(login_as("bob", "bobpw"));
  ASSERT_TRUE(bob) << bob.error().message;
  EXPECT_TRUE(bob->request({{"kind", "stats"}})) << "the session works";
  EXPECT_EQ(rejected(*server_, "evicted"), "2");
  // The evicted ones are told why and closed.
  auto why = error_frame(fds_.front());
  ASSERT_FALSE(why.is_null());
  EXPECT_EQ(text_field(why, "code"), "busy");
  EXPECT_NE(text_field(why, "message").find("had not logged in"), std::string::npos) << why.dump();
}

TEST_F(QueryServerTest, PerAddressLimit) {
  make_users();
  ServerConfig c = config();
  c.query.limits.per_address = 3;
  c.query.limits.handshake_timeout = std::chrono::minutes(5);
  start(c);
  for (int i = 0; i < 3; ++i) idle("127.0.0.1");
  ASSERT_TRUE(wait_until([&] { return active() == 3; }));
  const int fourth = idle("127.0.0.1");
  auto why = error_frame(fourth);
  ASSERT_FALSE(why.is_null());
  EXPECT_EQ(text_field(why, "code"), "busy");
  EXPECT_NE(text_field(why, "message").find("max_connections_per_address"), std::string::npos)
      << why.dump();
  EXPECT_TRUE(closed_within(fourth, std::chrono::seconds(5)));
  // Another address is served.
  ClientOptions o = login_as("bob", "bobpw");
  o.bind_address = "127.0.0.2";
  auto bob = Client::connect(o);
  ASSERT_TRUE(bob) << bob.error().message;
  EXPECT_EQ(rejected(*server_, "per_address"), "1");
}

// The whole handshake (TLS, Hello, Login) must arrive within [query] handshake_timeout.
TEST_F(QueryServerTest, HandshakeDeadline) {
  make_users();
  ServerConfig c = config();
  c.query.limits.handshake_timeout = std::chrono::milliseconds(300);
  start(c);
  const int silent = idle();
  const int hello_only = idle();
  ASSERT_TRUE(write_frame(hello_only, FrameType::Hello, {{"magic", "flowscope"}, {"version", 1}}));
  for (int fd : {silent, hello_only}) {
    auto why = error_frame(fd);
    ASSERT_FALSE(why.is_null());
    EXPECT_EQ(text_field(why, "code"), "timeout");
    EXPECT_NE(text_field(why, "message").find("handshake_timeout"), std::string::npos)
        << why.dump();
    EXPECT_TRUE(closed_within(fd, std::chrono::seconds(5)));
  }
  EXPECT_EQ(rejected(*server_, "handshake_timeout"), "2");
  // A real client is well within it.
  EXPECT_TRUE(Client::connect(login_as("bob", "bobpw")));
}

// Non-admin sessions may take max_connections - admin_reserved_connections; admins the rest.
TEST_F(QueryServerTest, AdminsKeepReservedSlots) {
  make_users();
  ServerConfig c = config();
  c.query.limits.max_connections = 6;
  c.query.limits.admin_reserved = 2;
  c.query.limits.per_address = 6;
  start(c);
  std::vector<Client> held;
  for (int i = 0; i < 4; ++i) {
    auto bob = Client::connect(login_as("bob", "bobpw"));
    ASSERT_TRUE(bob) << i << ": " << bob.error().message;
    held.push_back(std::move(*bob));
  }
  auto fifth = Client::connect(login_as("nogroup", "pw"));
  ASSERT_FALSE(fifth);
  EXPECT_NE(fifth.error().message.find("busy"), std::string::npos) << fifth.error().message;
  EXPECT_NE(fifth.error().message.find("admin_reserved_connections"), std::string::npos)
      << fifth.error().message;
  ASSERT_TRUE(wait_until([&] { return active() == 4; })) << active();
  ClientOptions admin_options = login_as("admin", "adminpw");
  admin_options.bind_address = "127.0.0.2";
  for (int i = 0; i < 2; ++i) {
    auto admin = Client::connect(admin_options);
    ASSERT_TRUE(admin) << i << ": " << admin.error().message;
    held.push_back(std::move(*admin));
  }
  ASSERT_TRUE(wait_until([&] { return active() == 6; })) << active();
  auto full = Client::connect(admin_options);
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("busy"), std::string::npos) << full.error().message;
  EXPECT_EQ(rejected(*server_, "admin_reserved"), "1");
  EXPECT_EQ(rejected(*server_, "full"), "1");
}

// docs/protocol.md: a length outside 1..16 MiB ends the connection. A length of 0 has no type
// byte after it; the server waited for one (30 s before login, 30 min after).
TEST_F(QueryServerTest, ZeroLengthFrameEndsTheConnection) {
  make_users();
  ServerConfig c = config();
  c.query.limits.handshake_timeout = std::chrono::minutes(5);
  start(c);
  const unsigned char zero[] = {0, 0, 0, 0};
  const int before_hello = idle();
  ASSERT_EQ(::send(before_hello, zero, sizeof zero, 0), 4);
  EXPECT_TRUE(closed_within(before_hello, std::chrono::seconds(5)));

  const int after_login = idle();
  ASSERT_TRUE(write_frame(after_login, FrameType::Hello, {{"magic", "flowscope"}, {"version", 1}}));
  ASSERT_TRUE(write_frame(after_login, FrameType::Login,
                          {{"user", "admin"}, {"password", "adminpw"}, {"want_key", false}}));
  auto hello = read_frame(after_login, std::chrono::milliseconds(5000));
  ASSERT_TRUE(hello);
  ASSERT_EQ(hello->type, FrameType::HelloOk);
  auto login = read_frame(after_login, std::chrono::milliseconds(5000));
  ASSERT_TRUE(login);
  ASSERT_EQ(login->type, FrameType::LoginOk);
  ASSERT_EQ(::send(after_login, zero, sizeof zero, 0), 4);
  EXPECT_TRUE(closed_within(after_login, std::chrono::seconds(5)));
  EXPECT_TRUE(wait_until([&] { return active() == 0; })) << active();
}

TEST(ServerConfigLimits, QueryKeysAreChecked) {
  auto parse = [](const std::string& query) {
    return parse_server_config("[store]\ndir = \"/tmp/x\"\n[query]\n" + query, "serve.toml");
  };
  auto ok = parse(
      "max_connections = 32\nmax_connections_per_address = 4\n"
      "admin_reserved_connections = 3\nhandshake_timeout = \"2s\"\n");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->query.limits.max_connections, 32u);
  EXPECT_EQ(ok->query.limits.per_address, 4u);
  EXPECT_EQ(ok->query.limits.admin_reserved, 3u);
  EXPECT_EQ(ok->query.limits.handshake_timeout, std::chrono::seconds(2));
  const QueryLimits defaults;
  auto plain = parse("");
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->query.limits.max_connections, defaults.max_connections);
  EXPECT_EQ(plain->query.limits.per_address, 8u);
  EXPECT_EQ(plain->query.limits.handshake_timeout, std::chrono::seconds(5));
  // Defaults shrink with a small max_connections.
  auto small = parse("max_connections = 1\n");
  ASSERT_TRUE(small) << small.error().message;
  EXPECT_EQ(small->query.limits.per_address, 1u);
  EXPECT_EQ(small->query.limits.admin_reserved, 0u);

  const std::pair<std::string, std::string> bad[] = {
      {"max_connections = 0\n", "serve.toml:4: [query] max_connections: must be an integer"},
      {"max_connections = 8\nmax_connections_per_address = 9\n",
       "serve.toml:5: [query] max_connections_per_address: must be an integer from 1 to 8 (at "
       "most max_connections, 8)"},
      {"max_connections = 8\nadmin_reserved_connections = 8\n",
       "serve.toml:5: [query] admin_reserved_connections: must be an integer from 0 to 7"},
      {"handshake_timeout = \"soon\"\n", "serve.toml:4: [query] handshake_timeout: \"soon\""},
  };
  for (const auto& [text, want] : bad) {
    auto r = parse(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().message.rfind(want, 0), 0u) << r.error().message;
  }
}

TEST(Protocol, DecodeFrameAndHostPort) {
  const std::string payload = R"({"id":7})";
  std::vector<std::byte> bytes = {std::byte{0}, std::byte{0}, std::byte{0},
                                  std::byte(payload.size() + 1), std::byte{10}};
  for (char c : payload) bytes.push_back(std::byte(c));
  auto f = decode_frame(bytes);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->type, FrameType::Cancel);
  EXPECT_EQ(uint_field(f->body, "id"), 7u);
  bytes[4] = std::byte{42};
  EXPECT_FALSE(decode_frame(bytes));
  bytes[4] = std::byte{10};
  bytes.pop_back();
  EXPECT_FALSE(decode_frame(bytes));
  auto hp = parse_host_port("[::1]:9000", 9640);
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->first, "::1");
  EXPECT_EQ(hp->second, 9000);
  hp = parse_host_port("collector", 9640);
  ASSERT_TRUE(hp);
  EXPECT_EQ(hp->second, 9640);
  EXPECT_FALSE(parse_host_port("host:99999", 9640));
}

}  // namespace
}  // namespace flowscope::server::testing
