#pragma once
// trafMon's reports over flowscope's store (docs/reports.md): `flowscope report volume --type
// manager|operator|conversation` and `flowscope report detail`. A builder runs `flowscope stat`
// questions (query/executor.h) through a ReportSource, folds what trafMon folds (hosts and pairs
// below a rate threshold into 'others', IP groups into their locations and activities), computes
// 95th-percentile peaks over 5-minute buckets, and returns a report::Report for the renderers.
// Every table keeps the stat command line that gives its numbers.
//
// One builder call per thread; sources may be shared if their stat() is thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "enrich/ip_groups.h"
#include "query/executor.h"

#include "report/report_model.h"

namespace flowscope::report {

// Where the numbers come from: a local store or a server. `origin` is what the query notes
// name after `flowscope stat` ("-d /var/lib/flowscope", "-srv collector").
class ReportSource {
 public:
  virtual ~ReportSource() = default;
  virtual Result<query::StatResult> stat(const query::StatSpec& spec) = 0;
  // Raw sessions (TCP health, FTP transfers): rows with at least `spec.fields`.
  virtual Result<void> rows(const query::QuerySpec& spec, const query::RowSink& sink) = 0;
  virtual std::string origin() const = 0;
};

// A ReportSource over a backend in this process (`-d`). The backend outlives it.
class BackendSource : public ReportSource {
 public:
  BackendSource(const store::Backend& backend, query::ExecOptions options, std::string origin)
      : backend_(backend), options_(std::move(options)), origin_(std::move(origin)) {}
  Result<query::StatResult> stat(const query::StatSpec& spec) override;
  Result<void> rows(const query::QuerySpec& spec, const query::RowSink& sink) override;
  std::string origin() const override { return origin_; }
  // Blocks and rows the store read so far, over every question (the bench reports it).
  const store::ScanStats& scanned() const { return scanned_; }

 private:
  const store::Backend& backend_;
  query::ExecOptions options_;
  std::string origin_;
  store::ScanStats scanned_;
};

enum class VolumeType : std::uint8_t { Manager, Operator, Conversation };

// trafMon's choices, refused otherwise (the error lists them).
inline constexpr int kTopChoices[] = {5, 10, 15, 20, 25};
inline constexpr std::uint64_t kThresholdChoices[] = {0, 1000, 10000, 50000, 100000, 500000};

struct VolumeOptions {
  VolumeType type = VolumeType::Manager;
  int top = 5;
  std::uint64_t threshold_bps = 1000;  // hosts and pairs below this average rate -> 'others'
  std::string activity;                // "" = any
  std::string location;                // "" = any
  std::string host;                    // "" = any; an address, CIDR or IP group name
  std::int64_t begin_ms = 0;
  std::int64_t end_ms = 0;
  TimeZoneRef zone;
  std::string now_text;  // "generated ..." line; empty: not printed
};

Result<VolumeType> parse_volume_type(std::string_view text);
std::string_view volume_type_name(VolumeType t);

// Checks the options against trafMon's choices and the IP groups (a location, activity or host
// group must exist; the error lists the known ones). `groups` may be null (no --groups).
Result<void> check_options(const VolumeOptions& options, const enrich::IpGroups* groups);

Result<Report> build_volume_report(ReportSource& source, const VolumeOptions& options,
                                   const enrich::IpGroups* groups);

// `flowscope report detail`: one report per host matching one of `patterns` (addresses, CIDRs,
// or trafMon's dotted wildcards "10.1.5.*"), in the window of `options`.
struct DetailHost {
  std::string host;  // address text
  Report report;
};
Result<std::vector<DetailHost>> build_detail_reports(ReportSource& source,
                                                     const std::vector<std::string>& patterns,
                                                     const VolumeOptions& options,
                                                     const enrich::IpGroups* groups);
// One pattern line: "10.1.2.3", "10.1.0.0/16", "10.1.*", "2001:db8::/32". Comments (#, ;) and
// blank lines are skipped by the caller. Errors say what a pattern may be.
Result<Cidr> parse_host_pattern(std::string_view text);

// The 95th percentile of `values` by the nearest-rank method (sorted ascending, the value at
// rank ceil(0.95 n)); 0 for no values. The convention of burstable billing over 5-minute
// averages.
double percentile95(std::vector<double> values);

}  // namespace flowscope::report
