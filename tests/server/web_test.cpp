// The dashboard's side of the HTTP listener (docs/web.md): its built files at `/` (content
// types, caching, no way out of the directory) and the cookie login (HttpOnly, SameSite=Strict,
// a CSRF token for every request but GET, logout ending the key). The same data permissions
// for the cookie as for a Bearer key are checked in tests/security/security_matrix_test.cpp.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>

#include "server/http_fixture.h"
#include "server/http_server.h"
#include "server/web_files.h"

namespace flowscope::server::testing {
namespace {

namespace fs = std::filesystem;

class WebTest : public HttpFixture {
 protected:
  void SetUp() override {
    HttpFixture::SetUp();
    web_ = dir_ / "web";
    fs::create_directories(web_ / "assets");
    std::ofstream(web_ / "index.html") << "<!doctype html><title>flowscope</title>";
    std::ofstream(web_ / "assets" / "index-Ab12Cd.js") << "console.log('dashboard')";
    std::ofstream(web_ / "assets" / "index-Ef34Gh.css") << "body{}";
    std::ofstream(dir_ / "secret.txt") << "not for the web";
    fs::create_symlink(dir_ / "secret.txt", web_ / "link.txt");
    ServerConfig c = config();
    c.http.web_dir = web_;
    start_server(c);
  }

  // Logs in for the dashboard; returns the Set-Cookie header and the answer.
  std::pair<std::string, HttpReply> cookie_login(const std::string& user,
                                                 const std::string& password) const {
    auto c = client();
    auto r = c.Post("/api/v1/login",
                    nlohmann::json{{"user", user}, {"password", password}, {"cookie", true}}.dump(),
                    "application/json");
    std::string set_cookie = r ? r->get_header_value("Set-Cookie") : "";
    return {set_cookie, reply_of(r)};
  }

  static std::string key_of(const std::string& set_cookie) {
    const std::size_t eq = set_cookie.find('=');
    return set_cookie.substr(eq + 1, set_cookie.find(';') - eq - 1);
  }

  fs::path web_;
};

TEST_F(WebTest, ServesTheBuiltFilesWithTypesAndCaching) {
  auto c = client();
  auto index = c.Get("/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_EQ(index->body, "<!doctype html><title>flowscope</title>");
  EXPECT_EQ(index->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(index->get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(index->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(index->get_header_value("X-Frame-Options"), "DENY");
  EXPECT_NE(index->get_header_value("Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  auto js = c.Get("/assets/index-Ab12Cd.js");
  ASSERT_TRUE(js);
  EXPECT_EQ(js->status, 200);
  EXPECT_EQ(js->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(js->get_header_value("Cache-Control"), "public, max-age=31536000, immutable");
  auto css = c.Get("/assets/index-Ef34Gh.css");
  ASSERT_TRUE(css);
  EXPECT_EQ(css->get_header_value("Content-Type"), "text/css; charset=utf-8");
  // The files are public like a login page; the data is not.
  EXPECT_EQ(get("/api/v1/sessions").status, 401);
}

TEST_F(WebTest, NoPathLeavesTheDirectory) {
  for (const char* target :
       {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt",
        "/assets/%2e%2e/%2e%2e/secret.txt", "/link.txt", "//etc/passwd", "/..%2fsecret.txt",
        "/assets/..%5c..%5csecret.txt", "/index.html%00.js", "/./index.html/../../secret.txt"}) {
    auto c = client();
    auto r = c.Get(target);
    if (!r) continue;  // httplib refused the request line: nothing served either
    EXPECT_EQ(r->body.find("not for the web"), std::string::npos) << target;
    EXPECT_NE(r->status, 200) << target << ": " << r->body;
  }
}

TEST_F(WebTest, UnknownPathsAnswerJsonWithTheFix) {
  auto api = get("/api/v1/nosuchroute");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.json["error"]["code"], "NotFound");
  EXPECT_NE(api.json["error"]["hint"].get<std::string>().find("openapi"), std::string::npos);
  auto file = get("/nosuch.js");
  EXPECT_EQ(file.status, 404);
  EXPECT_EQ(file.json["error"]["code"], "NotFound");
}

TEST_F(WebTest, WithoutABuiltDashboardTheRootSaysHowToBuildIt) {
  server_.reset();  // one server per store
  ServerConfig c = config();
  c.http.web_dir = dir_ / "nosuchdir";
  auto s = Server::start(c, ServerOptions{clock()});
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("web_dir"), std::string::npos) << s.error().message;
  EXPECT_NE(s.error().message.find("index.html"), std::string::npos) << s.error().message;

  auto none = find_web_dir({});
  ASSERT_TRUE(none);  // the candidates may or may not hold a build; never an error
  EXPECT_EQ(content_type_of("a/b.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_of("noext"), "application/octet-stream");
}

// httplib's stop() is a no-op until its listener thread runs: a server stopped right after it
// started used to hang in the join for ever (CI, under load). Stopping at once must return.
TEST_F(WebTest, StoppingRightAfterStartReturns) {
  for (int i = 0; i < 5; ++i) {
    auto stopped = std::async(std::launch::async, [this] { server_.reset(); });
    ASSERT_EQ(stopped.wait_for(std::chrono::seconds(60)), std::future_status::ready)
        << "stop hung in round " << i;
    ServerConfig c = config();
    c.http.web_dir = web_;
    start_server(c);
  }
}

TEST_F(WebTest, CookieLoginIsHttpOnlyStrictAndKeepsTheKeyOutOfTheBody) {
  auto [set_cookie, r] = cookie_login("bob", "bobpw");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(r.json.contains("key"));
  EXPECT_EQ(r.json["user"], "bob");
  EXPECT_NE(set_cookie.find("flowscope_key="), std::string::npos);
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  EXPECT_NE(set_cookie.find("Path=/"), std::string::npos);
  const std::string key = key_of(set_cookie);
  EXPECT_EQ(key.size(), 64u);
  EXPECT_EQ(r.json["csrf"], csrf_token(key));
  EXPECT_NE(csrf_token(key), key);

  auto me = get("/api/v1/me", "", {{"Cookie", "theme=dark; flowscope_key=" + key}});
  ASSERT_EQ(me.status, 200) << me.body;
  EXPECT_EQ(me.json["user"], "bob");
  EXPECT_EQ(me.json["groups"], nlohmann::json::array({"campus"}));
  EXPECT_EQ(me.json["csrf"], r.json["csrf"]);

  // A wrong password sets no cookie.
  auto [bad_cookie, bad] = cookie_login("bob", "wrong");
  EXPECT_EQ(bad.status, 401);
  EXPECT_EQ(bad_cookie, "");
  // The cookie form of the login takes JSON only (a cross-site form cannot send it).
  auto c = client();
  auto form = c.Post("/api/v1/login", "user=bob&password=bobpw&cookie=true",
                     "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->get_header_value("Set-Cookie"), "");
  // (a form's "cookie=true" is the string "true", not JSON true: an ordinary key login)
  EXPECT_TRUE(nlohmann::json::parse(form->body).contains("key"));
  auto text =
      c.Post("/api/v1/login", R"({"user":"bob","password":"bobpw","cookie":true})", "text/plain");
  ASSERT_TRUE(text);
  EXPECT_EQ(text->get_header_value("Set-Cookie"), "");
  EXPECT_NE(text->status, 200);
}

TEST_F(WebTest, StateChangingRequestsOnTheCookieNeedTheCsrfToken) {
  auto [set_cookie, r] = cookie_login("admin", "adminpw");
  ASSERT_EQ(r.status, 200);
  const std::string key = key_of(set_cookie);
  const std::string cookie = "flowscope_key=" + key;
  auto c = client();
  const std::string group = R"({"name": "forged"})";
  for (const std::string& token : {std::string(), std::string("0"), csrf_token(key + "x"), key}) {
    httplib::Headers h = {{"Cookie", cookie}};
    if (!token.empty()) h.emplace("X-CSRF-Token", token);
    auto p = c.Post("/api/v1/admin/groups", h, group, "application/json");
    ASSERT_TRUE(p);
    EXPECT_EQ(p->status, 403) << token;
    EXPECT_EQ(nlohmann::json::parse(p->body)["error"]["code"], "csrf");
    auto d = c.Delete("/api/v1/admin/users/bob", h);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->status, 403);
  }
  // Nothing changed.
  auto users = get("/api/v1/admin/users", tokens_["admin"]);
  bool bob = false;
  for (const auto& u : users.json["users"]) bob = bob || u["name"] == "bob";
  EXPECT_TRUE(bob);
  auto groups = get("/api/v1/admin/groups", tokens_["admin"]);
  for (const auto& g : groups.json["groups"]) EXPECT_NE(g["name"], "forged");
  // With the token it goes through.
  auto ok = c.Post("/api/v1/admin/groups", {{"Cookie", cookie}, {"X-CSRF-Token", csrf_token(key)}},
                   group, "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
  // GET needs no token; a Bearer request needs none either (no ambient credential).
  EXPECT_EQ(get("/api/v1/fields", "", {{"Cookie", cookie}}).status, 200);
  EXPECT_EQ(post_json("/api/v1/admin/groups", {{"name", "viabearer"}}, key).status, 200);
}

TEST_F(WebTest, LogoutEndsTheCookiesKeyAndClearsIt) {
  auto [set_cookie, r] = cookie_login("bob", "bobpw");
  const std::string key = key_of(set_cookie);
  const std::string cookie = "flowscope_key=" + key;
  auto c = client();
  // Logging out is state-changing: without the token it is refused and the key lives on.
  auto refused = c.Post("/api/v1/logout", {{"Cookie", cookie}}, "{}", "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403);
  EXPECT_EQ(get("/api/v1/me", "", {{"Cookie", cookie}}).status, 200);
  auto out = c.Post("/api/v1/logout", {{"Cookie", cookie}, {"X-CSRF-Token", csrf_token(key)}}, "{}",
                    "application/json");
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 200);
  const std::string cleared = out->get_header_value("Set-Cookie");
  EXPECT_NE(cleared.find("flowscope_key=;"), std::string::npos) << cleared;
  EXPECT_NE(cleared.find("Max-Age=0"), std::string::npos) << cleared;
  auto after = get("/api/v1/me", "", {{"Cookie", cookie}});
  EXPECT_EQ(after.status, 401);
  EXPECT_EQ(after.json["error"]["code"], "key_unknown");
  EXPECT_EQ(get("/api/v1/me", key).status, 401);
}

TEST_F(WebTest, ACookieIsRefusedLikeAnyBadKey) {
  EXPECT_EQ(get("/api/v1/me", "", {{"Cookie", "flowscope_key=00ff"}}).status, 401);
  EXPECT_EQ(get("/api/v1/me", "", {{"Cookie", "flowscope_key="}}).status, 401);
  // An API token is not taken from a cookie (tokens are for scripts, sent as Bearer).
  EXPECT_EQ(get("/api/v1/me", "", {{"Cookie", "flowscope_key=" + tokens_["admin"]}}).status, 401);
  // The Authorization header wins over the cookie: a cookie cannot widen a Bearer request.
  auto [set_cookie, r] = cookie_login("admin", "adminpw");
  auto who = get("/api/v1/me", tokens_["bob"], {{"Cookie", "flowscope_key=" + key_of(set_cookie)}});
  EXPECT_EQ(who.json["user"], "bob");
}

TEST(CookieValue, FindsTheNamedCookie) {
  EXPECT_EQ(cookie_value("a=1; flowscope_key=abc; b=2", "flowscope_key"), "abc");
  EXPECT_EQ(cookie_value("flowscope_key=abc", "flowscope_key"), "abc");
  EXPECT_EQ(cookie_value("xflowscope_key=abc", "flowscope_key"), "");
  EXPECT_EQ(cookie_value("", "flowscope_key"), "");
  EXPECT_EQ(cookie_value("flowscope_key", "flowscope_key"), "");
}

}  // namespace
}  // namespace flowscope::server::testing
