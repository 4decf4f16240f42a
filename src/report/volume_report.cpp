#include "report/volume_report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "query/output.h"
#include "query/stat_graph.h"
#include "query/stat_series.h"

#include "report/report_builder.h"
#include "report/report_format.h"

namespace flowscope::report {

Result<query::StatResult> BackendSource::stat(const query::StatSpec& spec) {
  auto r = query::execute_stat(backend_, spec, options_);
  if (r) {
    scanned_.blocks += r->stats.scan.blocks;
    scanned_.blocks_skipped += r->stats.scan.blocks_skipped;
    scanned_.rows_read += r->stats.scan.rows_read;
    scanned_.rows_returned += r->stats.scan.rows_returned;
  }
  return r;
}

Result<void> BackendSource::rows(const query::QuerySpec& spec, const query::RowSink& sink) {
  auto r = query::execute_query(backend_, spec, sink, options_);
  if (!r) return r.error();
  scanned_.blocks += r->scan.blocks;
  scanned_.blocks_skipped += r->scan.blocks_skipped;
  scanned_.rows_read += r->scan.rows_read;
  scanned_.rows_returned += r->scan.rows_returned;
  return ok();
}

Result<VolumeType> parse_volume_type(std::string_view text) {
  if (text == "manager") return VolumeType::Manager;
  if (text == "operator") return VolumeType::Operator;
  if (text == "conversation") return VolumeType::Conversation;
  return Error{
      ErrorCode::InvalidArgument,
      fmt::format("unknown report type \"{}\"; use manager, operator or conversation", text)};
}

std::string_view volume_type_name(VolumeType t) {
  switch (t) {
    case VolumeType::Manager: return "manager";
    case VolumeType::Operator: return "operator";
    case VolumeType::Conversation: return "conversation";
  }
  return "?";
}

namespace {

std::string known_values(const enrich::IpGroups* groups, bool location) {
  std::vector<std::string> names;
  if (groups != nullptr) {
    for (const auto& g : groups->groups()) {
      const std::string& v = location ? g.location : g.activity;
      if (!v.empty() && std::find(names.begin(), names.end(), v) == names.end()) names.push_back(v);
    }
  }
  if (names.empty()) return "none are defined (give IP groups with --groups)";
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += '"' + n + '"';
  }
  return "known: " + out;
}

}  // namespace

Result<void> check_options(const VolumeOptions& o, const enrich::IpGroups* groups) {
  if (std::find(std::begin(kTopChoices), std::end(kTopChoices), o.top) == std::end(kTopChoices)) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("--top {}: use 5, 10, 15, 20 or 25", o.top)};
  }
  if (std::find(std::begin(kThresholdChoices), std::end(kThresholdChoices), o.threshold_bps) ==
      std::end(kThresholdChoices)) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("--threshold {}: use 0, 1000, 10000, 50000, 100000 or 500000 (b/s)",
                             o.threshold_bps)};
  }
  if (o.begin_ms >= o.end_ms) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("--start {} is not before --end {}; give a start before the end",
                             format_time(time_from_ms(o.begin_ms), o.zone),
                             format_time(time_from_ms(o.end_ms), o.zone))};
  }
  auto has = [&](bool location, const std::string& v) {
    if (groups == nullptr) return false;
    for (const auto& g : groups->groups()) {
      if ((location ? g.location : g.activity) == v) return true;
    }
    return false;
  };
  if (!o.location.empty() && !has(true, o.location)) {
    return Error{ErrorCode::InvalidArgument, fmt::format("--location \"{}\" is unknown; {}",
                                                         o.location, known_values(groups, true))};
  }
  if (!o.activity.empty() && !has(false, o.activity)) {
    return Error{ErrorCode::InvalidArgument, fmt::format("--activity \"{}\" is unknown; {}",
                                                         o.activity, known_values(groups, false))};
  }
  if (!o.host.empty() && !Cidr::parse(o.host, Cidr::HostBits::Clear) &&
      (groups == nullptr || groups->find(o.host) == nullptr)) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("--host \"{}\" is neither an address, a network nor an IP group{}",
                             o.host, groups == nullptr ? " (give IP groups with --groups)" : "")};
  }
  return ok();
}

double percentile95(std::vector<double> values) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(values.size())));
  return values[std::max<std::size_t>(rank, 1) - 1];
}

Result<Cidr> parse_host_pattern(std::string_view text) {
  std::string t(text);
  // trafMon's dotted wildcards: 10.1.* is 10.1.0.0/16.
  if (auto star = t.find('*'); star != std::string::npos) {
    if (star + 1 != t.size() || (star > 0 && t[star - 1] != '.')) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("\"{}\": a wildcard is a trailing .* (10.1.*)", text)};
    }
    std::string head = t.substr(0, star);
    int octets = static_cast<int>(std::count(head.begin(), head.end(), '.'));
    std::string addr = head;
    for (int i = octets; i < 4; ++i) addr += i == 3 ? "0" : "0.";
    if (!addr.empty() && addr.back() == '.') addr.pop_back();
    auto c = Cidr::parse(addr + "/" + std::to_string(octets * 8), Cidr::HostBits::Reject);
    if (c) return c;
  } else if (auto c = Cidr::parse(t, Cidr::HostBits::Reject); c) {
    return c;
  }
  return Error{ErrorCode::InvalidArgument,
               fmt::format("\"{}\" is not an address pattern; use an address (10.1.2.3), a "
                           "network (10.1.0.0/16, 2001:db8::/32) or a wildcard (10.1.*)",
                           text)};
}

Result<Report> build_volume_report(ReportSource& source, const VolumeOptions& options,
                                   const enrich::IpGroups* groups) {
  if (auto c = check_options(options, groups); !c) return c.error();
  ReportBuilder b(source, options, groups);
  switch (options.type) {
    case VolumeType::Manager: return b.manager();
    case VolumeType::Operator: return b.operator_report();
    case VolumeType::Conversation: return b.conversation();
  }
  return Error{ErrorCode::InvalidArgument, "unknown report type"};
}

Result<std::vector<DetailHost>> build_detail_reports(ReportSource& source,
                                                     const std::vector<std::string>& patterns,
                                                     const VolumeOptions& options,
                                                     const enrich::IpGroups* groups) {
  VolumeOptions o = options;
  o.type = VolumeType::Operator;
  if (auto c = check_options(o, groups); !c) return c.error();
  std::vector<Cidr> cidrs;
  for (const auto& p : patterns) {
    auto c = parse_host_pattern(p);
    if (!c) return c.error();
    cidrs.push_back(*c);
  }
  ReportBuilder b(source, o, groups);
  return b.detail(cidrs);
}

}  // namespace flowscope::report
