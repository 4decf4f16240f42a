// libFuzzer target: what HTTP clients send to flowscope's own parsers (server/http_request.h,
// server/scrutinizer_report.h): the input is read as a query string or form body; its
// rpt_json, data_requested and bracket parameters go through the report parser as Scrutinizer's
// report_api would take them. Anything parses to values or to an Error with a message; nothing
// throws or crashes, and a request that parses names a known report type and bounded rows.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "enrich/ip_groups.h"
#include "server/http_request.h"
#include "server/scrutinizer_report.h"

namespace {

const flowscope::enrich::IpGroups& groups() {
  static const flowscope::enrich::IpGroups g = [] {
    auto parsed = flowscope::enrich::IpGroups::from_toml(
        "[[group]]\nname = \"Campus\"\nid = 16800023\naddresses = [\"10.1.0.0/16\"]\n", "fuzz");
    return parsed ? std::move(*parsed) : flowscope::enrich::IpGroups();
  }();
  return g;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowscope;
  using namespace flowscope::server;
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto params = parse_query_string(text);
  if (!params) {
    if (params.error().message.empty()) __builtin_trap();
    return 0;
  }
  if (params->size() > kMaxParams) __builtin_trap();
  auto rpt = json_param(*params, "rpt_json");
  auto wanted = json_param(*params, "data_requested");
  if (!rpt || !wanted) {
    if ((!rpt && rpt.error().message.empty()) || (!wanted && wanted.error().message.empty())) {
      __builtin_trap();
    }
    return 0;
  }
  auto report = parse_report_request(*rpt, *wanted, time_from_ms(1'790'000'000'000), &groups());
  if (!report) {
    if (report.error().message.empty()) __builtin_trap();
    return 0;
  }
  if (report->type.empty() || report->spec.group_by.empty()) __builtin_trap();
  for (const DirectionRequest& w : report->wanted) {
    if (w.max_rows > kMaxReportRows || w.offset > kMaxReportRows) __builtin_trap();
  }
  return 0;
}
