#include "store/backend.h"

#include <algorithm>
#include <unordered_map>

#include <fmt/format.h>

#include "store/batch_codec.h"

namespace flowscope::store {
namespace {

// The bytes of a row's group key: each group_by value (absent as a marker byte), then the bucket.
void append_key(const SessionBatch& batch, std::size_t row, std::span<const FieldId> group_by,
                std::int64_t bucket, std::string& key) {
  key.clear();
  for (FieldId id : group_by) {
    const Column& col = batch.column(id);
    if (!col.valid(row)) {
      key.push_back('\0');
      continue;
    }
    key.push_back('\1');
    std::visit(
        [&](const auto& data) {
          using D = std::decay_t<decltype(data)>;
          if constexpr (std::is_same_v<D, StringColumn>) {
            std::string_view s = data.get(row);
            const auto n = static_cast<std::uint32_t>(s.size());
            key.append(reinterpret_cast<const char*>(&n), sizeof n);
            key.append(s);
          } else {
            key.append(reinterpret_cast<const char*>(&data[row]), sizeof data[row]);
          }
        },
        col.data());
  }
  key.append(reinterpret_cast<const char*>(&bucket), sizeof bucket);
}

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

Result<AggregateResult> aggregate_by_scan(const Backend& backend, const AggregateRequest& request) {
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
  ScanRequest scan = request.scan;
  scan.columns = request.group_by;
  scan.columns.insert(scan.columns.end(), request.sums.begin(), request.sums.end());
  scan.columns.push_back(FieldId::StartTime);

  AggregateResult result;
  std::unordered_map<std::string, std::uint32_t> index;
  std::string key;
  const std::size_t nsums = request.sums.size();
  auto stats = backend.scan(scan, [&](const SessionBatch& batch) {
    const auto starts = batch.values<FieldId::StartTime>();
    for (std::size_t row = 0; row < batch.size(); ++row) {
      std::int64_t bucket = 0;
      if (request.bucket_ms > 0) {
        const std::int64_t t = starts[row];
        bucket = t >= 0 ? t - t % request.bucket_ms
                        : t - ((t % request.bucket_ms) + request.bucket_ms) % request.bucket_ms;
      }
      append_key(batch, row, request.group_by, bucket, key);
      auto [it, inserted] = index.try_emplace(key, static_cast<std::uint32_t>(result.counts.size()));
      if (inserted) {
        const std::uint32_t one = static_cast<std::uint32_t>(row);
        if (request.group_by.empty()) {
          result.keys.add_rows(1);
        } else {
          append_rows(batch, std::span(&one, 1), result.keys, request.group_by);
        }
        if (request.bucket_ms > 0) result.keys.set<FieldId::StartTime>(result.keys.size() - 1, bucket);
        result.counts.push_back(0);
        result.sums.resize(result.sums.size() + nsums, 0);
      }
      const std::size_t g = it->second;
      ++result.counts[g];
      for (std::size_t j = 0; j < nsums; ++j) {
        result.sums[g * nsums + j] += integer_value(batch.column(request.sums[j]), row);
      }
    }
    return true;
  });
  if (!stats) return stats.error();
  result.stats = std::move(*stats);
  return result;
}

}  // namespace flowscope::store
