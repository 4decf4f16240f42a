#include "store/rollup.h"

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/saturating.h"
#include "store/batch_codec.h"
#include "store/fixed_key_aggregator.h"
#include "store/group_key.h"
#include "store/partition.h"

namespace flowscope::store {

namespace {

// Rollups of fixed-width keys: one pass of the fixed-key aggregator over every batch.
std::optional<SessionBatch> rollup_fixed(std::span<const SessionBatch* const> parts,
                                         std::span<const FieldId> keys, std::int64_t bucket_ms) {
  AggregateRequest request;
  request.group_by.assign(keys.begin(), keys.end());
  request.sums.assign(std::begin(kRollupSums), std::end(kRollupSums));
  request.bucket_ms = bucket_ms;
  auto agg = FixedKeyAggregator::create(request, FixedKeyAggregator::BucketRule::PartitionTime);
  if (!agg) return std::nullopt;
  for (const SessionBatch* part : parts) agg->add(*part);
  AggregateResult r = std::move(*agg).finish({});
  SessionBatch out = std::move(r.keys);
  const std::size_t nsums = std::size(kRollupSums);
  for (std::size_t g = 0; g < out.size(); ++g) {
    out.set<FieldId::EndTime>(g, out.get<FieldId::StartTime>(g) + bucket_ms);
    out.set<FieldId::ClnBytes>(g, r.sums[g * nsums]);
    out.set<FieldId::SrvBytes>(g, r.sums[g * nsums + 1]);
    out.set<FieldId::ClnPackets>(g, r.sums[g * nsums + 2]);
    out.set<FieldId::SrvPackets>(g, r.sums[g * nsums + 3]);
    out.set<FieldId::SessionCount>(g, r.counts[g]);
  }
  return out;
}

}  // namespace

SessionBatch rollup_batches(std::span<const SessionBatch* const> parts,
                            std::span<const FieldId> keys, std::int64_t bucket_ms) {
  if (auto fixed = rollup_fixed(parts, keys, bucket_ms)) return std::move(*fixed);
  if (parts.size() == 1) return rollup_rows(*parts[0], keys, bucket_ms);
  SessionBatch merged;
  for (const SessionBatch* part : parts) append_all(rollup_rows(*part, keys, bucket_ms), merged);
  // Rolling up again merges the groups that several batches share.
  return rollup_rows(merged, keys, bucket_ms);
}

SessionBatch rollup_rows(const SessionBatch& rows, std::span<const FieldId> keys,
                         std::int64_t bucket_ms) {
  const SessionBatch* all = &rows;
  if (auto fixed = rollup_fixed(std::span(&all, 1), keys, bucket_ms)) return std::move(*fixed);
  SessionBatch out;
  std::unordered_map<std::string, std::uint32_t> index;
  std::string key;
  const auto starts = rows.values<FieldId::StartTime>();
  const auto counts = rows.values<FieldId::SessionCount>();
  const Column& count_col = rows.column(FieldId::SessionCount);
  struct Acc {
    std::uint64_t sums[std::size(kRollupSums)] = {};
    std::uint64_t sessions = 0;
  };
  std::vector<Acc> acc;
  std::vector<std::span<const std::uint64_t>> sum_cols;
  for (FieldId id : kRollupSums) {
    // kRollupSums are all U64 columns: checked at compile time below.
    sum_cols.push_back(rows.column(id).vec<std::uint64_t>());
  }
  for (std::size_t row = 0; row < rows.size(); ++row) {
    const std::int64_t bucket = floor_to(partition_time(starts[row]), bucket_ms);
    append_group_key(rows, row, keys, bucket, key);
    auto [it, inserted] = index.try_emplace(key, static_cast<std::uint32_t>(acc.size()));
    if (inserted) {
      const auto one = static_cast<std::uint32_t>(row);
      if (keys.empty()) {
        out.add_rows(1);
      } else {
        append_rows(rows, std::span(&one, 1), out, keys);
      }
      out.set<FieldId::StartTime>(out.size() - 1, bucket);
      out.set<FieldId::EndTime>(out.size() - 1, bucket + bucket_ms);
      acc.emplace_back();
    }
    Acc& a = acc[it->second];
    for (std::size_t j = 0; j < sum_cols.size(); ++j) sat_accumulate(a.sums[j], sum_cols[j][row]);
    sat_accumulate(a.sessions, count_col.valid(row) ? counts[row] : 1);
  }
  for (std::size_t g = 0; g < acc.size(); ++g) {
    out.set<FieldId::ClnBytes>(g, acc[g].sums[0]);
    out.set<FieldId::SrvBytes>(g, acc[g].sums[1]);
    out.set<FieldId::ClnPackets>(g, acc[g].sums[2]);
    out.set<FieldId::SrvPackets>(g, acc[g].sums[3]);
    out.set<FieldId::SessionCount>(g, acc[g].sessions);
  }
  return out;
}

static_assert(field_info(FieldId::ClnBytes).type == FieldType::U64 &&
                  field_info(FieldId::SrvBytes).type == FieldType::U64 &&
                  field_info(FieldId::ClnPackets).type == FieldType::U64 &&
                  field_info(FieldId::SrvPackets).type == FieldType::U64,
              "rollup sums read U64 columns");

}  // namespace flowscope::store
