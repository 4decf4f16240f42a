#pragma once
// Internal to flowscope_server: other modules use its public headers.
// Scrutinizer's report_api request (`rpt_json` and `data_requested`, docs/http.md
// "Scrutinizer") as flowscope values: which report (a StatSpec: group fields, side, count), the
// window (dateRange presets in the client's time zone, or Custom epochs), the granularity of
// the time series, the filters as a parsed tree, and what parts of the answer are wanted.
//
// Mapping (direction "inbound" counts what the client sent, "outbound" what the server sent):
//   host2host         cln_addr,srv_addr          conversations     + srv_port,proto
//   conversationsApp  cln_addr,srv_addr,application   applications  application
//   srcHosts          cln_addr    dstHosts  srv_addr    country2country  cln_country,srv_country
//   ipGroupGroup      cln_group,srv_group        tos   tos     interfaces  exporter,in_if
// Outbound swaps the client and server fields (the source of outbound traffic is the server;
// interfaces uses out_if) and counts that source's bytes.
//
// Filters, several of one kind OR-ed, kinds AND-ed:
//   sdfDips_N     in_GROUP_ALL | in_<exporter hex>_ALL | in_<exporter hex>_<exporter hex>-<ifIndex>
//   sdfIPGroups_N in_<IP group id>_src|dst|both   (src/dst: the report's source/destination)
//   sdfIps_N      in_<address or CIDR>_src|dst|both   ("Both" also)
//
// Pure functions (no I/O); parse_report_request is fuzzed (fuzz/http_request_fuzzer.cpp).

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.h"
#include "core/time.h"
#include "query/filter.h"
#include "query/query_spec.h"

namespace flowscope::enrich {
class IpGroups;
}

namespace flowscope::server {

enum class ReportDirection : std::uint8_t { Inbound, Outbound };
enum class ReportUnit : std::uint8_t { Bytes, Bits, Percent };

inline constexpr std::uint64_t kMaxReportRows = 10000;

struct DirectionRequest {
  ReportDirection direction = ReportDirection::Inbound;
  bool table = false;
  std::uint64_t offset = 0;
  std::uint64_t max_rows = 10;
  bool pie = false;
  bool timeseries = false;
};

struct ReportRequest {
  std::string type;  // reportTypeLang
  ReportDirection direction = ReportDirection::Inbound;
  query::StatSpec spec;  // group_by, side, count, window; no restriction yet
  std::int64_t granularity_ms = 0;
  bool granularity_auto = true;
  std::string date_range;  // as given
  std::string time_zone;   // clientTimezone, "UTC" when absent
  bool rate = false;       // rateTotal: per second over the window
  ReportUnit unit = ReportUnit::Bytes;
  std::string order_by;
  std::vector<DirectionRequest> wanted;  // data_requested, one entry per direction key
};

// `ip_groups` resolves sdfIPGroups ids (and their nested groups); may be null (no group then
// matches). Errors name the key and the accepted values.
Result<ReportRequest> parse_report_request(const nlohmann::json& rpt_json,
                                           const nlohmann::json& data_requested, TimeMs now,
                                           const enrich::IpGroups* ip_groups);

// The window of a dateRange preset in `zone` ("LastHour", "Yesterday", ...; Custom takes
// start/end in epoch seconds). Errors list the presets.
Result<TimeWindow> report_window(const nlohmann::json& times, TimeMs now, const TimeZoneRef& zone);

// "auto": 1 minute up to 6 hours, 60 up to 7 days, else 1440 (the store's rollup levels).
std::int64_t auto_granularity_ms(std::int64_t window_ms);

std::string_view direction_name(ReportDirection d);

// An exporter as Scrutinizer names it: hex ("0A010107", 32 digits for IPv6) or an address.
Result<IpAddress> scrutinizer_exporter(std::string_view text);

}  // namespace flowscope::server
