#pragma once
// `flowscope report volume|detail` as a library (docs/reports.md): the request as the user
// gives it (strings), checked against trafMon's choices and resolved into a plan (period, time
// zone, IP groups, output directory, file formats), the store it reads, the host pattern file
// of detail reports, and writing a report as PDF, HTML and JSON files. The cli parses options,
// calls these and prints. Plain functions; one caller per plan.

#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "enrich/ip_groups.h"
#include "query/executor.h"
#include "store/embedded_store.h"

#include "report/report_model.h"
#include "report/volume_report.h"

namespace flowscope::report {

// The options of `report volume` and `report detail`, unchecked.
struct ReportRequest {
  std::string type = "manager";
  int top = 5;
  std::uint64_t threshold = 1000;
  std::string activity, location, host;
  std::string start, end, timespan;
  std::string out;
  std::string dir;
  std::string server;
  std::string groups;
  std::string formats = "pdf,html";
  std::string zone = "UTC";
  std::string now;
};

struct ReportPlan {
  TimeContext time;
  VolumeOptions volume;
  std::shared_ptr<enrich::IpGroups> groups;  // null without --groups
  query::ExecOptions exec;
  std::filesystem::path out;         // --out, else reports/YYYY/MM/DD of today in the zone
  std::vector<std::string> formats;  // pdf, html, json
};

// The period before the one `ctx.now` is in, in ctx's zone: the calendar month (trafMon's
// default), or with `weekly` the week from Monday.
TimeWindow previous_period(const TimeContext& ctx, bool weekly);

// Checks and resolves the request (`detail`: the type is not read). Every error is the user's
// (InvalidArgument), worded with the option it names; the store is not opened yet.
Result<ReportPlan> plan_report(const ReportRequest& request, bool detail);

// The store of `-d DIR`, read-only. Error (NotFound) when DIR is not a directory.
Result<std::unique_ptr<store::EmbeddedStore>> open_report_store(const std::string& dir);

// The address patterns of a detail report's file, one per line; blank lines and lines starting
// with # or ; are skipped. Errors (InvalidArgument) name the file and, for a bad pattern, its
// line; a file without patterns is an error.
Result<std::vector<std::string>> read_host_patterns(const std::string& path);

// The directory name of a detail report's host: ':' (IPv6) becomes '_'.
std::string host_dir_name(std::string host);

// Writes `rep` as <base>.<format> in `dir` (created) for each format, and names each file on
// `listing`, one a line ("DIR/volume-manager.pdf (3 pages)").
Result<void> write_report_files(const Report& rep, const std::filesystem::path& dir,
                                const std::string& base, const std::vector<std::string>& formats,
                                std::ostream& listing);

}  // namespace flowscope::report
