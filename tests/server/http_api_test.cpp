// The JSON API of `flowscope serve` (docs/http.md) against an in-process server with a store
// written by the test: every /api/v1 route, answers compared with `flowscope stat`/`query` on
// the same store, login and keys, API tokens (revoked, wrong, from outside [http] allow_file),
// admin routes, bad input (a clear error, nothing changed, the server still serving), HTTPS with
// the query port's certificate replaced on reload, the OpenAPI document against the route table
// and the field registry.
#include <map>
#include <set>

#include "query/filter_parser.h"
#include "server/http_server.h"
#include "store/store_config.h"

#include "http_fixture.h"
#include "server_fixture.h"
#include "test_certs.h"

namespace flowscope::server::testing {
namespace {

using namespace std::chrono_literals;

// A raw HTTP/1.0 GET from `bind` (a 127/8 address), for the address-bound checks.
HttpReply raw_get(std::uint16_t port, const std::string& target, const std::string& token,
                  const char* bind) {
  HttpReply out;
  const int fd = raw_connect(port, bind);
  if (fd < 0) return out;
  const std::string req = fmt::format(
      "GET {} HTTP/1.0\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {}\r\n\r\n", target, token);
  (void)!::write(fd, req.data(), req.size());
  std::string all;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) all.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (all.size() > 12) out.status = std::stoi(all.substr(9, 3));
  const std::size_t body = all.find("\r\n\r\n");
  if (body != std::string::npos) out.body = all.substr(body + 4);
  out.json = nlohmann::json::parse(out.body, nullptr, false);
  return out;
}

TEST_F(HttpFixture, HealthFieldsAndOpenApiFollowTheRegistryAndTheRouteTable) {
  EXPECT_EQ(get("/api/v1/health").status, 200);
  EXPECT_EQ(get("/healthz").body, "ok\n");
  EXPECT_EQ(get("/api/v1/fields").status, 401);
  const HttpReply fields = get("/api/v1/fields", tokens_["bob"]);
  ASSERT_EQ(fields.status, 200) << fields.body;
  std::set<std::string> names;
  for (const auto& f : fields.json["fields"]) names.insert(f["name"].get<std::string>());
  std::set<std::string> registry;
  for (const FieldInfo& f : kFieldTable) {
    if (in_kind(f, RecordKind::Session)) registry.insert(std::string(f.name));
  }
  EXPECT_EQ(names, registry);

  const HttpReply doc = get("/api/v1/openapi.json");
  ASSERT_EQ(doc.status, 200);
  EXPECT_EQ(doc.json["openapi"], "3.0.3");
  std::set<std::string> schema_fields;
  for (const auto& [k, v] : doc.json["components"]["schemas"]["Session"]["properties"].items()) {
    schema_fields.insert(k);
  }
  EXPECT_EQ(schema_fields, registry);
  std::size_t operations = 0;
  for (const Route& r : server_->http_server().routes()) {
    std::string m(r.method);
    for (char& c : m) c = static_cast<char>(std::tolower(c));
    EXPECT_TRUE(doc.json["paths"].contains(r.path) && doc.json["paths"][r.path].contains(m))
        << r.method << " " << r.path;
    ++operations;
  }
  std::size_t documented = 0;
  for (const auto& [path, ops] : doc.json["paths"].items()) documented += ops.size();
  EXPECT_EQ(documented, operations);  // nothing documented that is not routed
}

TEST_F(HttpFixture, LoginKeysAreBoundToTheAddressExpireAndEndAtLogout) {
  EXPECT_EQ(post_json("/api/v1/login", {{"user", "bob"}, {"password", "wrong"}}).status, 401);
  const HttpReply ok = post_json("/api/v1/login", {{"user", "bob"}, {"password", "bobpw"}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  const std::string key = ok.json["key"];
  EXPECT_EQ(ok.json["idle_expiry_s"], 1800);
  EXPECT_EQ(get("/api/v1/fields", key).status, 200);
  // The same key from another client address.
  const HttpReply other = raw_get(server_->http_port(), "/api/v1/fields", key, "127.0.0.2");
  EXPECT_EQ(other.status, 401) << other.body;
  EXPECT_EQ(other.json["error"]["code"], "key_wrong_source");
  // A form login works too; logout ends the key.
  const HttpReply form = post_form("/api/v1/login", {{"user", "bob"}, {"password", "bobpw"}});
  ASSERT_EQ(form.status, 200);
  const std::string key2 = form.json["key"];
  EXPECT_EQ(post_json("/api/v1/logout", nlohmann::json::object(), key2).status, 200);
  EXPECT_EQ(get("/api/v1/fields", key2).status, 401);
  // Idle expiry as the query protocol's.
  now_ms_->fetch_add(31 * 60 * 1000);
  const HttpReply idle = get("/api/v1/fields", key);
  EXPECT_EQ(idle.status, 401);
  EXPECT_EQ(idle.json["error"]["code"], "key_expired");
}

TEST_F(HttpFixture, StatIsFlowscopeStat) {
  struct Case {
    std::vector<std::pair<std::string, std::string>> http;
    std::vector<std::string> cli;
  };
  const std::string window = fmt::format("{}..{}", kHttpNowMs / 1000 - 3600, kHttpNowMs / 1000);
  const std::vector<Case> cases = {
      {{{"group", "pair"}, {"count", "bytes"}, {"dir", "snd"}, {"top", "25"}},
       {"-grp", "pair", "-cnt", "bytes", "-snd", "-n", "25"}},
      {{{"group", "host"}, {"count", "sessions"}, {"top", "5"}, {"filter", "SRVPORT == 443"}},
       {"-grp", "host", "-cnt", "sessions", "-n", "5", "SRVPORT == 443"}},
      {{{"group", "srvport"}, {"count", "packets"}, {"dir", "rcv"}, {"series", "10m"}},
       {"-grp", "srvport", "-cnt", "packets", "-rcv", "--bucket", "10m"}},
      {{{"group", "cln_addr/24"},
        {"count", "uports"},
        {"syntax", "nfdump"},
        {"filter", "src net 10.1.0.0/16"}},
       {"-grp", "cln_addr/24", "-cnt", "uports", "--nfdump-filter", "src net 10.1.0.0/16"}},
  };
  for (const Case& c : cases) {
    auto params = c.http;
    params.emplace_back("window", window);
    const HttpReply r = get("/api/v1/stat?" + query_string(params), tokens_["admin"]);
    ASSERT_EQ(r.status, 200) << r.body;
    std::vector<std::string> args = {"-t", window};
    args.insert(args.end(), c.cli.begin(), c.cli.end());
    const auto lines = cli_stat(args);
    ASSERT_FALSE(lines.empty());
    std::vector<nlohmann::json> http_lines(r.json["rows"].begin(), r.json["rows"].end());
    http_lines.push_back(r.json["others"]);
    http_lines.push_back(r.json["total"]);
    EXPECT_EQ(http_lines, lines) << query_string(params);
    EXPECT_GT(r.json["rows"].size(), 0u);
  }
}

// `-grp group` shows the groups' names; location and activity group by what the groups file
// says of each group; HTTP equals the CLI; a restricted user (bob: Campus and its Physics)
// counts only the sessions with a Campus address on either side.
TEST_F(HttpFixture, StatGroupsByIpGroupNameLocationAndActivity) {
  const std::string window = fmt::format("{}..{}", kHttpNowMs / 1000 - 7200, kHttpNowMs / 1000);
  for (const std::string grp : {"group", "location", "activity"}) {
    const auto params =
        query_string({{"group", grp}, {"count", "sessions"}, {"top", "0"}, {"window", window}});
    const HttpReply r = get("/api/v1/stat?" + params, tokens_["admin"]);
    ASSERT_EQ(r.status, 200) << r.body;
    const auto cli = cli_stat({"-t", window, "-grp", grp, "-cnt", "sessions", "-n", "0"});
    std::vector<nlohmann::json> http_lines(r.json["rows"].begin(), r.json["rows"].end());
    http_lines.push_back(r.json["others"]);
    http_lines.push_back(r.json["total"]);
    EXPECT_EQ(http_lines, cli) << grp;
    // Each side of a session counts once for its side's value (as -grp host does).
    std::map<std::string, std::uint64_t> want;
    for (const TestRow& row : rows_) {
      for (const enrich::IpGroup* g : {row.cln_info, row.srv_info}) {
        if (g == nullptr) continue;
        want[grp == "group" ? g->name : grp == "location" ? g->location : g->activity] += 1;
      }
    }
    std::map<std::string, std::uint64_t> got;
    const std::string key = grp == "group" ? "group_name" : grp;
    for (const auto& row : r.json["rows"]) {
      if (!row[key].is_null()) got[row[key].get<std::string>()] = row["sessions"];
    }
    EXPECT_EQ(got, want) << grp;
  }
  // bob sees Campus (and Physics, inside it) sessions only: their locations and those of
  // their peers, nothing from sessions between other groups.
  const auto bob =
      get("/api/v1/stat?" +
              query_string(
                  {{"group", "location"}, {"count", "sessions"}, {"top", "0"}, {"window", window}}),
          tokens_["bob"]);
  ASSERT_EQ(bob.status, 200) << bob.body;
  std::uint64_t campus_sessions = 0;
  std::map<std::string, std::uint64_t> want;
  for (const TestRow& row : rows_) {
    const bool cln_in = row.cln_info != nullptr && groups_->is_within(row.cln_group, kCampusId);
    const bool srv_in = row.srv_info != nullptr && groups_->is_within(row.srv_group, kCampusId);
    if (!cln_in && !srv_in) continue;
    ++campus_sessions;
    for (const enrich::IpGroup* g : {row.cln_info, row.srv_info}) {
      if (g != nullptr) want[g->location] += 1;
    }
  }
  std::map<std::string, std::uint64_t> got;
  for (const auto& row : bob.json["rows"]) {
    if (!row["location"].is_null()) got[row["location"].get<std::string>()] = row["sessions"];
  }
  EXPECT_EQ(got, want);
  EXPECT_GT(campus_sessions, 0u);
  EXPECT_LT(campus_sessions, rows_.size());
}

TEST_F(HttpFixture, ABadFilterIsRefusedWithTheCliPositionAndMessage) {
  const std::string filter = "SRVPORT == 443 && CLNIP = 10.0.0.300";
  const auto expected = query::parse_filter(filter);
  ASSERT_FALSE(expected);
  for (const char* path : {"/api/v1/stat", "/api/v1/sessions"}) {
    const HttpReply r =
        get(fmt::format("{}?{}", path, query_string({{"filter", filter}})), tokens_["bob"]);
    ASSERT_EQ(r.status, 400) << r.body;
    EXPECT_EQ(r.json["error"]["code"], "Parse");
    EXPECT_EQ(r.json["error"]["position"], expected.error().where->offset);
    const std::string& m = expected.error().message;
    EXPECT_EQ(r.json["error"]["message"].get<std::string>() + "; " +
                  r.json["error"]["hint"].get<std::string>(),
              m);
  }
  const auto cli = flowscope::testing::run_flowscope(
      {"stat", "-d", (dir_ / "data").string(), "-t", "all", filter});
  EXPECT_EQ(cli.exit_code, 2);
  EXPECT_NE(cli.err.find(expected.error().message), std::string::npos) << cli.err;
  // The CLI's caret sits under the same byte (two spaces of indent).
  const std::size_t caret_line = cli.err.rfind('\n', cli.err.size() - 2);
  EXPECT_EQ(cli.err.find('^', caret_line) - caret_line - 1 - 2, expected.error().where->offset)
      << cli.err;
}

TEST_F(HttpFixture, SessionPagesNeitherRepeatNorSkipWhileIngestGoesOn) {
  std::vector<std::uint64_t> seen;
  std::string cursor;
  std::size_t pages = 0;
  std::uint64_t next_id = 1'000'000;
  do {
    std::vector<std::pair<std::string, std::string>> p = {
        {"window", "all"}, {"fields", "session_id,start_time"}, {"limit", "100"}};
    if (!cursor.empty()) p.emplace_back("cursor", cursor);
    const HttpReply r = get("/api/v1/sessions?" + query_string(p), tokens_["admin"]);
    ASSERT_EQ(r.status, 200) << r.body;
    for (const auto& row : r.json["rows"]) seen.push_back(row["session_id"].get<std::uint64_t>());
    cursor = r.json["next_cursor"].is_string() ? r.json["next_cursor"].get<std::string>() : "";
    // Ingest goes on between pages: sessions before the cursor, after it, and after "now".
    SessionBatch b;
    for (const std::int64_t start :
         {kHttpNowMs - 7'200'000 + 5, kHttpNowMs - 600'000 + 3, kHttpNowMs + 60'000}) {
      TestRow row = make_row(3, *groups_);
      row.id = next_id++;
      row.start_ms = start;
      add_row(b, row, 3);
    }
    ASSERT_TRUE(server_->store().append(b));
    ++pages;
  } while (!cursor.empty() && pages < 100);
  std::set<std::uint64_t> unique(seen.begin(), seen.end());
  EXPECT_EQ(unique.size(), seen.size()) << "a row came twice";
  for (std::uint64_t id = 1; id <= kHttpRows; ++id) EXPECT_TRUE(unique.count(id)) << id;
  EXPECT_GE(pages, kHttpRows / 100);
  for (std::uint64_t id : unique) {
    // Rows stamped after the first page's "now" are outside the frozen window.
    if (id >= 1'000'000) {
      EXPECT_NE((id - 1'000'000) % 3, 2u) << id;
    }
  }
}

TEST_F(HttpFixture, SessionsMatchFlowscopeQueryAsJsonAndCsv) {
  const std::string filter = "SRVPORT == 443 && CLNIP == 10.1.0.0/16";
  const auto cli = flowscope::testing::run_flowscope(
      {"query", "-d", (dir_ / "data").string(), "-t", "all", "--now",
       std::to_string(kHttpNowMs / 1000), "--csv", "--fields", "session_id", "-c", "0", filter});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  std::set<std::uint64_t> expected;
  std::istringstream lines(cli.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) expected.insert(std::stoull(line));
  }
  ASSERT_GT(expected.size(), 10u);
  const std::string q =
      query_string({{"window", "all"}, {"filter", filter}, {"fields", "session_id,cln_addr"}});
  const HttpReply json = get("/api/v1/sessions?" + q + "&limit=10000", tokens_["admin"]);
  ASSERT_EQ(json.status, 200) << json.body;
  std::set<std::uint64_t> got;
  for (const auto& row : json.json["rows"]) got.insert(row["session_id"].get<std::uint64_t>());
  EXPECT_EQ(got, expected);
  EXPECT_TRUE(json.json["next_cursor"].is_null());
  for (const httplib::Headers& h : {httplib::Headers{}, httplib::Headers{{"Accept", "text/csv"}}}) {
    const HttpReply csv =
        get("/api/v1/sessions?" + q + (h.empty() ? "&format=csv" : ""), tokens_["admin"], h);
    ASSERT_EQ(csv.status, 200);
    EXPECT_NE(csv.content_type.find("text/csv"), std::string::npos);
    std::istringstream rows(csv.body);
    std::string header;
    std::getline(rows, header);
    EXPECT_EQ(header.rfind("session_id,cln_addr", 0), 0u) << header;
    std::set<std::uint64_t> csv_ids;
    for (std::string line; std::getline(rows, line);) {
      if (!line.empty()) csv_ids.insert(std::stoull(line.substr(0, line.find(','))));
    }
    EXPECT_EQ(csv_ids, expected);
  }
}

TEST_F(HttpFixture, IpInfoAndExporters) {
  const HttpReply info = get("/api/v1/ipinfo/10.1.5.3", tokens_["bob"]);
  ASSERT_EQ(info.status, 200) << info.body;
  EXPECT_EQ(info.json["ip_group"]["id"], kPhysicsId);
  EXPECT_EQ(info.json["ip_group"]["name"], "Physics");
  const HttpReply bad = get("/api/v1/ipinfo/10.1.5.300", tokens_["bob"]);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.json["error"]["message"].get<std::string>().find("10.1.5.300"), std::string::npos);
  const HttpReply ex = get("/api/v1/exporters", tokens_["admin"]);
  ASSERT_EQ(ex.status, 200);
  EXPECT_TRUE(ex.json["exporters"].is_array());
  EXPECT_TRUE(ex.json["drops"].contains("queue"));
}

TEST_F(HttpFixture, AdminRoutesManageUsersAndTokensOnlyForAdmins) {
  EXPECT_EQ(get("/api/v1/admin/users", tokens_["bob"]).status, 403);
  const HttpReply made =
      post_json("/api/v1/admin/users",
                {{"name", "dave"}, {"password", "davepw"}, {"groups", {"edge"}}}, tokens_["admin"]);
  ASSERT_EQ(made.status, 200) << made.body;
  const HttpReply users = get("/api/v1/admin/users", tokens_["admin"]);
  bool found = false;
  for (const auto& u : users.json["users"]) found = found || u["name"] == "dave";
  EXPECT_TRUE(found);
  const HttpReply token = post_json("/api/v1/admin/tokens", {{"user", "dave"}}, tokens_["admin"]);
  ASSERT_EQ(token.status, 200) << token.body;
  const std::string dave = token.json["token"];
  EXPECT_EQ(get("/api/v1/fields", dave).status, 200);
  const HttpReply list = get("/api/v1/admin/tokens", tokens_["admin"]);
  EXPECT_EQ(list.body.find(dave), std::string::npos) << "a token listed in clear";
  auto c = client();
  auto del = c.Delete("/api/v1/admin/tokens/" + token.json["id"].get<std::string>(),
                      auth(tokens_["admin"]));
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 200);
  const HttpReply revoked = get("/api/v1/fields", dave);
  EXPECT_EQ(revoked.status, 401);
  EXPECT_EQ(revoked.json["error"]["code"], "invalidToken");
  const HttpReply wrong = get("/api/v1/fields", "fst_00000000_0123456789abcdef0123456789abcdef");
  EXPECT_EQ(wrong.status, 401);
  // Grants through the API reach the data permissions.
  EXPECT_EQ(
      post_json("/api/v1/admin/groups/edge/grant", {{"interface", "192.0.2.2:1"}}, tokens_["admin"])
          .status,
      200);
  const HttpReply groups = get("/api/v1/admin/groups", tokens_["admin"]);
  EXPECT_NE(groups.body.find("192.0.2.2:1"), std::string::npos);
}

TEST_F(HttpFixture, BadInputIsAClearErrorChangesNothingAndTheServerServesOn) {
  const auto users_before = flowscope::testing::run_flowscope(
      {"user", "list", "--json", "--users", (dir_ / "users.json").string()});
  auto c = client();
  auto bad_json = c.Post("/api/v1/admin/users", auth(tokens_["admin"]), "{\"name\": \"x\",",
                         "application/json");
  ASSERT_TRUE(bad_json);
  EXPECT_EQ(bad_json->status, 400);
  const HttpReply huge = get("/api/v1/sessions?limit=99999999", tokens_["admin"]);
  EXPECT_EQ(huge.status, 400);
  EXPECT_NE(huge.json["error"]["message"].get<std::string>().find("10000"), std::string::npos);
  EXPECT_EQ(get("/api/v1/stat?group=nonsense", tokens_["admin"]).status, 400);
  EXPECT_EQ(get("/api/v1/stat?series=fortnight", tokens_["admin"]).status, 400);
  EXPECT_EQ(get("/api/v1/sessions?cursor=AAAA", tokens_["admin"]).status, 400);
  EXPECT_EQ(get("/api/v1/sessions?window=last%20blue%20moon", tokens_["admin"]).status, 400);
  EXPECT_EQ(get("/api/v1/stat?filter=%ZZ", tokens_["admin"]).status, 400);
  EXPECT_EQ(get("/api/v1/nowhere", tokens_["admin"]).status, 404);
  // Bytes that are not UTF-8, in a form, a filter and a stored name: JSON answers all the same.
  const HttpReply login = post_form("/api/v1/login", {{"user", "\x94\xff"}, {"password", "x"}});
  EXPECT_EQ(login.status, 401);
  EXPECT_FALSE(login.json.is_null()) << login.body;
  const HttpReply filter = get("/api/v1/stat?filter=SERVICE%20%3D%3D%20%94", tokens_["admin"]);
  EXPECT_FALSE(filter.json.is_null()) << filter.body;
  SessionBatch b;
  TestRow row = make_row(0, *groups_);
  row.id = 9'999'999;
  add_row(b, row, 0);
  b.set<FieldId::Application>(0, "bad\x94name");
  ASSERT_TRUE(server_->store().append(b));
  const HttpReply stored = get(
      "/api/v1/sessions?window=all&fields=session_id,application&filter=SESSID%20%3D%3D%209999999",
      tokens_["admin"]);
  ASSERT_EQ(stored.status, 200) << stored.body;
  EXPECT_EQ(stored.json["rows"][0]["application"], "bad\xEF\xBF\xBDname");
  const auto users_after = flowscope::testing::run_flowscope(
      {"user", "list", "--json", "--users", (dir_ / "users.json").string()});
  EXPECT_EQ(users_before.out, users_after.out);
  EXPECT_EQ(get("/api/v1/health").status, 200);
  EXPECT_EQ(get("/api/v1/fields", tokens_["bob"]).status, 200);
}

TEST_F(HttpFixture, TokensFromOutsideTheAllowFileAreRefusedAndAudited) {
  ServerConfig c = config();
  c.http.token_allow = {*Cidr::parse("127.0.0.1/32")};
  start_server(c);
  EXPECT_EQ(raw_get(server_->http_port(), "/api/v1/fields", tokens_["bob"], "127.0.0.1").status,
            200);
  const HttpReply refused =
      raw_get(server_->http_port(), "/api/v1/fields", tokens_["bob"], "127.0.0.3");
  EXPECT_EQ(refused.status, 403) << refused.body;
  EXPECT_EQ(refused.json["error"]["code"], "address_refused");
  std::ifstream audit(dir_ / "data" / "audit.log");
  std::stringstream ss;
  ss << audit.rdbuf();
  EXPECT_NE(ss.str().find("\"event\":\"token_refused\""), std::string::npos);
  EXPECT_NE(ss.str().find("127.0.0.3"), std::string::npos);
}

TEST_F(HttpFixture, MetricsNeedAnAdminUnlessPublic) {
  EXPECT_EQ(get("/metrics").status, 200);
  ServerConfig c = config();
  c.http.metrics_public = false;
  start_server(c);
  EXPECT_EQ(get("/metrics").status, 401);
  EXPECT_EQ(get("/metrics", tokens_["bob"]).status, 403);
  const HttpReply m = get("/metrics", tokens_["admin"]);
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("flowscope_up"), std::string::npos);
  // The two refusals above were requests too: the HTTP latency histogram counted them.
  const std::string count = "flowscope_http_latency_seconds_count ";
  const std::size_t at = m.body.find(count);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(std::stoi(m.body.substr(at + count.size())), 2);
}

TEST_F(HttpFixture, HttpsUsesTheQueryCertificateAndTakesANewOneOnReload) {
  const auto first = flowscope::testing::make_self_signed(dir_, "first");
  const auto second = flowscope::testing::make_self_signed(dir_, "second");
  ServerConfig c = config();
  c.query.tls_cert = first.cert;
  c.query.tls_key = first.key;
  c.http.tls = true;
  start_server(c);
  auto health = [&](const std::filesystem::path& ca) {
    httplib::SSLClient s("127.0.0.1", server_->http_port());
    s.set_ca_cert_path(ca.c_str());
    s.enable_server_certificate_verification(true);
    auto r = s.Get("/api/v1/health");
    return r ? r->status : -1;
  };
  EXPECT_EQ(health(first.cert), 200);
  EXPECT_EQ(health(second.cert), -1);  // not that certificate
  httplib::Client plain("127.0.0.1", server_->http_port());
  auto r = plain.Get("/api/v1/health");
  EXPECT_TRUE(!r || r->status != 200);
  ServerConfig next = c;
  next.query.tls_cert = second.cert;
  next.query.tls_key = second.key;
  ASSERT_TRUE(server_->reload(next));
  EXPECT_EQ(health(second.cert), 200);
  EXPECT_EQ(health(first.cert), -1);
}

TEST(HttpConfig, TlsAllowFileAndMetricsKeysAreCheckedWhenTheFileIsRead) {
  const auto dir =
      std::filesystem::temp_directory_path() / fmt::format("flowscope-http-config-{}", ::getpid());
  std::filesystem::create_directories(dir);
  auto parse = [&](const std::string& http) {
    return parse_server_config("[store]\ndir = \"d\"\n[http]\n" + http, "serve.toml", dir);
  };
  auto tls = parse("tls = true\n");
  ASSERT_FALSE(tls);
  EXPECT_NE(tls.error().message.find("[http] tls uses the certificate of the query"),
            std::string::npos)
      << tls.error().message;
  auto missing = parse("allow_file = \"nope.cfg\"\n");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("nope.cfg"), std::string::npos);
  std::ofstream(dir / "clients.cfg") << "# the NOC\n10.30.0.0/24   # scripts\n\n10.20.0.15\nfoo\n";
  auto bad = parse("allow_file = \"clients.cfg\"\n");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("clients.cfg:5: \"foo\" is not an address or CIDR"),
            std::string::npos)
      << bad.error().message;
  std::ofstream(dir / "clients.cfg") << "# the NOC\n10.30.0.0/24   # scripts\n\n10.20.0.15\n";
  auto good = parse("allow_file = \"clients.cfg\"\nmetrics_public = false\n");
  ASSERT_TRUE(good) << good.error().message;
  ASSERT_EQ(good->http.token_allow.size(), 2u);
  EXPECT_TRUE(good->http.token_allow[0].contains(*IpAddress::parse("10.30.0.9")));
  EXPECT_TRUE(good->http.token_allow[1].contains(*IpAddress::parse("10.20.0.15")));
  EXPECT_FALSE(good->http.metrics_public);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace flowscope::server::testing

namespace flowscope::server::testing {
namespace {

// A window reaching past the raw retention (store.json keep raw = 1h): the sessions and stat
// envelopes name the part of the window the answer lacks, and the stat's total row too, as
// `flowscope stat --json` (docs/http.md, docs/query.md "Raw retention"); inside the retention
// "missing" is null.
TEST_F(HttpFixture, AnswersNameThePartRawRetentionDropped) {
  store::StoreConfig sc;
  sc.keep_ms[0] = 3'600'000;
  ASSERT_TRUE(store::save_store_config(dir_ / "data", sc));
  start_server(config());
  const std::int64_t now_s = kHttpNowMs / 1000;
  const std::string wide = fmt::format("{}..{}", now_s - 3 * 3600, now_s);
  const std::string narrow = fmt::format("{}..{}", now_s - 1800, now_s);
  for (const std::string path : {"/api/v1/sessions", "/api/v1/stat"}) {
    const HttpReply r = get(path + "?" + query_string({{"window", wide}}), tokens_["admin"]);
    ASSERT_EQ(r.status, 200) << r.body;
    const nlohmann::json& m = r.json["missing"];
    ASSERT_TRUE(m.is_object()) << path << ": " << r.body;
    EXPECT_EQ(m["from_ms"], kHttpNowMs - 3 * 3'600'000) << path;
    EXPECT_EQ(m["to_ms"], kHttpNowMs - 3'600'000) << path;
    EXPECT_EQ(m["from"], format_time(time_from_ms(kHttpNowMs - 3 * 3'600'000))) << path;
    EXPECT_EQ(m["to"], format_time(time_from_ms(kHttpNowMs - 3'600'000))) << path;
    EXPECT_EQ(m["reason"], "raw_retention") << path;
    EXPECT_EQ(m["keep_raw"], "1h") << path;
    if (path == "/api/v1/stat") {
      EXPECT_EQ(r.json["total"]["missing"], m);
    }
    const HttpReply in = get(path + "?" + query_string({{"window", narrow}}), tokens_["admin"]);
    ASSERT_EQ(in.status, 200) << in.body;
    EXPECT_TRUE(in.json.contains("missing")) << path;
    EXPECT_TRUE(in.json["missing"].is_null()) << path << ": " << in.body;
    if (path == "/api/v1/stat") {
      EXPECT_FALSE(in.json["total"].contains("missing"));
    }
  }
  // Through the query protocol (-srv, FlowTraq's normal mode): the same JSON lines as on the
  // embedded store, and the note on stderr.
  const std::string srv = "127.0.0.1:" + std::to_string(server_->query_port());
  for (const std::string sub : {"query", "stat"}) {
    auto r = flowscope::testing::run_flowscope(
        {sub, "-srv", srv, "-un", "admin", "-up", "adminpw", "-t", wide, "--json"});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_NE(r.err.find("note: raw sessions older than 1h are dropped"), std::string::npos)
        << sub << ": " << r.err;
    const std::string last = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
    const nlohmann::json line = nlohmann::json::parse(last);
    EXPECT_EQ(line["missing"]["to_ms"], kHttpNowMs - 3'600'000) << sub << ": " << last;
    if (sub == "query") {
      EXPECT_EQ(line.size(), 1u) << last;
    } else {
      EXPECT_EQ(line.value("total", false), true) << last;
    }
  }
}

}  // namespace
}  // namespace flowscope::server::testing
