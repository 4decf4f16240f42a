#include "store/backend.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "core/saturating.h"
#include "store/batch_codec.h"
#include "store/group_key.h"

namespace flowscope::store {
namespace {

std::uint64_t integer_value(const Column& col, std::size_t row) {
  return std::visit(
      [row](const auto& data) -> std::uint64_t {
        using D = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<D, std::vector<std::uint8_t>> ||
                      std::is_same_v<D, std::vector<std::uint16_t>> ||
                      std::is_same_v<D, std::vector<std::uint32_t>> ||
                      std::is_same_v<D, std::vector<std::uint64_t>> ||
                      std::is_same_v<D, std::vector<std::int64_t>>) {
          return static_cast<std::uint64_t>(data[row]);
        } else {
          return 0;
        }
      },
      col.data());
}

}  // namespace

Result<AggregateResult> Backend::aggregate(const AggregateRequest& request) const {
  return aggregate_by_scan(*this, request);
}

Result<Aggregator> Aggregator::create(const AggregateRequest& request) {
  for (FieldId id : request.sums) {
    if (SessionBatch::column_index(id) < 0 || !is_numeric(field_info(id).type)) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("cannot sum {}: not a stored number", field_info(id).name)};
    }
  }
  for (FieldId id : request.group_by) {
    if (SessionBatch::column_index(id) < 0) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("cannot group by {}: not a stored field", field_info(id).name)};
    }
  }
  Aggregator a;
  a.request_ = request;
  return a;
}

std::vector<FieldId> Aggregator::scan_columns() const {
  std::vector<FieldId> columns = request_.group_by;
  columns.insert(columns.end(), request_.sums.begin(), request_.sums.end());
  columns.push_back(FieldId::StartTime);
  columns.push_back(FieldId::SessionCount);
  return columns;
}

void Aggregator::add(const SessionBatch& batch) {
  const auto starts = batch.values<FieldId::StartTime>();
  const auto counts = batch.values<FieldId::SessionCount>();
  const Column& count_col = batch.column(FieldId::SessionCount);
  const std::size_t nsums = request_.sums.size();
  for (std::size_t row = 0; row < batch.size(); ++row) {
    std::int64_t bucket = 0;
    if (request_.bucket_ms > 0) {
      const std::int64_t t = starts[row];
      bucket = t >= 0 ? t - t % request_.bucket_ms
                      : t - ((t % request_.bucket_ms) + request_.bucket_ms) % request_.bucket_ms;
    }
    append_group_key(batch, row, request_.group_by, bucket, key_);
    auto [it, inserted] =
        index_.try_emplace(key_, static_cast<std::uint32_t>(result_.counts.size()));
    if (inserted) {
      const auto one = static_cast<std::uint32_t>(row);
      if (request_.group_by.empty()) {
        result_.keys.add_rows(1);
      } else {
        append_rows(batch, std::span(&one, 1), result_.keys, request_.group_by);
      }
      if (request_.bucket_ms > 0) {
        result_.keys.set<FieldId::StartTime>(result_.keys.size() - 1, bucket);
      }
      result_.counts.push_back(0);
      result_.sums.resize(result_.sums.size() + nsums, 0);
    }
    const std::size_t g = it->second;
    // A rollup row stands for `sessions` sessions; a raw session for one.
    sat_accumulate(result_.counts[g], count_col.valid(row) ? counts[row] : 1);
    for (std::size_t j = 0; j < nsums; ++j) {
      sat_accumulate(result_.sums[g * nsums + j],
                     integer_value(batch.column(request_.sums[j]), row));
    }
  }
}

AggregateResult Aggregator::finish(ScanStats stats) && {
  result_.stats = std::move(stats);
  return std::move(result_);
}

Result<AggregateResult> aggregate_by_scan(const Backend& backend, const AggregateRequest& request) {
  auto agg = Aggregator::create(request);
  if (!agg) return agg.error();
  ScanRequest scan = request.scan;
  scan.columns = agg->scan_columns();
  auto stats = backend.scan(scan, [&](const SessionBatch& batch) {
    agg->add(batch);
    return true;
  });
  if (!stats) return stats.error();
  AggregateResult result = std::move(*agg).finish(std::move(*stats));
  result.source = "raw";
  return result;
}

}  // namespace flowscope::store
