// The reports the built-in scheduler wrote, over HTTP (docs/http.md "Reports", docs/reports.md
// "Scheduler"): GET /api/v1/reports lists the runs of the schedule history that wrote files,
// newest first; GET /api/v1/reports/file?path=P sends one of those files. Only a path that a
// run of the history names is served (the request cannot name any other file), and only to
// admins: a report covers every session, whatever the groups of the user reading it.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/url_encode.h"
#include "server/http_request.h"
#include "server/http_server.h"
#include "server/server.h"

#include "report/scheduler.h"

namespace flowscope::server {
namespace {

namespace fs = std::filesystem;

constexpr std::size_t kDefaultRuns = 50;

std::string_view content_type_of_report(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".pdf") return "application/pdf";
  if (ext == ".html" || ext == ".htm") return "text/html; charset=utf-8";
  if (ext == ".csv") return "text/csv; charset=utf-8";
  if (ext == ".json") return "application/json";
  if (ext == ".png") return "image/png";
  return "application/octet-stream";
}

// The history's runs that wrote files, newest first.
Result<std::vector<nlohmann::json>> report_runs(const Server& s) {
  auto history = report::Scheduler::history(s.config().store.dir);
  if (!history) return history.error();
  std::vector<nlohmann::json> runs;
  for (auto it = history->rbegin(); it != history->rend(); ++it) {
    const nlohmann::json& r = *it;
    if (r.contains("outputs") && r["outputs"].is_array() && !r["outputs"].empty()) {
      runs.push_back(r);
    }
  }
  return runs;
}

Result<std::size_t> limit_param(const HttpCall& c) {
  const std::string* text = find_param(c.params, "limit");
  if (text == nullptr || text->empty()) return kDefaultRuns;
  std::size_t n = 0;
  std::size_t used = 0;
  try {
    n = std::stoul(*text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != text->size() || n == 0 || n > 10000) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("limit \"{}\" is not a number of runs; give 1 to 10000", *text)};
  }
  return n;
}

Result<HttpReply> list_reports(const Server& s, HttpCall& c) {
  auto limit = limit_param(c);
  if (!limit) return limit.error();
  auto runs = report_runs(s);
  if (!runs) return runs.error();
  nlohmann::json out = nlohmann::json::array();
  for (const nlohmann::json& r : *runs) {
    if (out.size() >= *limit) break;
    nlohmann::json files = nlohmann::json::array();
    for (const auto& o : r["outputs"]) {
      if (!o.is_string()) continue;
      const fs::path p = o.get<std::string>();
      std::error_code ec;
      const bool present = fs::is_regular_file(p, ec);
      const auto size = present ? fs::file_size(p, ec) : 0;
      files.push_back({{"path", p.string()},
                       {"name", p.filename().string()},
                       {"type", content_type_of_report(p)},
                       {"bytes", ec ? 0 : size},
                       {"present", present},
                       {"url", "/api/v1/reports/file?path=" + url_encode(p.string())}});
    }
    out.push_back({{"job", r.value("job", "")},
                   {"due", r.value("due", "")},
                   {"started", r.value("started", "")},
                   {"duration_ms", r.value("duration_ms", 0)},
                   {"outcome", r.value("outcome", "")},
                   {"manual", r.value("manual", false)},
                   {"files", std::move(files)}});
  }
  return HttpReply{200, {{"reports", std::move(out)}}};
}

Result<HttpReply> send_report(const Server& s, HttpCall& c) {
  const std::string* path = find_param(c.params, "path");
  if (path == nullptr || path->empty()) {
    return Error{ErrorCode::InvalidArgument,
                 "no path; give one of the paths GET /api/v1/reports lists"};
  }
  const std::string wanted = *path;
  auto runs = report_runs(s);
  if (!runs) return runs.error();
  bool listed = false;
  for (const nlohmann::json& r : *runs) {
    for (const auto& o : r["outputs"]) listed = listed || (o.is_string() && o == wanted);
  }
  if (!listed) {
    return Error{ErrorCode::NotFound,
                 fmt::format("no scheduled report wrote {}; give one of the paths GET "
                             "/api/v1/reports lists",
                             wanted)};
  }
  std::error_code ec;
  if (!fs::is_regular_file(fs::path(wanted), ec)) {
    return Error{ErrorCode::NotFound,
                 fmt::format("the report file {} is gone (moved or deleted since the run); run "
                             "the job again with flowscope schedule run",
                             wanted)};
  }
  std::ifstream in(wanted, std::ios::binary);
  std::ostringstream body;
  body << in.rdbuf();
  if (!in && !in.eof()) {
    return Error{ErrorCode::Io, fmt::format("cannot read {}; check its permissions", wanted)};
  }
  const fs::path p(wanted);
  // A report's HTML is self-contained (inline styles and images only): nothing else may load.
  c.response.set_header("Content-Security-Policy",
                        "default-src 'none'; style-src 'unsafe-inline'; img-src data:");
  c.response.set_header("X-Content-Type-Options", "nosniff");
  c.response.set_header("Content-Disposition",
                        fmt::format("inline; filename=\"{}\"", p.filename().string()));
  c.response.set_content(body.str(), std::string(content_type_of_report(p)));
  return HttpReply{200, nullptr, true};
}

}  // namespace

std::vector<Route> reports_routes(Server& server) {
  Server* s = &server;
  std::vector<Route> r;
  r.push_back({"GET",
               "/api/v1/reports",
               Access::Admin,
               "reports the scheduler wrote ([[schedule]] jobs), newest run first",
               {{"limit", "query", "integer", "at most this many runs (default 50)", false, {}}},
               "Reports",
               [s](HttpCall& c) { return list_reports(*s, c); }});
  r.push_back({"GET",
               "/api/v1/reports/file",
               Access::Admin,
               "one file a scheduled report wrote (PDF, HTML)",
               {{"path", "query", "string", "a path GET /api/v1/reports lists", true, {}}},
               "Text",
               [s](HttpCall& c) { return send_report(*s, c); }});
  return r;
}

}  // namespace flowscope::server
