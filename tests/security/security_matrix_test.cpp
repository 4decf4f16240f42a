// The security matrix (F15): every way a user reaches data on `flowscope serve` — raw query,
// stat, stat with a time series, the built-in sessions request; FlowTraq and nfdump filter
// syntaxes — tried by users with different data permissions with a corpus of hostile filters
// (quotes of both kinds, escapes, comment markers, operators inside values, unicode). Each
// answer is checked against an oracle computed here from the rows written, independently of
// the server's permission code. Reports "tried N, bypassed M" and fails on any bypass.
// The HTTP paths (F10) are in the matrix too: /api/v1/sessions (JSON pages through the cursor,
// and CSV), /api/v1/stat with and without a series (the 'others' row included), and
// Scrutinizer's report_api table, pie and timeseries (the 'Other' row and series included),
// each with an API token as Bearer and with the dashboard's session key cookie (F11).
// Authentication is tried the same way: wrong password, unknown user, a key from another
// address, idle and maximum age. Runs from a fresh clone: the data is written by the test.
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/cidr.h"
#include "core/url_encode.h"
#include "query/query_spec.h"
#include "server/client.h"
#include "server/server.h"
#include "server/server_fixture.h"
#include "server/users.h"
#include "store/embedded_store.h"

namespace flowscope::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr std::int64_t kNowMs = 1'790'000'000'000;  // ManualClock's start
constexpr std::size_t kRows = 240;

// Service and application names that are themselves attacks once printed without escaping.
const char* const kNames[] = {"http", "z",    "z\"'or!SERVICE=='z",       "it's",
                              "a\\b", "中文", "x\" || SESSID >= 0 || \"x"};

struct Row {
  std::uint64_t id;
  IpAddress cln, srv, exporter;
};

using FakeClock = testing::ManualClock;  // starts at kNowMs

// Who may see what, written here from the grants below (not from server code).
struct Who {
  std::string user, password;
  std::function<bool(const Row&)> sees;
};

class SecurityMatrix : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("flowscope-security-{}-{}", ::getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    write_store();
    write_users();
    ServerConfig c;
    c.source = "test";
    c.ingest.listen = {"127.0.0.1"};
    c.ingest.netflow_port = c.ingest.ipfix_port = c.ingest.sflow_port = 0;
    c.store.dir = dir_ / "data";
    c.query.port = 0;
    c.http.port = 0;
    c.auth.users = dir_ / "users.json";
    c.auth.max_failures = 1000;  // the matrix logs in many times; throttling is tested apart
    auto s = Server::start(std::move(c), ServerOptions{clock_.clock()});
    ASSERT_TRUE(s) << s.error().message;
    server_ = std::move(*s);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  void write_store() {
    store::StoreOptions o;
    o.dir = dir_ / "data";
    auto st = store::EmbeddedStore::open(o);
    ASSERT_TRUE(st) << st.error().message;
    SessionBatch b;
    for (std::size_t i = 0; i < kRows; ++i) {
      const std::size_t r = b.add_row();
      Row row;
      row.id = i + 1;
      // Clients in 10.1/16 (a third), 10.2/16 and 172.16/16; servers in 10.1/16 for some of
      // the others, so both sides count.
      const std::uint32_t net = i % 3 == 0 ? 0x0A010000u : i % 3 == 1 ? 0x0A020000u : 0xAC100000u;
      row.cln = IpAddress::v4(net + static_cast<std::uint32_t>(i));
      row.srv = IpAddress::v4((i % 5 == 0 ? 0x0A010000u : 0xC0A80000u) +
                              static_cast<std::uint32_t>(i % 9));
      row.exporter = IpAddress::v4(i % 4 == 0 ? 0xC0000201u : 0xC0000202u);
      rows_.push_back(row);
      b.set<FieldId::SessionId>(r, row.id);
      b.set<FieldId::StartTime>(r, kNowMs - 3'600'000 + static_cast<std::int64_t>(i) * 10'000);
      b.set<FieldId::EndTime>(r, kNowMs - 3'600'000 + static_cast<std::int64_t>(i) * 10'000 + 500);
      b.set<FieldId::ClnAddr>(r, row.cln);
      b.set<FieldId::SrvAddr>(r, row.srv);
      b.set<FieldId::Exporter>(r, row.exporter);
      b.set<FieldId::ClnPort>(r, static_cast<std::uint16_t>(40000 + i));
      b.set<FieldId::SrvPort>(r, static_cast<std::uint16_t>(i % 2 == 0 ? 443 : 53));
      b.set<FieldId::Proto>(r, static_cast<std::uint8_t>(i % 2 == 0 ? 6 : 17));
      b.set<FieldId::ClnBytes>(r, 100 + i);
      b.set<FieldId::SrvBytes>(r, 1000 + i);
      b.set<FieldId::ClnPackets>(r, 1 + i % 7);
      b.set<FieldId::SrvPackets>(r, 2 + i % 5);
      b.set<FieldId::Service>(r, kNames[i % std::size(kNames)]);
      b.set<FieldId::Application>(r, kNames[(i + 3) % std::size(kNames)]);
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
    ASSERT_TRUE(db.grant("campus", GrantKind::IpGroup, "10.1.0.0/16"));
    ASSERT_TRUE(db.add_group("edge"));
    ASSERT_TRUE(db.grant("edge", GrantKind::Exporter, "192.0.2.1"));
    ASSERT_TRUE(db.set_groups("bob", {"campus"}));
    ASSERT_TRUE(db.set_groups("carol", {"edge"}));
    for (const char* who : {"admin", "bob", "carol", "nogroup"}) {
      auto t = db.add_token(who, "matrix", kNowMs);
      ASSERT_TRUE(t);
      tokens_[who] = *t;
    }
    ASSERT_TRUE(db.save(dir_ / "users.json"));
  }

  ClientOptions login(const Who& w) const {
    ClientOptions o;
    o.server = "127.0.0.1:" + std::to_string(server_->query_port());
    o.user = w.user;
    o.password = w.password;
    return o;
  }

  std::vector<Who> users() const {
    const Cidr campus = *Cidr::parse("10.1.0.0/16");
    const IpAddress edge = IpAddress::v4(0xC0000201u);
    return {
        {"admin", "adminpw", [](const Row&) { return true; }},
        {"bob", "bobpw",
         [campus](const Row& r) { return campus.contains(r.cln) || campus.contains(r.srv); }},
        {"carol", "carolpw", [edge](const Row& r) { return r.exporter == edge; }},
        {"nogroup", "pw", [](const Row&) { return false; }},
    };
  }

  std::size_t visible(const Who& w) const {
    std::size_t n = 0;
    for (const Row& r : rows_) n += w.sees(r) ? 1 : 0;
    return n;
  }
  const Row* row_of(std::uint64_t id) const {
    return id >= 1 && id <= rows_.size() ? &rows_[id - 1] : nullptr;
  }

  fs::path dir_;
  FakeClock clock_;
  std::vector<Row> rows_;
  std::map<std::string, std::string> tokens_;
  std::unique_ptr<Server> server_;
};

// Filters a hostile user sends: the reported bypass and its relatives.
std::vector<std::pair<std::string, query::FilterSyntax>> injection_corpus() {
  using S = query::FilterSyntax;
  std::vector<std::pair<std::string, S>> v = {
      {"", S::FlowTraq},
      {R"(SERVICE == z"'or!SERVICE=='z'or!SERVICE=='z)", S::FlowTraq},
      {R"(APP == z"'or!APP=='z'or!APP=='z)", S::FlowTraq},
      {R"(SERVICE == "z\"'or!SERVICE=='z")", S::FlowTraq},
      {R"(SERVICE == 'z\'' || SESSID >= 0 || SERVICE == '')", S::FlowTraq},
      {R"(SERVICE == "x\" || SESSID >= 0 || \"x")", S::FlowTraq},
      {R"(SERVICE == "a\\b" || !(SERVICE == "a\\b"))", S::FlowTraq},
      {R"(SESSID >= 0 || SESSID < 0)", S::FlowTraq},
      {R"(!(PROTO == 0 && !(PROTO == 0)))", S::FlowTraq},
      {R"(SERVICE == "中文" or not SERVICE == "中文")", S::FlowTraq},
      {R"(SERVICE == x) || (SESSID >= 0)", S::FlowTraq},
      {R"(SERVICE == x)) || ((SESSID >= 0)", S::FlowTraq},
      {"SERVICE == z # || SESSID >= 0", S::FlowTraq},
      {"SERVICE == z /* */ || SESSID >= 0", S::FlowTraq},
      {"SERVICE == z -- || SESSID >= 0", S::FlowTraq},
      {std::string("SERVICE == \"z\0\" || SESSID >= 0", 31), S::FlowTraq},
      {"ADDR == 0.0.0.0/0 || ADDR == ::/0", S::FlowTraq},
      {"ADDR == 172.16.0.0/16", S::FlowTraq},
      {"EXPIP == 192.0.2.2", S::FlowTraq},
      {"any", S::Nfdump},
      {"any or any", S::Nfdump},
      {"not ip 1.2.3.4", S::Nfdump},
      {"net 0.0.0.0/0 or not net 0.0.0.0/0", S::Nfdump},
      {"src net 172.16.0.0/16", S::Nfdump},
      {") or (any", S::Nfdump},
  };
  return v;
}

struct Tally {
  std::size_t tried = 0;
  std::size_t bypassed = 0;
  std::vector<std::string> examples;
  void bypass(std::string what) {
    ++bypassed;
    if (examples.size() < 20) examples.push_back(std::move(what));
  }
};

TEST_F(SecurityMatrix, NoFilterOrPathWidensAUsersPermissions) {
  Tally tally;
  std::map<std::string, std::size_t> benign_rows;  // rows each user saw with no filter
  for (const Who& who : users()) {
    auto client = Client::connect(login(who));
    ASSERT_TRUE(client) << who.user << ": " << client.error().message;
    const std::size_t allowed = visible(who);
    for (const auto& [filter, syntax] : injection_corpus()) {
      const std::string label =
          fmt::format("{} [{}] {:?}", who.user,
                      syntax == query::FilterSyntax::Nfdump ? "nfdump" : "flowtraq", filter);
      // 1. Raw sessions through `query`: every id returned must be one the user may see.
      query::QuerySpec q;
      q.where.filter = filter;
      q.where.syntax = syntax;
      q.fields = {FieldId::SessionId};
      std::string text;
      auto done = client->request(
          {{"kind", "query"}, {"spec", query::to_json(q)}, {"output", "csv"}}, [&](const Frame& f) {
            text += f.body.value("text", "");
            return true;
          });
      ++tally.tried;
      std::set<std::uint64_t> ids;
      if (done) {
        std::istringstream lines(text);
        for (std::string line; std::getline(lines, line);) {
          if (line.empty()) continue;
          const std::uint64_t id = std::stoull(line);
          const Row* row = row_of(id);
          if (row == nullptr || !who.sees(*row)) {
            tally.bypass(fmt::format("query {}: session {}", label, id));
          }
          ids.insert(id);
        }
        if (filter.empty()) benign_rows[who.user] = ids.size();
      }
      // 2. `stat` (sessions by protocol, one row per protocol), with and without a series:
      // the total may not count more sessions than the user may see, and equals what `query`
      // returned for the same filter.
      for (const std::int64_t bucket : {std::int64_t{0}, std::int64_t{600'000}}) {
        query::StatSpec s;
        s.where = q.where;
        s.count = query::CountKind::Sessions;
        auto group = query::parse_group_spec("proto");
        ASSERT_TRUE(group);
        s.group_by = *group;
        s.top = 1;  // the rest in "others": permissions hold there too
        s.bucket_ms = bucket;
        std::string json;
        auto sd =
            client->request({{"kind", "stat"}, {"spec", query::to_json(s)}, {"output", "json"}},
                            [&](const Frame& f) {
                              json += f.body.value("text", "");
                              return true;
                            });
        ++tally.tried;
        if (!sd) {
          if (done) tally.bypass(fmt::format("stat {} failed where query did not", label));
          continue;
        }
        std::uint64_t total = 0;
        std::uint64_t series_sum = 0;
        std::istringstream lines(json);
        for (std::string line; std::getline(lines, line);) {
          if (line.empty()) continue;
          const auto obj = nlohmann::json::parse(line);
          if (obj.value("total", false)) total = obj.value("sessions", std::uint64_t{0});
          if (obj.contains("series")) {
            for (const auto& p : obj["series"]) series_sum += p["value"].get<std::uint64_t>();
          }
        }
        if (total > allowed || (done && total != ids.size())) {
          tally.bypass(fmt::format("stat {} bucket {}: total {} sessions, {} allowed, query {}",
                                   label, bucket, total, allowed, ids.size()));
        }
        if (bucket > 0 && series_sum > allowed) {
          tally.bypass(fmt::format("stat series {}: {} sessions in the series, {} allowed", label,
                                   series_sum, allowed));
        }
      }
    }
    // 3. The built-in sessions request (no filter of its own; permissions only).
    std::vector<std::uint64_t> seen;
    auto sessions =
        client->request({{"kind", "sessions"}, {"columns", {"session_id"}}}, [&](const Frame& f) {
          if (f.body.contains("rows")) {
            for (const auto& r : f.body["rows"]) {
              seen.push_back(std::stoull(r[0].get<std::string>()));
            }
          }
          return true;
        });
    ++tally.tried;
    ASSERT_TRUE(sessions) << sessions.error().message;
    for (std::uint64_t id : seen) {
      const Row* row = row_of(id);
      if (row == nullptr || !who.sees(*row)) {
        tally.bypass(fmt::format("sessions {}: session {}", who.user, id));
      }
    }
    EXPECT_EQ(seen.size(), allowed) << who.user << " through sessions";
  }
  std::cout << fmt::format("security matrix: {} tried, {} bypassed\n", tally.tried, tally.bypassed);
  for (const auto& e : tally.examples) std::cout << "  bypass: " << e << '\n';
  EXPECT_EQ(tally.bypassed, 0u);
  // Not vacuous: every user saw exactly their share with the empty filter.
  for (const Who& who : users()) EXPECT_EQ(benign_rows[who.user], visible(who)) << who.user;
  EXPECT_EQ(benign_rows["admin"], kRows);
  EXPECT_GT(benign_rows["bob"], 0u);
  EXPECT_LT(benign_rows["bob"], kRows);
  EXPECT_GT(benign_rows["carol"], 0u);
  EXPECT_EQ(benign_rows["nogroup"], 0u);
}

TEST_F(SecurityMatrix, NoHttpPathWidensAUsersPermissions) {
  Tally tally;
  httplib::Client http("127.0.0.1", server_->http_port());
  http.set_read_timeout(30, 0);
  // Each user is tried with each way a credential reaches the server: an API token as Bearer,
  // and the dashboard's session key cookie (docs/web.md). A way that skipped the permission
  // check would show up as a bypass.
  struct Credential {
    std::string via;
    httplib::Headers headers;
  };
  auto get = [&](const std::string& target, const Credential& cred) {
    auto r = http.Get(target, cred.headers);
    std::pair<int, std::string> out{r ? r->status : 0, r ? r->body : ""};
    return out;
  };
  std::map<std::string, std::uint64_t> report_flows;  // unfiltered report total per user
  for (const Who& who : users()) {
    auto login = http.Post(
        "/api/v1/login",
        nlohmann::json{{"user", who.user}, {"password", who.password}, {"cookie", true}}.dump(),
        "application/json");
    ASSERT_TRUE(login && login->status == 200) << who.user;
    const std::string set_cookie = login->get_header_value("Set-Cookie");
    const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
    ASSERT_TRUE(cookie.starts_with("flowscope_key=")) << set_cookie;
    const std::vector<Credential> credentials = {
        {"bearer", {{"Authorization", "Bearer " + tokens_.at(who.user)}}},
        {"cookie", {{"Cookie", cookie}}},
    };
    for (const Credential& token : credentials) {
      const std::size_t allowed = visible(who);
      auto check_ids = [&](const std::vector<std::uint64_t>& ids, const std::string& what) {
        for (std::uint64_t id : ids) {
          const Row* row = row_of(id);
          if (row == nullptr || !who.sees(*row))
            tally.bypass(fmt::format("{}: session {}", what, id));
        }
      };
      for (const auto& [filter, syntax] : injection_corpus()) {
        const std::string base =
            fmt::format("window=all&filter={}&syntax={}", url_encode(filter),
                        syntax == query::FilterSyntax::Nfdump ? "nfdump" : "flowtraq");
        const std::string label = fmt::format("{} ({}) {:?}", who.user, token.via, filter);
        // 1. /api/v1/sessions, paged by cursor (20 rows a page), every id one the user may see.
        std::vector<std::uint64_t> ids;
        bool ok = true;
        std::string cursor;
        for (int page = 0; page < 50; ++page) {
          std::string target = "/api/v1/sessions?" + base + "&fields=session_id&limit=20";
          if (!cursor.empty()) target += "&cursor=" + cursor;
          const auto [status, body] = get(target, token);
          ++tally.tried;
          if (status != 200) {
            ok = false;
            break;
          }
          const auto j = nlohmann::json::parse(body);
          for (const auto& r : j["rows"]) ids.push_back(r["session_id"].get<std::uint64_t>());
          if (!j["next_cursor"].is_string()) break;
          cursor = j["next_cursor"];
        }
        check_ids(ids, "http sessions " + label);
        if (ok && filter.empty() && ids.size() != allowed) {
          tally.bypass(
              fmt::format("http sessions {}: {} rows, {} allowed", label, ids.size(), allowed));
        }
        // CSV.
        {
          const auto [status, body] =
              get("/api/v1/sessions?" + base + "&fields=session_id&format=csv", token);
          ++tally.tried;
          std::vector<std::uint64_t> csv;
          std::istringstream lines(body);
          std::string line;
          std::getline(lines, line);  // header
          while (status == 200 && std::getline(lines, line)) {
            if (!line.empty()) csv.push_back(std::stoull(line));
          }
          check_ids(csv, "http csv " + label);
          if (ok && csv.size() != ids.size()) {
            tally.bypass(
                fmt::format("http csv {}: {} rows, pages {}", label, csv.size(), ids.size()));
          }
        }
        // 2. /api/v1/stat, top 1 so that the rest is in 'others', with and without a series.
        for (const char* series : {"", "&series=10m"}) {
          const auto [status, body] =
              get("/api/v1/stat?" + base + "&group=proto&count=sessions&top=1" + series, token);
          ++tally.tried;
          if (status != 200) {
            if (ok) tally.bypass(fmt::format("http stat {} failed where sessions did not", label));
            continue;
          }
          const auto j = nlohmann::json::parse(body);
          std::uint64_t sum = j["others"].value("sessions", std::uint64_t{0});
          std::uint64_t series_sum = 0;
          for (const auto& r : j["rows"]) {
            sum += r.value("sessions", std::uint64_t{0});
            for (const auto& p : r.value("series", nlohmann::json::array())) {
              series_sum += p["value"].get<std::uint64_t>();
            }
          }
          for (const auto& p : j["others"].value("series", nlohmann::json::array())) {
            series_sum += p["value"].get<std::uint64_t>();
          }
          const std::uint64_t total = j["total"].value("sessions", std::uint64_t{0});
          if (total > allowed || sum > allowed || series_sum > allowed ||
              (ok && total != ids.size())) {
            tally.bypass(
                fmt::format("http stat{} {}: total {}, rows+others {}, series {}, {} "
                            "allowed, sessions {}",
                            series, label, total, sum, series_sum, allowed, ids.size()));
          }
        }
      }
      // 3. report_api: table (top 1 and the 'Other' footer), pie and timeseries with 'Other'.
      const std::vector<nlohmann::json> sdf = {
          nlohmann::json::object(),
          {{"sdfDips_0", "in_GROUP_ALL"}},
          {{"sdfIps_0", "in_0.0.0.0/0_both"}, {"sdfIps_1", "in_::/0_both"}},
          {{"sdfIps_0", "in_172.16.0.0/16_src"}},
          {{"sdfDips_0", "in_C0000202_ALL"}},
      };
      for (const auto& filters : sdf) {
        const nlohmann::json rpt = {{"reportTypeLang", "host2host"},
                                    {"reportDirections", {{"selected", "inbound"}}},
                                    {"times",
                                     {{"dateRange", "Custom"},
                                      {"start", (kNowMs - 7'200'000) / 1000},
                                      {"end", kNowMs / 1000}}},
                                    {"orderBy", "sum_flows"},
                                    {"filters", filters}};
        const nlohmann::json wanted = {
            {"inbound",
             {{"graph", "all"},
              {"table", {{"query_limit", {{"offset", 0}, {"max_num_rows", 1}}}}}}}};
        const auto [status, body] = get(
            "/fcgi/scrut_fcgi.fcgi?rm=report_api&action=get&rpt_json=" + url_encode(rpt.dump()) +
                "&data_requested=" + url_encode(wanted.dump()),
            token);
        ++tally.tried;
        const auto j = nlohmann::json::parse(body, nullptr, false);
        if (status != 200 || j.is_discarded() || j.contains("err")) {
          tally.bypass(fmt::format("report_api {} {} failed: {}", who.user, filters.dump(), body));
          continue;
        }
        const auto& table = j["report"]["table"]["inbound"];
        // Columns: rank, client, server, value, bytes, packets, flows (docs/http.md).
        const std::uint64_t total = table["footer"]["total"][6]["rawValue"].get<std::uint64_t>();
        const std::uint64_t other = table["footer"]["others"][6]["rawValue"].get<std::uint64_t>();
        std::uint64_t pie = 0;
        for (const auto& p : j["report"]["graph"]["pie"]["inbound"])
          pie += p["value"].get<std::uint64_t>();
        std::uint64_t series = 0;
        for (const auto& s : j["report"]["graph"]["timeseries"]["inbound"]) {
          for (const auto& p : s) series += p[1].get<std::uint64_t>();
        }
        for (const auto& row : table["rows"]) {
          // The pair's sessions must all be visible: a pair outside the permissions is a leak.
          const auto cln = IpAddress::parse(row[1]["label"].get<std::string>());
          const auto srv = IpAddress::parse(row[2]["label"].get<std::string>());
          bool any = false;
          for (const Row& r : rows_)
            any = any || (cln && srv && r.cln == *cln && r.srv == *srv && who.sees(r));
          if (!any)
            tally.bypass(fmt::format("report_api {}: pair {} not visible", who.user, row.dump()));
        }
        if (total > allowed || other > allowed || pie > allowed || series > allowed) {
          tally.bypass(
              fmt::format("report_api {} {}: total {}, other {}, pie {}, series {}, {} "
                          "allowed",
                          who.user, filters.dump(), total, other, pie, series, allowed));
        }
        if (filters.empty()) report_flows[who.user] = total;
      }
      EXPECT_EQ(report_flows[who.user], allowed)
          << who.user << " through report_api with " << token.via;
    }
  }
  std::cout << fmt::format("security matrix (http): {} tried, {} bypassed\n", tally.tried,
                           tally.bypassed);
  for (const auto& e : tally.examples) std::cout << "  bypass: " << e << '\n';
  EXPECT_EQ(tally.bypassed, 0u);
  EXPECT_GT(report_flows["bob"], 0u);
  EXPECT_LT(report_flows["bob"], kRows);
  EXPECT_EQ(report_flows["nogroup"], 0u);
}

TEST_F(SecurityMatrix, AuthenticationRefusesEveryWrongWay) {
  Tally tally;
  auto refused = [&](const ClientOptions& o, std::string_view code, std::string_view what) {
    ++tally.tried;
    auto c = Client::connect(o);
    if (c) {
      tally.bypass(std::string(what) + ": logged in");
    } else if (c.error().message.find(code) == std::string::npos) {
      tally.bypass(
          fmt::format("{}: refused with {:?}, expected {}", what, c.error().message, code));
    }
  };
  const Who bob = users()[1];
  ClientOptions o = login(bob);
  o.password = "wrong";
  refused(o, "bad_credentials", "wrong password");
  o.password = "";
  refused(o, "bad_credentials", "empty password");
  o = login(bob);
  o.user = "mallory";
  refused(o, "bad_credentials", "unknown user");
  o.user = "BOB";
  refused(o, "bad_credentials", "user name in other case");

  o = login(bob);
  o.want_key = true;
  auto with_key = Client::connect(o);
  ASSERT_TRUE(with_key) << with_key.error().message;
  ClientOptions k = login(bob);
  k.user.clear();
  k.password.clear();
  k.key = with_key->key();
  ClientOptions other = k;
  other.bind_address = "127.0.0.2";
  refused(other, "key_wrong_source", "key from another address");
  ClientOptions forged = k;
  forged.key[0] = forged.key[0] == 'a' ? 'b' : 'a';
  refused(forged, "key", "forged key");
  clock_.advance(31min);
  refused(k, "key_expired", "idle key");

  // Maximum age: used every 29 minutes, still refused after 24 hours.
  auto fresh = Client::connect(o);
  ASSERT_TRUE(fresh);
  k.key = fresh->key();
  for (int i = 0; i < 49; ++i) {
    clock_.advance(29min);
    ASSERT_TRUE(Client::connect(k)) << "use " << i;
  }
  clock_.advance(29min);
  refused(k, "key_expired", "key past its maximum age");

  // Keys die with the password, the group and the user they were issued for (at the reload,
  // as SIGHUP does).
  auto edit = [&](const std::function<void(UserDb&)>& change) {
    auto db = UserDb::load(dir_ / "users.json");
    ASSERT_TRUE(db);
    change(*db);
    ASSERT_TRUE(db->save(dir_ / "users.json"));
    ASSERT_TRUE(server_->auth().reload_users());
  };
  auto key_for = [&](const Who& w) {
    ClientOptions lo = login(w);
    lo.want_key = true;
    auto c = Client::connect(lo);
    EXPECT_TRUE(c) << w.user;
    ClientOptions ko = login(w);
    ko.user.clear();
    ko.password.clear();
    ko.key = c ? c->key() : "";
    return ko;
  };
  const Who carol = users()[2];
  ClientOptions bob_key = key_for(bob);
  ClientOptions carol_key = key_for(carol);
  edit([](UserDb& db) { ASSERT_TRUE(db.set_password("bob", "newpw")); });
  refused(bob_key, "key_revoked", "key after a password change");
  ++tally.tried;
  if (!Client::connect(carol_key)) tally.bypass("an unchanged user's key was refused");
  edit([](UserDb& db) { ASSERT_TRUE(db.grant("edge", GrantKind::Exporter, "192.0.2.2")); });
  refused(carol_key, "key_revoked", "key after its group's permissions changed");
  carol_key = key_for(carol);
  edit([](UserDb& db) { ASSERT_TRUE(db.remove_user("carol")); });
  refused(carol_key, "key_revoked", "key of a removed user");

  std::cout << fmt::format("security matrix (auth): {} tried, {} bypassed\n", tally.tried,
                           tally.bypassed);
  for (const auto& e : tally.examples) std::cout << "  bypass: " << e << '\n';
  EXPECT_EQ(tally.bypassed, 0u);
}

}  // namespace
}  // namespace flowscope::server
