#pragma once
// The questions behind the volume and detail reports (report/volume_report.h is the public
// face): each method asks the ReportSource `flowscope stat` questions and turns the answers
// into sections. Internal to flowscope_report. One builder per report, one thread.

#include <string>
#include <vector>

#include "report/volume_report.h"

namespace flowscope::report {

// One stat question in the words of the command line, so that the query note is exactly what
// was asked: `grp` as -grp takes it, `filter` ANDed with the report's selection.
struct Ask {
  std::string grp;
  std::string cnt = "bytes";
  query::Side side = query::Side::Both;
  std::uint64_t top = 10;
  std::int64_t bucket_ms = 0;
  std::string filter;  // extra, ANDed with the selection
};

struct Answer {
  query::StatResult result;
  std::string command;  // `flowscope stat ...`
};

// Bytes per 5-minute bucket of each direction over the window, from two stat questions.
struct Traffic {
  std::vector<std::int64_t> buckets;
  std::vector<double> out_bytes;  // client to server
  std::vector<double> in_bytes;   // server to client
  std::string command_out;
  std::string command_in;
};

class ReportBuilder {
 public:
  ReportBuilder(ReportSource& source, const VolumeOptions& options, const enrich::IpGroups* groups);

  Result<Report> manager();
  Result<Report> operator_report();
  Result<Report> conversation();
  Result<std::vector<DetailHost>> detail(const std::vector<Cidr>& patterns);

 private:
  Result<Answer> ask(const Ask& a);
  std::string and_selection(const std::string& extra) const;
  Report start(const std::string& title) const;

  Result<Section> summary(const std::string& heading, const std::string& filter);
  Result<Traffic> traffic(const std::string& filter);
  void traffic_section(Section& s, const Traffic& t, const std::string& what) const;
  // A top-N table (and its bar chart) of a stat grouping; hosts and pairs fold below the
  // threshold when `fold` is set.
  Result<void> ranked(Section& s, const std::string& title, const std::string& grp,
                      const std::string& filter, bool fold, bool chart);
  // Locations or activities: groups summed per location/activity of the IP groups.
  Result<void> by_attribute(Section& s, bool location, const std::string& filter, bool chart);
  Result<Section> tcp_health(const std::vector<std::pair<std::string, std::string>>& parts);
  Result<Section> ftp(const std::string& filter);
  Result<void> service_mix(Section& s, const std::string& filter);
  // The filter selecting location `loc` (or activity): GROUP == id || ... over its groups.
  std::string attribute_filter(bool location, const std::string& value) const;
  std::vector<std::string> attribute_values(bool location) const;
  std::string group_label(std::uint32_t id) const;
  std::string key_label(const query::StatResult& r, std::size_t k, std::size_t row) const;

  ReportSource& source_;
  VolumeOptions options_;
  const enrich::IpGroups* groups_;
  std::string selection_;  // the report's selection as a filter ("" = all)
  std::string window_;     // -t text
  double seconds_;         // the window's length
};

}  // namespace flowscope::report
