#pragma once
// A `flowscope serve` in-process for the HTTP tests (tests/server/http_api_test.cpp,
// scrutinizer_test.cpp): loopback, port 0, a fixed clock, IP groups with Scrutinizer-style ids
// (Campus 16800023 with Physics nested in it, DMZ 16800030), 720 sessions over the two hours
// before "now" written by the test (groups assigned from the same IP group table, as the
// enricher does), users admin, bob (IP group Campus), carol (exporter 192.0.2.1) and nogroup,
// and an API token for each. Helpers send requests with cpp-httplib and run the flowscope
// binary on the same store for the answers to compare with.
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/country_code.h"
#include "core/url_encode.h"
#include "enrich/ip_groups.h"
#include "server/server.h"
#include "server/users.h"
#include "store/embedded_store.h"

#include "test_support.h"

namespace flowscope::server::testing {

inline constexpr std::int64_t kHttpNowMs = 1'790'000'000'000;
inline constexpr std::size_t kHttpRows = 720;
inline constexpr std::uint32_t kCampusId = 16800023;
inline constexpr std::uint32_t kPhysicsId = 16800024;
inline constexpr std::uint32_t kDmzId = 16800030;

inline const char* kIpGroupsToml = R"([[group]]
name = "Campus"
id = 16800023
location = "Main site"
activity = "Teaching"
addresses = ["10.1.0.0/16"]

[[group]]
name = "Physics"
id = 16800024
parent = "Campus"
location = "Main site"
activity = "Research"
addresses = ["10.1.5.0/24"]

[[group]]
name = "DMZ"
id = 16800030
location = "Data centre"
activity = "Services"
addresses = ["172.16.0.0/16"]
)";

inline std::string query_string(const std::vector<std::pair<std::string, std::string>>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out.push_back('&');
    out.append(url_encode(k));
    out.push_back('=');
    out.append(url_encode(v));
  }
  return out;
}

struct HttpReply {
  int status = 0;
  std::string body;
  std::string content_type;
  nlohmann::json json;  // null when the body is not JSON
};

// One test session, as written.
struct TestRow {
  std::uint64_t id;
  std::int64_t start_ms;
  IpAddress cln, srv, exporter;
  std::uint32_t cln_group, srv_group;
  // The groups' names, locations and activities, as the enricher stores them beside the ids.
  const enrich::IpGroup* cln_info = nullptr;
  const enrich::IpGroup* srv_info = nullptr;
  std::uint32_t in_if, out_if;
};

class HttpFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           fmt::format("flowscope-http-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    groups_file_ = dir_ / "ipgroups.toml";
    std::ofstream(groups_file_) << kIpGroupsToml;
    auto groups = enrich::IpGroups::load(groups_file_);
    ASSERT_TRUE(groups) << groups.error().message;
    groups_ = std::make_shared<enrich::IpGroups>(std::move(*groups));
    write_store();
    write_users();
    start_server(config());
  }
  void TearDown() override {
    server_.reset();
    std::filesystem::remove_all(dir_);
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
    c.auth.max_failures = 1000;
    c.enrich.ip_groups = groups_file_;
    return c;
  }

  void start_server(ServerConfig c) {
    server_.reset();
    auto s = Server::start(std::move(c), ServerOptions{clock()});
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }

  Clock clock() const {
    auto p = now_ms_;
    return [p] { return time_from_ms(p->load()); };
  }

  static TestRow make_row(std::size_t i, const enrich::IpGroups& groups) {
    TestRow r;
    r.id = i + 1;
    r.start_ms = kHttpNowMs - 7'200'000 + static_cast<std::int64_t>(i) * 10'000;
    const auto a = static_cast<std::uint32_t>(i);
    switch (i % 4) {
      case 0: r.cln = IpAddress::v4(0x0A010000u + ((a % 3) << 8) + a % 50 + 1); break;
      case 1: r.cln = IpAddress::v4(0x0A010500u + a % 20 + 1); break;
      case 2: r.cln = IpAddress::v4(0xAC100000u + a % 30 + 1); break;
      default: r.cln = IpAddress::v4(0xC0A80100u + a % 25 + 1); break;
    }
    switch (i % 5) {
      case 0: r.srv = IpAddress::v4(0x0A010900u + a % 7 + 1); break;
      case 1: r.srv = IpAddress::v4(0x08080008u + ((a % 3) << 8)); break;
      case 2: r.srv = IpAddress::v4(0xAC100100u + a % 4 + 1); break;
      default: r.srv = IpAddress::v4(0x5DB8D800u + a % 6 + 1); break;
    }
    r.exporter = IpAddress::v4(i % 3 == 0 ? 0xC0000201u : 0xC0000202u);
    r.cln_group = groups.lookup(r.cln);
    r.srv_group = groups.lookup(r.srv);
    r.cln_info = groups.group(r.cln_group);
    r.srv_info = groups.group(r.srv_group);
    r.in_if = 1 + a % 3;
    r.out_if = 10 + a % 2;
    return r;
  }

  static void add_row(SessionBatch& b, const TestRow& row, std::size_t i) {
    static const char* const kApps[] = {"https", "dns", "http", "ssh"};
    static const std::uint16_t kPorts[] = {443, 53, 80, 22};
    static const char* const kClnCc[] = {"US", "DE", "FR"};
    static const char* const kSrvCc[] = {"NL", "US"};
    static const std::uint8_t kTos[] = {0, 32, 184};
    const std::size_t r = b.add_row();
    b.set<FieldId::SessionId>(r, row.id);
    b.set<FieldId::StartTime>(r, row.start_ms);
    b.set<FieldId::EndTime>(r, row.start_ms + 2000);
    b.set<FieldId::ClnAddr>(r, row.cln);
    b.set<FieldId::SrvAddr>(r, row.srv);
    b.set<FieldId::Exporter>(r, row.exporter);
    b.set<FieldId::ClnPort>(r, static_cast<std::uint16_t>(40000 + i % 1000));
    b.set<FieldId::SrvPort>(r, kPorts[i % 4]);
    b.set<FieldId::Proto>(r, static_cast<std::uint8_t>(i % 4 == 1 ? 17 : 6));
    b.set<FieldId::ClnBytes>(r, 100 + (i * 37) % 1000);
    b.set<FieldId::SrvBytes>(r, 1000 + (i * 53) % 5000);
    b.set<FieldId::ClnPackets>(r, 1 + i % 7);
    b.set<FieldId::SrvPackets>(r, 2 + i % 11);
    b.set<FieldId::InIf>(r, row.in_if);
    b.set<FieldId::OutIf>(r, row.out_if);
    b.set<FieldId::Application>(r, kApps[i % 4]);
    b.set<FieldId::ClnCountry>(r, *CountryCode::parse(kClnCc[i % 3]));
    b.set<FieldId::SrvCountry>(r, *CountryCode::parse(kSrvCc[i % 2]));
    b.set<FieldId::Tos>(r, kTos[i % 3]);
    if (row.cln_group != 0) b.set<FieldId::ClnGroup>(r, row.cln_group);
    if (row.srv_group != 0) b.set<FieldId::SrvGroup>(r, row.srv_group);
    if (row.cln_info != nullptr) {
      b.set<FieldId::ClnGroupName>(r, row.cln_info->name);
      b.set<FieldId::ClnLocation>(r, row.cln_info->location);
      b.set<FieldId::ClnActivity>(r, row.cln_info->activity);
    }
    if (row.srv_info != nullptr) {
      b.set<FieldId::SrvGroupName>(r, row.srv_info->name);
      b.set<FieldId::SrvLocation>(r, row.srv_info->location);
      b.set<FieldId::SrvActivity>(r, row.srv_info->activity);
    }
  }

  void write_store() {
    store::StoreOptions o;
    o.dir = dir_ / "data";
    auto st = store::EmbeddedStore::open(o);
    ASSERT_TRUE(st) << st.error().message;
    SessionBatch b;
    for (std::size_t i = 0; i < kHttpRows; ++i) {
      rows_.push_back(make_row(i, *groups_));
      add_row(b, rows_.back(), i);
    }
    ASSERT_TRUE((*st)->append(b));
    ASSERT_TRUE((*st)->close());
  }

  void write_users() {
    UserDb db;
    ASSERT_TRUE(db.add_user("admin", "adminpw", Role::Admin));
    ASSERT_TRUE(db.add_user("bob", "bobpw", Role::Analyst));
    ASSERT_TRUE(db.add_user("carol", "carolpw", Role::Analyst));
    ASSERT_TRUE(db.add_user("nogroup", "pw", Role::Analyst));
    ASSERT_TRUE(db.add_group("campus"));
    ASSERT_TRUE(db.grant("campus", GrantKind::IpGroup, "Campus"));
    ASSERT_TRUE(db.add_group("edge"));
    ASSERT_TRUE(db.grant("edge", GrantKind::Exporter, "192.0.2.1"));
    ASSERT_TRUE(db.set_groups("bob", {"campus"}));
    ASSERT_TRUE(db.set_groups("carol", {"edge"}));
    for (const char* who : {"admin", "bob", "carol", "nogroup"}) {
      auto t = db.add_token(who, "test", kHttpNowMs);
      ASSERT_TRUE(t);
      tokens_[who] = *t;
    }
    ASSERT_TRUE(db.save(dir_ / "users.json"));
  }

  httplib::Headers auth(const std::string& token) const {
    if (token.empty()) return {};
    return {{"Authorization", "Bearer " + token}};
  }

  static HttpReply reply_of(const httplib::Result& r) {
    HttpReply out;
    if (!r) return out;
    out.status = r->status;
    out.body = r->body;
    out.content_type = r->get_header_value("Content-Type");
    out.json = nlohmann::json::parse(r->body, nullptr, false);
    if (out.json.is_discarded()) out.json = nullptr;
    return out;
  }

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", server_->http_port());
    c.set_read_timeout(30, 0);
    return c;
  }

  HttpReply get(const std::string& target, const std::string& token = "",
                httplib::Headers extra = {}) const {
    auto c = client();
    httplib::Headers h = auth(token);
    h.insert(extra.begin(), extra.end());
    return reply_of(c.Get(target, h));
  }

  HttpReply post_json(const std::string& target, const nlohmann::json& body,
                      const std::string& token = "") const {
    auto c = client();
    return reply_of(c.Post(target, auth(token), body.dump(), "application/json"));
  }

  HttpReply post_form(const std::string& target,
                      const std::vector<std::pair<std::string, std::string>>& form,
                      const std::string& token = "") const {
    auto c = client();
    return reply_of(
        c.Post(target, auth(token), query_string(form), "application/x-www-form-urlencoded"));
  }

  HttpReply post_multipart(const std::string& target,
                           const std::vector<std::pair<std::string, std::string>>& form) const {
    auto c = client();
    httplib::MultipartFormDataItems items;
    for (const auto& [k, v] : form) items.push_back({k, v, "", ""});
    return reply_of(c.Post(target, items));
  }

  // `flowscope stat` on the same store, as JSON lines.
  std::vector<nlohmann::json> cli_stat(const std::vector<std::string>& args) const {
    std::vector<std::string> all = {"stat",
                                    "-d",
                                    (dir_ / "data").string(),
                                    "--now",
                                    std::to_string(kHttpNowMs / 1000),
                                    "--groups",
                                    groups_file_.string(),
                                    "--json"};
    all.insert(all.end(), args.begin(), args.end());
    const auto r = flowscope::testing::run_flowscope(all);
    EXPECT_EQ(r.exit_code, 0) << r.err;
    std::vector<nlohmann::json> out;
    std::istringstream lines(r.out);
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) out.push_back(nlohmann::json::parse(line));
    }
    return out;
  }

  std::filesystem::path dir_;
  std::filesystem::path groups_file_;
  std::shared_ptr<enrich::IpGroups> groups_;
  std::shared_ptr<std::atomic<std::int64_t>> now_ms_ =
      std::make_shared<std::atomic<std::int64_t>>(kHttpNowMs);
  std::vector<TestRow> rows_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<Server> server_;
};

}  // namespace flowscope::server::testing
