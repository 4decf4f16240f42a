// GET /api/v1/reports and /api/v1/reports/file (docs/http.md "Reports"): the scheduler's runs
// that wrote files, newest first, for admins only; a file is sent only when a run of the
// history names it, so no request reads any other file.
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <httplib.h>

#include "server/http_fixture.h"

#include "report/scheduler.h"

namespace flowscope::server::testing {
namespace {

namespace fs = std::filesystem;

class HttpReportsTest : public HttpFixture {
 protected:
  void SetUp() override {
    HttpFixture::SetUp();
    reports_ = dir_ / "reports" / "2026" / "12" / "06";
    fs::create_directories(reports_);
    pdf_ = reports_ / "manager.pdf";
    html_ = reports_ / "manager.html";
    std::ofstream(pdf_, std::ios::binary) << "%PDF-1.5 test";
    std::ofstream(html_) << "<!doctype html><title>manager</title>";
    std::ofstream(dir_ / "secret.txt") << "not for the web";
    // The history as the scheduler writes it: an older run, a failed run without files, and
    // the newest run.
    std::ofstream h(dir_ / "data" / "schedule-history.jsonl");
    h << report::to_json(run("monthly", 1000, {html_.string()})).dump() << "\n";
    h << report::to_json(run("retention", 2000, {})).dump() << "\n";
    h << report::to_json(run("monthly", 3000, {pdf_.string(), html_.string()})).dump() << "\n";
  }

  static report::RunRecord run(const std::string& job, std::int64_t ms,
                               std::vector<std::string> outputs) {
    report::RunRecord r;
    r.job = job;
    r.due = time_from_ms(kHttpNowMs - 86'400'000 + ms);
    r.started = r.due;
    r.duration_ms = 1200;
    r.result.ok = true;
    r.result.outputs = std::move(outputs);
    return r;
  }

  static std::string file_url(const fs::path& p) {
    return "/api/v1/reports/file?path=" + url_encode(p.string());
  }

  fs::path reports_, pdf_, html_;
};

TEST_F(HttpReportsTest, ListsTheRunsThatWroteFilesNewestFirst) {
  const HttpReply r = get("/api/v1/reports", tokens_["admin"]);
  ASSERT_EQ(r.status, 200) << r.body;
  const auto& runs = r.json["reports"];
  ASSERT_EQ(runs.size(), 2u) << r.body;  // the retention run wrote nothing
  EXPECT_EQ(runs[0]["job"], "monthly");
  EXPECT_GT(runs[0]["due"].get<std::string>(), runs[1]["due"].get<std::string>());
  ASSERT_EQ(runs[0]["files"].size(), 2u);
  EXPECT_EQ(runs[0]["files"][0]["name"], "manager.pdf");
  EXPECT_EQ(runs[0]["files"][0]["type"], "application/pdf");
  EXPECT_EQ(runs[0]["files"][0]["bytes"], fs::file_size(pdf_));
  EXPECT_EQ(runs[0]["files"][0]["present"], true);
  EXPECT_EQ(runs[0]["files"][1]["type"], "text/html; charset=utf-8");

  // The url of a listed file sends it.
  const HttpReply pdf = get(runs[0]["files"][0]["url"].get<std::string>(), tokens_["admin"]);
  ASSERT_EQ(pdf.status, 200) << pdf.body;
  EXPECT_EQ(pdf.body, "%PDF-1.5 test");
  EXPECT_EQ(pdf.content_type, "application/pdf");

  const HttpReply one = get("/api/v1/reports?limit=1", tokens_["admin"]);
  ASSERT_EQ(one.status, 200);
  EXPECT_EQ(one.json["reports"].size(), 1u);
  const HttpReply bad = get("/api/v1/reports?limit=many", tokens_["admin"]);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.json["error"]["message"].get<std::string>().find("limit"), std::string::npos);
}

TEST_F(HttpReportsTest, HtmlIsSentSelfContainedOnly) {
  auto c = client();
  auto r = c.Get(file_url(html_), auth(tokens_["admin"]));
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->body, "<!doctype html><title>manager</title>");
  EXPECT_EQ(r->get_header_value("Content-Security-Policy"),
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
}

TEST_F(HttpReportsTest, NoOtherFileIsSentAndOnlyAdminsSeeReports) {
  for (const fs::path& p : {dir_ / "secret.txt", fs::path("/etc/passwd"), reports_ / ".." / "x",
                            dir_ / "data" / "schedule-history.jsonl"}) {
    const HttpReply r = get(file_url(p), tokens_["admin"]);
    EXPECT_EQ(r.status, 404) << p;
    EXPECT_EQ(r.body.find("not for the web"), std::string::npos);
    EXPECT_NE(r.json["error"]["hint"].get<std::string>().find("/api/v1/reports"), std::string::npos)
        << r.body;
  }
  EXPECT_EQ(get("/api/v1/reports/file", tokens_["admin"]).status, 400);
  // Reports cover every session: a user whose groups restrict the data may not read them.
  for (const char* who : {"bob", "carol", "nogroup"}) {
    EXPECT_EQ(get("/api/v1/reports", tokens_[who]).status, 403) << who;
    EXPECT_EQ(get(file_url(pdf_), tokens_[who]).status, 403) << who;
  }
  EXPECT_EQ(get("/api/v1/reports").status, 401);
  // A listed file that is gone says so and how to get it again.
  fs::remove(pdf_);
  const HttpReply gone = get(file_url(pdf_), tokens_["admin"]);
  EXPECT_EQ(gone.status, 404);
  EXPECT_NE(gone.json["error"]["message"].get<std::string>().find("is gone"), std::string::npos);
  const HttpReply list = get("/api/v1/reports", tokens_["admin"]);
  EXPECT_EQ(list.json["reports"][0]["files"][0]["present"], false);
}

}  // namespace
}  // namespace flowscope::server::testing
