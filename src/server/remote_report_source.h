#pragma once
// A report::ReportSource over a flowscope server (`flowscope report ... -srv HOST`): each stat
// question and raw-row query goes over the query protocol with "typed": true, so the server
// answers with the numbers and values themselves (query/typed_json.h) and the report is built
// exactly as from a local store. The server applies the user's data permissions, so a report
// over -srv covers what that user may see (docs/reports.md "Over a server").
#include <string>

#include "server/client.h"

#include "report/volume_report.h"

namespace flowscope::server {

class RemoteReportSource : public report::ReportSource {
 public:
  // `origin`: what the query notes name ("-srv collector:9640").
  RemoteReportSource(Client client, std::string origin)
      : client_(std::move(client)), origin_(std::move(origin)) {}
  Result<query::StatResult> stat(const query::StatSpec& spec) override;
  Result<void> rows(const query::QuerySpec& spec, const query::RowSink& sink) override;
  std::string origin() const override { return origin_; }

 private:
  Client client_;
  std::string origin_;
};

}  // namespace flowscope::server
