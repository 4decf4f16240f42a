#include "server/remote_report_source.h"

#include <fmt/format.h>

#include "query/query_spec.h"
#include "query/typed_json.h"

namespace flowscope::server {

Result<query::StatResult> RemoteReportSource::stat(const query::StatSpec& spec) {
  auto done = client_.request({{"kind", "stat"}, {"spec", query::to_json(spec)}, {"typed", true}});
  if (!done) return done.error();
  if (!done->contains("result")) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("the server at {} does not send typed answers; upgrade it to this "
                             "flowscope version to run reports over -srv",
                             origin_)};
  }
  return query::stat_result_from_typed(spec, (*done)["result"]);
}

Result<void> RemoteReportSource::rows(const query::QuerySpec& spec, const query::RowSink& sink) {
  std::vector<FieldId> fields;
  Result<void> failed;
  SessionBatch batch;
  auto on_frame = [&](const Frame& f) -> bool {
    if (f.type == FrameType::Header) {
      fields.clear();
      if (!f.body.contains("columns") || !f.body["columns"].is_array()) return true;
      for (const auto& c : f.body["columns"]) {
        const std::optional<FieldId> id =
            c.is_string() ? find_field(RecordKind::Session, c.get<std::string>()) : std::nullopt;
        if (!id || SessionBatch::column_index(*id) < 0) {
          failed = Error{
              ErrorCode::InvalidArgument,
              fmt::format("the server answered with column {}, not a stored field", c.dump())};
          return false;
        }
        fields.push_back(*id);
      }
      return true;
    }
    if (f.type != FrameType::Rows || !f.body.contains("rows")) return true;
    batch.clear();
    for (const auto& row : f.body["rows"]) {
      if (!row.is_array() || row.size() != fields.size()) {
        failed = Error{ErrorCode::InvalidArgument,
                       "the server sent a row that does not match its columns"};
        return false;
      }
      const std::size_t r = batch.add_row();
      for (std::size_t k = 0; k < fields.size(); ++k) {
        if (auto s = query::set_typed_value(batch, fields[k], r, row[k]); !s) {
          failed = s.error();
          return false;
        }
      }
    }
    return sink(batch);
  };
  auto done = client_.request({{"kind", "query"}, {"spec", query::to_json(spec)}, {"typed", true}},
                              on_frame);
  if (!failed) return failed.error();
  if (!done) return done.error();
  return {};
}

}  // namespace flowscope::server
