// End-to-end tests of `flowscope serve` in-process on loopback (free ports): corpus flows sent
// over UDP reach the store as sessions; queries over the query protocol equal local queries of
// the same store; the auth matrix (wrong password, unknown user, expired key, key from another
// address, a group outside its IP groups, throttling); reload and start_at with an injected
// clock; /metrics and /healthz; TLS on the query port (plain and TLS give the same rows,
// tls_required, verification against another CA, a bad key).
#include "server/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include "core/udp_sender.h"
#include "decode/corpus_support.h"
#include "enrich/tiny_dns.h"
#include "query/executor.h"
#include "query/output.h"
#include "server/client.h"
#include "server/protocol.h"
#include "server/server_fixture.h"
#include "server/test_certs.h"

#include "test_support.h"

namespace flowscope::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const char* const kCaptures[] = {"netflow/ls_netflow5_microtik.pcap",
                                 "netflow/ls_netflow5_juniper_mx80.pcap",
                                 "netflow/ls_netflow9_cisco_asa_1.pcap"};

// The shared helpers of the server tests (server_fixture.h).
template <typename F>
bool wait_for(F done, std::chrono::milliseconds limit = 20s) {
  return testing::wait_until(done, limit);
}
using FakeClock = testing::ManualClock;

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("flowscope-server-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  ServerConfig config() const {
    ServerConfig c;
    c.source = "test";
    c.ingest.listen = {"127.0.0.1"};
    c.ingest.netflow_port = c.ingest.ipfix_port = c.ingest.sflow_port = 0;
    c.ingest.workers = 2;
    c.ingest.batch_rows = 64;
    c.stitch.window = 1s;
    c.store.dir = dir_ / "data";
    c.store.commit_interval = 100ms;
    c.query.port = 0;
    c.http.port = 0;
    c.auth.users = dir_ / "users.json";
    c.auth.max_failures = 3;
    return c;
  }

  void make_users() {
    UserDb db;
    ASSERT_TRUE(db.add_user("admin", "adminpw", Role::Admin));
    ASSERT_TRUE(db.add_user("bob", "bobpw", Role::Analyst));
    ASSERT_TRUE(db.add_user("nogroup", "pw", Role::Analyst));
    ASSERT_TRUE(db.add_group("limited"));
    ASSERT_TRUE(db.set_groups("bob", {"limited"}));
    ASSERT_TRUE(db.save(dir_ / "users.json"));
  }

  void start(ServerConfig c) {
    auto s = Server::start(std::move(c), ServerOptions{clock_.clock()});
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }

  // Sends the corpus captures to the NetFlow port; returns the records they decode to.
  std::size_t send_corpus() {
    std::size_t records = 0;
    auto sender = UdpSender::open("127.0.0.1:" + std::to_string(server_->netflow_port()));
    EXPECT_TRUE(sender);
    for (const char* c : kCaptures) {
      const fs::path path = flowscope::testing::corpus_dir() / c;
      records += flowscope::testing::decode_capture(path).batch.size();
      for (const auto& payload : flowscope::testing::udp_payloads(path)) {
        std::span<const std::byte> one(payload);
        EXPECT_TRUE(sender->send(std::span(&one, 1)));
      }
    }
    return records;
  }

  // Waits until every record sent is decoded and every session closed into the store.
  void wait_stored(std::size_t records) {
    ASSERT_TRUE(wait_for([&] {
      const PipelineStats p = server_->pipeline().stats();
      return server_->ingest().stats().records >= records && p.flows >= records &&
             p.open_sessions == 0 && p.sessions > 0 && p.sessions == p.sessions_closed;
    })) << server_->metrics_text();
  }

  ClientOptions client_options() const {
    ClientOptions o;
    o.server = "127.0.0.1:" + std::to_string(server_->query_port());
    return o;
  }

  // A local query of the server's store through the same query API, as CSV with a header.
  std::string local_query(const std::string& filter) {
    query::QuerySpec spec;
    spec.where.filter = filter;
    spec.fields = query::default_query_fields();
    query::OutputOptions out;
    out.format = query::OutputFormat::CsvHeader;
    std::ostringstream text;
    auto writer = query::RowWriter::create(text, spec.fields, out);
    EXPECT_TRUE(writer);
    auto stats = query::execute_query(server_->store(), spec, [&](const SessionBatch& rows) {
      (*writer)->write(rows);
      return true;
    });
    EXPECT_TRUE(stats) << stats.error().message;
    (*writer)->finish();
    return text.str();
  }

  Result<std::string> remote_query(const ClientOptions& o, const std::string& filter) {
    auto client = Client::connect(o);
    if (!client) return client.error();
    query::QuerySpec spec;
    spec.where.filter = filter;
    std::string text;
    auto done =
        client->request({{"kind", "query"}, {"spec", query::to_json(spec)}, {"output", "csv+"}},
                        [&](const Frame& f) {
                          text += f.body.value("text", "");
                          return true;
                        });
    if (!done) return done.error();
    return text;
  }

  fs::path dir_;
  FakeClock clock_;
  std::unique_ptr<Server> server_;
};

bool skip_without_corpus() { return !fs::exists(flowscope::testing::corpus_dir() / kCaptures[0]); }

TEST_F(ServerTest, CorpusFlowsBecomeSessionsAndRemoteQueryEqualsLocal) {
  if (skip_without_corpus())
    GTEST_SKIP() << "corpus not found at " << flowscope::testing::corpus_dir();
  make_users();
  start(config());
  const std::size_t records = send_corpus();
  ASSERT_GT(records, 50u);
  wait_stored(records);
  const IngestStats in = server_->ingest().stats();
  EXPECT_EQ(in.queue_drops, 0u);
  EXPECT_EQ(in.kernel_drops, 0u);
  EXPECT_EQ(in.records, records);

  const std::string local = local_query("");
  ClientOptions o = client_options();
  o.user = "admin";
  o.password = "adminpw";
  auto remote = remote_query(o, "");
  ASSERT_TRUE(remote) << remote.error().message;
  EXPECT_EQ(*remote, local);
  EXPECT_GT(std::count(local.begin(), local.end(), '\n'), 20);

  // The same with a filter, and a stat.
  auto filtered = remote_query(o, "PROTO == udp");
  ASSERT_TRUE(filtered);
  EXPECT_EQ(*filtered, local_query("PROTO == udp"));

  auto client = Client::connect(o);
  ASSERT_TRUE(client);
  query::StatSpec stat;
  stat.group_by = {query::GroupKey{}};
  std::string text;
  auto done = client->request({{"kind", "stat"}, {"spec", query::to_json(stat)}, {"output", "csv"}},
                              [&](const Frame& f) {
                                text += f.body.value("text", "");
                                return true;
                              });
  ASSERT_TRUE(done) << done.error().message;
  auto local_stat = query::execute_stat(server_->store(), stat);
  ASSERT_TRUE(local_stat);
  std::ostringstream expect;
  query::OutputOptions csv;
  csv.format = query::OutputFormat::Csv;
  query::write_stat(expect, stat, *local_stat, csv);
  EXPECT_EQ(text, expect.str());

  // /metrics and /healthz on the admin port.
  httplib::Client http("127.0.0.1", server_->http_port());
  auto health = http.Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto metrics = http.Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("flowscope_ingest_records_total{exporter=\"127.0.0.1\"} " +
                               std::to_string(records)),
            std::string::npos)
      << metrics->body;
  EXPECT_NE(metrics->body.find("flowscope_drops_total{kind=\"queue\"} 0"), std::string::npos);
  EXPECT_NE(metrics->body.find("flowscope_query_latency_seconds_count"), std::string::npos);
  EXPECT_NE(metrics->body.find("flowscope_templates "), std::string::npos);
}

TEST_F(ServerTest, Ipv6ListenerReceives) {
  if (skip_without_corpus())
    GTEST_SKIP() << "corpus not found at " << flowscope::testing::corpus_dir();
  if (!fs::exists("/proc/net/if_inet6")) GTEST_SKIP() << "no IPv6 on this host";
  ServerConfig c = config();
  c.ingest.listen = {"127.0.0.1", "::1"};
  start(c);
  auto sender = UdpSender::open("[::1]:" + std::to_string(server_->ipfix_port()));
  ASSERT_TRUE(sender) << sender.error().message;
  const fs::path path = flowscope::testing::corpus_dir() / kCaptures[0];
  const std::size_t records = flowscope::testing::decode_capture(path).batch.size();
  for (const auto& payload : flowscope::testing::udp_payloads(path)) {
    std::span<const std::byte> one(payload);
    ASSERT_TRUE(sender->send(std::span(&one, 1)));
  }
  ASSERT_TRUE(wait_for([&] {
    const IngestStats in = server_->ingest().stats();
    auto it = in.exporters.find(*IpAddress::parse("::1"));
    return it != in.exporters.end() && it->second.decode.records == records;
  })) << server_->metrics_text();
  EXPECT_NE(server_->metrics_text().find("exporter=\"::1\""), std::string::npos);
}

TEST_F(ServerTest, StopStoresOpenSessions) {
  if (skip_without_corpus())
    GTEST_SKIP() << "corpus not found at " << flowscope::testing::corpus_dir();
  ServerConfig c = config();
  c.stitch.window = std::chrono::hours(1);  // nothing closes by itself
  start(c);
  const std::size_t records = send_corpus();
  ASSERT_TRUE(wait_for([&] { return server_->pipeline().stats().flows >= records; }));
  EXPECT_EQ(server_->pipeline().stats().sessions, 0u);
  const std::uint64_t open = server_->pipeline().stats().open_sessions;
  EXPECT_GT(open, 0u);
  server_->stop();
  EXPECT_EQ(server_->pipeline().stats().sessions, open);
  // Reopened, the store has them.
  server_.reset();
  store::StoreOptions so;
  so.dir = dir_ / "data";
  so.read_only = true;
  auto st = store::EmbeddedStore::open(so);
  ASSERT_TRUE(st);
  std::uint64_t rows = 0;
  ASSERT_TRUE((*st)->scan({}, [&](const SessionBatch& b) {
    rows += b.size();
    return true;
  }));
  EXPECT_EQ(rows, open);
}

// F15 item 2: segments a lost CHECKPOINT no longer references are kept in orphans/ and counted
// where the store's other counters are.
TEST_F(ServerTest, OrphanedSegmentsAreCountedInMetrics) {
  {
    store::StoreOptions so;
    so.dir = dir_ / "data";
    so.sync_interval = std::chrono::milliseconds(0);
    auto st = store::EmbeddedStore::open(so);
    ASSERT_TRUE(st) << st.error().message;
    for (std::uint64_t flush = 0; flush < 3; ++flush) {
      SessionBatch batch;
      batch.add_row();
      batch.set<FieldId::SessionId>(0, flush + 1);
      batch.set<FieldId::StartTime>(0, std::int64_t{1'764'000'000'000});
      ASSERT_TRUE((*st)->append(batch));
      ASSERT_TRUE((*st)->flush());
    }
    ASSERT_TRUE((*st)->close());
  }
  ASSERT_TRUE(fs::remove(dir_ / "data" / "CHECKPOINT"));
  start(config());
  EXPECT_NE(server_->metrics_text().find("flowscope_store_orphaned_segments_total 3"),
            std::string::npos)
      << server_->metrics_text();
  EXPECT_EQ(std::distance(fs::recursive_directory_iterator(dir_ / "data" / "orphans"),
                          fs::recursive_directory_iterator{}),
            5);  // raw/, one partition, 3 segments
}

TEST_F(ServerTest, AuthMatrix) {
  make_users();
  start(config());
  ClientOptions o = client_options();

  o.user = "bob";
  o.password = "wrong";
  auto wrong = Client::connect(o);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message.find("bad_credentials"), std::string::npos);

  o.user = "mallory";
  o.password = "bobpw";
  auto unknown = Client::connect(o);
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("bad_credentials"), std::string::npos);

  // A key: works from its address, resets the idle timer on use, refused from 127.0.0.2.
  o.user = "bob";
  o.password = "bobpw";
  o.want_key = true;
  auto with_key = Client::connect(o);
  ASSERT_TRUE(with_key) << with_key.error().message;
  const std::string key = with_key->key();
  EXPECT_EQ(key.size(), 64u);
  ClientOptions k = client_options();
  k.key = key;
  clock_.advance(20min);
  EXPECT_TRUE(Client::connect(k));  // resets the idle timer
  clock_.advance(20min);
  EXPECT_TRUE(Client::connect(k));  // 40 min after login, 20 idle
  ClientOptions other = k;
  other.bind_address = "127.0.0.2";
  auto elsewhere = Client::connect(other);
  ASSERT_FALSE(elsewhere);
  EXPECT_NE(elsewhere.error().message.find("key_wrong_source"), std::string::npos);
  clock_.advance(31min);
  auto expired = Client::connect(k);
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("key_expired"), std::string::npos);

  // maxsessionkeyage: expired however often used.
  auto fresh = Client::connect(o);
  ASSERT_TRUE(fresh);
  k.key = fresh->key();
  for (int i = 0; i < 49; ++i) {
    clock_.advance(29min);
    ASSERT_TRUE(Client::connect(k)) << "use " << i;
  }
  clock_.advance(29min);
  auto old = Client::connect(k);  // 50 * 29 min > 24 h, each use within 30 idle minutes
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message.find("key_expired"), std::string::npos);

  // Throttling: 3 failures from an address lock it out, even with the right password.
  ClientOptions t = client_options();
  t.bind_address = "127.0.0.3";
  t.user = "nogroup";
  t.password = "bad";
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(Client::connect(t));
  t.password = "pw";
  auto locked = Client::connect(t);
  ASSERT_FALSE(locked);
  EXPECT_NE(locked.error().message.find("throttled"), std::string::npos);
  clock_.advance(6min);
  EXPECT_TRUE(Client::connect(t));

  // The audit log names each event.
  std::ifstream audit(dir_ / "data" / "audit.log");
  std::stringstream ss;
  ss << audit.rdbuf();
  for (const char* event : {"login_failed", "unknown user", "login_key", "key_wrong_source",
                            "key_expired", "login_throttled"}) {
    EXPECT_NE(ss.str().find(event), std::string::npos) << event;
  }
  EXPECT_EQ(ss.str().find("bobpw"), std::string::npos);
}

TEST_F(ServerTest, GroupSeesOnlyItsIpGroups) {
  if (skip_without_corpus())
    GTEST_SKIP() << "corpus not found at " << flowscope::testing::corpus_dir();
  make_users();
  start(config());
  const std::size_t records = send_corpus();
  wait_stored(records);
  // Grant bob's group one client address of the data; reload the users (as SIGHUP does).
  std::string first_client;
  ASSERT_TRUE(server_->store().scan({}, [&](const SessionBatch& b) {
    first_client = fmt::format("{}", b.get<FieldId::ClnAddr>(0));
    return false;
  }));
  auto db = UserDb::load(dir_ / "users.json");
  ASSERT_TRUE(db);
  ASSERT_TRUE(db->grant("limited", GrantKind::IpGroup, first_client));
  ASSERT_TRUE(db->save(dir_ / "users.json"));
  ASSERT_TRUE(server_->auth().reload_users());

  ClientOptions o = client_options();
  o.user = "bob";
  o.password = "bobpw";
  auto bob = remote_query(o, "");
  ASSERT_TRUE(bob) << bob.error().message;
  EXPECT_EQ(*bob, local_query("ADDR == " + first_client));
  EXPECT_LT(bob->size(), local_query("").size());
  // Asking outside the permitted IP groups gives nothing, not an error.
  auto outside = remote_query(o, "!(ADDR == " + first_client + ")");
  ASSERT_TRUE(outside);
  EXPECT_EQ(std::count(outside->begin(), outside->end(), '\n'), 1) << *outside;  // header only
  // A user without a group sees nothing.
  o.user = "nogroup";
  o.password = "pw";
  auto none = remote_query(o, "");
  ASSERT_TRUE(none);
  EXPECT_EQ(std::count(none->begin(), none->end(), '\n'), 1);
}

TEST_F(ServerTest, CancelStopsAStream) {
  if (skip_without_corpus())
    GTEST_SKIP() << "corpus not found at " << flowscope::testing::corpus_dir();
  make_users();
  start(config());
  wait_stored(send_corpus());
  ClientOptions o = client_options();
  o.user = "admin";
  o.password = "adminpw";
  auto client = Client::connect(o);
  ASSERT_TRUE(client);
  const std::uint64_t total = server_->pipeline().stats().sessions;
  ASSERT_GT(total, 10u);
  // Request and Cancel back to back: the server finds the Cancel at its first check, after the
  // header or after the first one-row frame, and ends with Done {cancelled: true}.
  // One send(2) for both, so that the Cancel is in the server's socket buffer when it starts.
  std::string both;
  for (const auto& [type, body] :
       {std::pair{FrameType::Request,
                  nlohmann::json{{"id", 99}, {"kind", "sessions"}, {"chunk", 1}}},
        std::pair{FrameType::Cancel, nlohmann::json{{"id", 99}}}}) {
    const std::string payload = body.dump();
    const std::uint32_t len = static_cast<std::uint32_t>(payload.size() + 1);
    both += {static_cast<char>(len >> 24), static_cast<char>(len >> 16),
             static_cast<char>(len >> 8), static_cast<char>(len), static_cast<char>(type)};
    both += payload;
  }
  ASSERT_EQ(::send(client->fd(), both.data(), both.size(), 0), static_cast<ssize_t>(both.size()));
  std::uint64_t rows = 0;
  std::optional<Frame> done;
  for (;;) {
    auto f = read_frame(client->fd(), 5000ms);
    ASSERT_TRUE(f) << f.error().message;
    if (f->type == FrameType::Rows) rows += f->body["rows"].size();
    if (f->type == FrameType::Done || f->type == FrameType::Error) {
      done = std::move(*f);
      break;
    }
  }
  ASSERT_EQ(done->type, FrameType::Done);
  EXPECT_TRUE(bool_field(done->body, "cancelled"));
  EXPECT_LT(rows, total);
  EXPECT_EQ(uint_field(done->body, "rows"), rows);
  // The connection stays usable.
  auto stats = client->request({{"kind", "stats"}});
  ASSERT_TRUE(stats);
  EXPECT_GT((*stats)["stats"]["sessions_stored"].get<std::uint64_t>(), 0u);
}

TEST_F(ServerTest, HostileFramesEndOnlyTheirConnection) {
  make_users();
  start(config());
  auto raw = [&] {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(server_->query_port());
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    return fd;
  };
  // Fields of the wrong types in Hello and Login.
  int fd = raw();
  ASSERT_TRUE(write_frame(fd, FrameType::Hello, {{"magic", "flowscope"}, {"version", 1}}));
  auto ok = read_frame(fd, 5000ms);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->type, FrameType::HelloOk);
  ASSERT_TRUE(write_frame(fd, FrameType::Login, {{"user", 5}, {"password", {1, 2}}}));
  auto refused = read_frame(fd, 5000ms);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->type, FrameType::Error);
  ::close(fd);
  // A length over the limit, then garbage.
  fd = raw();
  const unsigned char huge[] = {0xff, 0xff, 0xff, 0xff, 1};
  ASSERT_EQ(::send(fd, huge, sizeof huge, 0), 5);
  auto gone = read_frame(fd, 5000ms);
  EXPECT_FALSE(gone);
  ::close(fd);
  // A wrong version is refused with a message naming both.
  fd = raw();
  ASSERT_TRUE(write_frame(fd, FrameType::Hello, {{"magic", "flowscope"}, {"version", 99}}));
  auto version = read_frame(fd, 5000ms);
  ASSERT_TRUE(version);
  EXPECT_EQ(version->type, FrameType::Error);
  EXPECT_NE(text_field(version->body, "message").find("version 99"), std::string::npos);
  ::close(fd);
  // The server still answers.
  ClientOptions o = client_options();
  o.user = "admin";
  o.password = "adminpw";
  auto client = Client::connect(o);
  ASSERT_TRUE(client) << client.error().message;
  EXPECT_EQ(client->role(), "admin");
}

TEST_F(ServerTest, ReloadAndStartAt) {
  make_users();
  start(config());
  EXPECT_EQ(server_->config_generation(), 1u);
  ServerConfig next = config();
  next.stitch.window = 7s;
  next.start_at = clock_.clock()() + 1h;
  ASSERT_TRUE(server_->reload(next));
  EXPECT_TRUE(server_->scheduled_start().has_value());
  EXPECT_FALSE(server_->tick());
  EXPECT_EQ(server_->config_generation(), 1u);
  EXPECT_EQ(server_->pipeline().stats().window_ms, 1000);
  clock_.advance(1h);
  EXPECT_TRUE(server_->tick());
  EXPECT_EQ(server_->config_generation(), 2u);
  EXPECT_EQ(server_->config().stitch.window, 7s);
  ASSERT_TRUE(wait_for([&] { return server_->pipeline().stats().window_ms == 7000; }));
  EXPECT_NE(server_->metrics_text().find("flowscope_stitch_window_seconds 7"), std::string::npos);
  // A listener change is kept for the next restart, the rest applies.
  ServerConfig moved = server_->config();
  moved.start_at.reset();
  moved.query.port = 1;
  moved.auth.max_failures = 9;
  ASSERT_TRUE(server_->reload(moved));
  EXPECT_EQ(server_->config().auth.max_failures, 9u);
  EXPECT_EQ(server_->config().query.port, 0);
}

}  // namespace
}  // namespace flowscope::server

namespace flowscope::server {
namespace {

// The name sources: interface names announced in options data (Cisco ASR 9000 capture) reach
// the sessions' INIFNAME/OUTIFNAME; with reverse_dns on, the session addresses are resolved by a
// resolver on 127.0.0.1 and the names are saved to DATADIR/ipinfo.tsv when the server stops.
TEST_F(ServerTest, InterfaceNamesAndReverseDnsReachTheStore) {
  const fs::path asr9k =
      flowscope::testing::corpus_dir() / "netflow" / "ls_netflow9_cisco_asr9k.pcap";
  if (!fs::exists(asr9k)) GTEST_SKIP() << "corpus capture not found: " << asr9k;
  flowscope::testing::TinyDns dns;
  ASSERT_TRUE(dns.ok());
  ServerConfig c = config();
  c.stitch.window = std::chrono::hours(1);
  c.enrich.reverse_dns = true;
  c.enrich.dns_servers = {dns.server()};
  start(c);
  auto sender = UdpSender::open("127.0.0.1:" + std::to_string(server_->netflow_port()));
  ASSERT_TRUE(sender);
  std::size_t records = 0;
  // Twice: the options data arrives mid-capture; the second pass meets a named table.
  for (int pass = 0; pass < 2; ++pass) {
    records += flowscope::testing::decode_capture(asr9k).batch.size();
    for (const auto& payload : flowscope::testing::udp_payloads(asr9k)) {
      std::span<const std::byte> one(payload);
      ASSERT_TRUE(sender->send(std::span(&one, 1)));
    }
  }
  ASSERT_TRUE(wait_for([&] { return server_->pipeline().stats().flows >= records; }));
  server_->stop();
  server_.reset();

  store::StoreOptions so;
  so.dir = dir_ / "data";
  so.read_only = true;
  auto st = store::EmbeddedStore::open(so);
  ASSERT_TRUE(st);
  std::set<std::string> names;
  ASSERT_TRUE((*st)->scan({}, [&](const SessionBatch& b) {
    for (std::size_t row = 0; row < b.size(); ++row) {
      if (b.is_set(FieldId::InIfName, row)) {
        names.insert(std::string(b.get<FieldId::InIfName>(row)));
      }
      if (b.is_set(FieldId::OutIfName, row)) {
        names.insert(std::string(b.get<FieldId::OutIfName>(row)));
      }
    }
    return true;
  }));
  EXPECT_FALSE(names.empty()) << "no session carries an interface name";
  for (const std::string& n : names) {
    EXPECT_TRUE(n.starts_with("TenGigE") || n.starts_with("GigabitEthernet") ||
                n.starts_with("Bundle"))
        << n;
  }
  // Every address was asked for; the tiny resolver knows none, so they are "notfound" or
  // "failed" — what matters is that the table was filled and saved.
  std::ifstream saved(dir_ / "data" / "ipinfo.tsv");
  ASSERT_TRUE(saved) << "ipinfo.tsv was not written";
  std::string header;
  std::getline(saved, header);
  EXPECT_EQ(header, "# flowscope ipinfo 1");
  std::size_t lines = 0;
  for (std::string line; std::getline(saved, line);) ++lines;
  EXPECT_GT(lines, 0u);
  EXPECT_GT(dns.queries(), 0u);
}

// TLS on the query port (docs/serve.md "TLS"): the same query over TLS and over plain TCP gives
// the same rows, through the Client and through `flowscope query --tls-ca`.
TEST_F(ServerTest, TlsQueryEqualsPlainQuery) {
  if (skip_without_corpus())
    GTEST_SKIP() << "corpus not found at " << flowscope::testing::corpus_dir();
  make_users();
  const flowscope::testing::TestCert cert = flowscope::testing::make_self_signed(dir_, "server");
  ServerConfig c = config();
  c.query.tls_cert = cert.cert;
  c.query.tls_key = cert.key;
  start(c);
  wait_stored(send_corpus());

  ClientOptions o = client_options();
  o.user = "admin";
  o.password = "adminpw";
  auto plain = remote_query(o, "");
  ASSERT_TRUE(plain) << plain.error().message;
  o.tls = true;
  o.tls_ca = cert.cert.string();
  auto tls = remote_query(o, "");
  ASSERT_TRUE(tls) << tls.error().message;
  EXPECT_GT(std::count(tls->begin(), tls->end(), '\n'), 10);
  EXPECT_EQ(*tls, *plain);
  EXPECT_EQ(*tls, local_query(""));
  EXPECT_GE(server_->query_server().stats().tls, 1u);

  const std::string srv = "127.0.0.1:" + std::to_string(server_->query_port());
  const std::vector<std::string> args = {"query", "-srv",    srv,  "-un", "admin",
                                         "-up",   "adminpw", "-t", "all", "-c+"};
  auto cli_plain = flowscope::testing::run_flowscope(args);
  ASSERT_EQ(cli_plain.exit_code, 0) << cli_plain.err;
  std::vector<std::string> with_ca = args;
  with_ca.insert(with_ca.end(), {"--tls-ca", cert.cert.string()});
  auto cli_tls = flowscope::testing::run_flowscope(with_ca);
  ASSERT_EQ(cli_tls.exit_code, 0) << cli_tls.err;
  EXPECT_GT(std::count(cli_tls.out.begin(), cli_tls.out.end(), '\n'), 10);
  EXPECT_EQ(cli_tls.out, cli_plain.out);
  EXPECT_EQ(cli_tls.err.find("warning"), std::string::npos) << cli_tls.err;

  std::vector<std::string> insecure = args;
  insecure.push_back("--tls-insecure");
  auto cli_insecure = flowscope::testing::run_flowscope(insecure);
  ASSERT_EQ(cli_insecure.exit_code, 0) << cli_insecure.err;
  EXPECT_EQ(cli_insecure.out, cli_plain.out);
  EXPECT_NE(cli_insecure.err.find("warning: --tls-insecure"), std::string::npos);
}

TEST_F(ServerTest, TlsRequiredRefusesPlainAndUnverifiedServers) {
  make_users();
  const flowscope::testing::TestCert cert = flowscope::testing::make_self_signed(dir_, "server");
  const flowscope::testing::TestCert other = flowscope::testing::make_self_signed(dir_, "other-ca");
  ServerConfig c = config();
  c.query.tls_cert = cert.cert;
  c.query.tls_key = cert.key;
  c.query.tls_required = true;
  start(c);

  ClientOptions o = client_options();
  o.user = "admin";
  o.password = "adminpw";
  auto plain = Client::connect(o);
  ASSERT_FALSE(plain);
  EXPECT_NE(plain.error().message.find("tls_required"), std::string::npos) << plain.error().message;
  EXPECT_NE(plain.error().message.find("--tls"), std::string::npos);

  o.tls = true;
  o.tls_ca = other.cert.string();
  auto foreign = Client::connect(o);
  ASSERT_FALSE(foreign);
  EXPECT_NE(foreign.error().message.find("did not verify"), std::string::npos)
      << foreign.error().message;
  EXPECT_NE(foreign.error().message.find("--tls-ca"), std::string::npos);

  // The system CAs do not know a self-signed certificate either.
  o.tls_ca.clear();
  auto system = Client::connect(o);
  ASSERT_FALSE(system);
  EXPECT_NE(system.error().message.find("did not verify"), std::string::npos);

  o.tls_ca = cert.cert.string();
  auto good = Client::connect(o);
  ASSERT_TRUE(good) << good.error().message;
  EXPECT_EQ(good->user(), "admin");
  EXPECT_EQ(good->transport().protocol_version().rfind("TLSv1.", 0), 0u);
  auto rows = remote_query(o, "");  // requests run over TLS after the login
  EXPECT_TRUE(rows) << rows.error().message;

  ClientOptions by_name = o;
  by_name.server = "localhost:" + std::to_string(server_->query_port());
  EXPECT_TRUE(Client::connect(by_name));  // DNS:localhost is in the certificate

  ClientOptions insecure = o;
  insecure.tls_ca.clear();
  insecure.tls_insecure = true;
  EXPECT_TRUE(Client::connect(insecure));

  auto cli = flowscope::testing::run_flowscope(
      {"query", "-srv", "127.0.0.1:" + std::to_string(server_->query_port()), "-un", "admin", "-up",
       "adminpw", "-t", "all"});
  EXPECT_EQ(cli.exit_code, 1);
  EXPECT_NE(cli.err.find("accepts only TLS"), std::string::npos) << cli.err;
  EXPECT_GE(server_->query_server().stats().tls_failed, 3u);
  EXPECT_NE(server_->metrics_text().find("flowscope_query_tls_handshakes_total{result=\"ok\"}"),
            std::string::npos);

  // A reload (SIGHUP) reads the certificate again: the other one is served from then on, and a
  // pair that does not load leaves the running one in place.
  ServerConfig renewed = server_->config();
  renewed.query.tls_cert = other.cert;
  renewed.query.tls_key = other.key;
  ASSERT_TRUE(server_->reload(renewed));
  ClientOptions trusts_other = o;
  trusts_other.tls_ca = other.cert.string();
  EXPECT_TRUE(Client::connect(trusts_other));
  EXPECT_FALSE(Client::connect(o));  // the first certificate is no longer served
  ServerConfig broken = server_->config();
  broken.query.tls_key = dir_ / "missing.key";
  ASSERT_TRUE(server_->reload(broken));
  EXPECT_EQ(server_->config().query.tls_key, other.key);
  EXPECT_TRUE(Client::connect(trusts_other));
}

TEST_F(ServerTest, TlsClientAgainstPlainServerSaysSo) {
  make_users();
  start(config());
  ClientOptions o = client_options();
  o.user = "admin";
  o.password = "adminpw";
  o.tls = true;
  o.tls_insecure = true;
  auto r = Client::connect(o);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("tls_cert"), std::string::npos) << r.error().message;
  o.tls = false;
  o.tls_insecure = false;
  EXPECT_TRUE(Client::connect(o));  // the server still serves plain connections
}

TEST_F(ServerTest, BadTlsKeyRefusesToStart) {
  const flowscope::testing::TestCert cert = flowscope::testing::make_self_signed(dir_, "server");
  const flowscope::testing::TestCert other = flowscope::testing::make_self_signed(dir_, "other");
  ServerConfig c = config();
  c.query.tls_cert = cert.cert;
  c.query.tls_key = dir_ / "missing.key";
  auto missing = Server::start(c, ServerOptions{clock_.clock()});
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("missing.key"), std::string::npos);
  c.query.tls_key = other.key;
  auto mismatch = Server::start(c, ServerOptions{clock_.clock()});
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("is not the private key"), std::string::npos)
      << mismatch.error().message;
}

}  // namespace
}  // namespace flowscope::server
