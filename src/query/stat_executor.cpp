// execute_stat: statistics over sessions (docs/query.md "stat"). Each side of a sided group
// (ADDR = client address, then server address) is one Backend aggregation grouped by that
// side's columns (plus the counted field for distinct counts, plus the time bucket); the rows
// of all aggregations are then merged here by their (masked) keys, ranked, cut at the top N.
// The aggregations go to Backend::aggregate (rollups) when the store can apply the whole
// filter, else to a scan filtered here column-wise and grouped by store::Aggregator: the same
// grouping either way, so both give identical results.
#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "core/cidr.h"
#include "core/saturating.h"
#include "query/executor.h"
#include "query/executor_support.h"
#include "query/fixed_key_aggregator.h"
#include "store/batch_codec.h"
#include "store/rollup.h"

namespace flowscope::query {
namespace {

struct U128 {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  friend bool operator==(const U128&, const U128&) = default;
};
struct U128Hash {
  std::size_t operator()(const U128& v) const noexcept {
    return std::hash<std::uint64_t>()(v.hi * 0x9E3779B97F4A7C15ULL ^ v.lo);
  }
};
using ValueSet = std::unordered_set<U128, U128Hash>;

// The sums every aggregation asks for, in this order (all are rollup sums).
constexpr FieldId kSums[] = {FieldId::ClnBytes, FieldId::SrvBytes, FieldId::ClnPackets,
                             FieldId::SrvPackets};
static_assert(std::size(kSums) == std::size(store::kRollupSums));

// 0 for a client-side field (or one without a side), 1 for a server-side one.
int side_of(FieldId f) {
  for (const FieldInfo& info : kFieldTable) {
    if (info.kind == FieldKind::Either && info.operands[1] == f) return 1;
  }
  return f == FieldId::SrvCountry || f == FieldId::SrvCity || f == FieldId::SrvAsOrg ? 1 : 0;
}

// One aggregation: the columns of the group items on one side, and of the counted field.
struct Variant {
  std::vector<FieldId> key_fields;     // per group item
  std::vector<FieldId> unique_fields;  // CountKind::Unique
  int side = 0;                        // whose traffic "sent" means
};

std::vector<Variant> plan_variants(const StatSpec& spec) {
  const bool sided = std::any_of(spec.group_by.begin(), spec.group_by.end(),
                                 [](const GroupKey& k) { return is_sided(k); });
  std::vector<Variant> out;
  for (int v = 0; v < (sided ? 2 : 1); ++v) {
    Variant var;
    for (const GroupKey& k : spec.group_by) {
      const auto fields = side_fields(k);
      var.key_fields.push_back(fields.size() == 2 ? fields[static_cast<std::size_t>(v)]
                                                  : fields[0]);
    }
    var.side = sided ? v : (spec.group_by.empty() ? 0 : side_of(var.key_fields[0]));
    if (spec.count == CountKind::Unique) {
      const FieldInfo& u = field_info(spec.unique_field);
      if (u.kind == FieldKind::Either) {
        // Under a sided group: the other side's value (a host's peers); else either value.
        if (sided) {
          var.unique_fields.push_back(u.operands[static_cast<std::size_t>(1 - v)]);
        } else {
          var.unique_fields = {u.operands[0], u.operands[1]};
        }
      } else {
        var.unique_fields.push_back(spec.unique_field);
      }
    }
    out.push_back(std::move(var));
  }
  return out;
}

U128 unique_key(const Column& col, std::size_t row) {
  if (col.info().type == FieldType::String) {
    const std::string_view s = col.strings().get(row);
    return {std::hash<std::string_view>()(s), s.size()};
  }
  const store::OrderKey k = order_key_of(col, row);
  return {k.hi, k.lo};
}

IpAddress masked(const IpAddress& a, const GroupKey& k) {
  if (a.is_v4()) return k.v4_prefix >= 32 ? a : mask_address(a, 96u + k.v4_prefix);
  return k.v6_prefix >= 128 ? a : mask_address(a, k.v6_prefix);
}

// Appends the key bytes of one group item.
void append_key(std::string& key, const Column& col, std::size_t row, const GroupKey& k) {
  if (!col.valid(row)) {
    key.push_back('\0');
    return;
  }
  key.push_back('\1');
  if (col.info().type == FieldType::Ip) {
    const IpAddress a = masked(col.vec<IpAddress>()[row], k);
    key.append(reinterpret_cast<const char*>(a.bytes().data()), 16);
  } else if (col.info().type == FieldType::String) {
    const std::string_view s = col.strings().get(row);
    const auto n = static_cast<std::uint32_t>(s.size());
    key.append(reinterpret_cast<const char*>(&n), sizeof n);
    key.append(s);
  } else {
    const store::OrderKey o = order_key_of(col, row);
    key.append(reinterpret_cast<const char*>(&o.hi), 8);
    key.append(reinterpret_cast<const char*>(&o.lo), 8);
  }
}

// Copies the value of `src` at `row` into `dst` at `drow` (same field type), masking addresses.
void copy_key(const Column& src, std::size_t row, Column& dst, std::size_t drow,
              const GroupKey& k) {
  if (!src.valid(row)) return;
  std::visit(
      [&](const auto& s) {
        using D = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
          dst.strings().set(drow, s.get(row));
        } else if constexpr (std::is_same_v<D, std::vector<IpAddress>>) {
          dst.template vec<IpAddress>()[drow] = masked(s[row], k);
        } else {
          dst.template vec<typename D::value_type>()[drow] = s[row];
        }
      },
      src.data());
  dst.mark_valid(drow);
}

struct Acc {
  StatValues v;
  ValueSet uniq;                    // distinct values, when rows may repeat them
  std::uint64_t distinct_rows = 0;  // otherwise: each aggregation row is a new value
};

struct Group {
  Acc total;
  std::map<std::int64_t, Acc> buckets;
  std::uint32_t variant = 0;  // where its key values are: aggregation `variant`, row `row`
  std::uint32_t row = 0;
};

// One aggregation on the scan path: the fixed-key aggregator when it applies (no copies of
// the selected rows), else the store's general one.
struct ScanAggregation {
  std::optional<FixedKeyAggregator> fast;
  std::optional<store::Aggregator> general;
  std::vector<FieldId> columns;  // what add() reads
  SessionBatch selected;         // the general one's copy of the selected rows
};

// The aggregations of `requests` (one window and one set of pushed-down predicates): each from
// Backend::aggregate when the backend has a faster way (rollups), the others together in one
// scan that applies the rest of the filter column-wise.
Result<std::vector<store::AggregateResult>> run_aggregates(
    const store::Backend& backend, const std::vector<store::AggregateRequest>& requests,
    const CompiledFilter& filter, const ExecOptions& options, QueryProgress& progress) {
  std::vector<std::optional<store::AggregateResult>> done(requests.size());
  std::vector<std::size_t> scanned;
  std::vector<ScanAggregation> aggs;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (options.cancel.cancelled()) return Error{ErrorCode::Cancelled, "query cancelled"};
    const store::AggregateRequest& request = requests[i];
    auto fast = FixedKeyAggregator::create(request);
    if (!options.force_scan && filter.pushdown_is_exact() &&
        (backend.aggregates_natively(request) || !fast)) {
      auto r = backend.aggregate(request);
      if (!r) return r.error();
      progress.rows_scanned += r->stats.rows_returned;
      progress.rows_matched += r->stats.rows_returned;
      ++progress.batches;
      if (options.progress) options.progress(progress);
      done[i] = std::move(*r);
      continue;
    }
    ScanAggregation agg;
    if (fast) {
      agg.columns = fast->scan_columns();
      agg.fast = std::move(fast);
    } else {
      auto general = store::Aggregator::create(request);
      if (!general) return general.error();
      agg.columns = general->scan_columns();
      agg.general = std::move(*general);
    }
    dedupe(agg.columns);
    aggs.push_back(std::move(agg));
    scanned.push_back(i);
  }
  if (!aggs.empty()) {
    store::ScanRequest scan = requests[scanned[0]].scan;
    scan.columns = filter.columns();
    for (const ScanAggregation& agg : aggs) {
      scan.columns.insert(scan.columns.end(), agg.columns.begin(), agg.columns.end());
    }
    dedupe(scan.columns);
    std::vector<std::uint32_t> rows;
    bool cancelled = false;
    auto stats = backend.scan(scan, [&](const SessionBatch& batch) {
      if (options.cancel.cancelled()) {
        cancelled = true;
        return false;
      }
      filter.select_rows(batch, rows);
      progress.rows_scanned += batch.size();
      progress.rows_matched += rows.size();
      ++progress.batches;
      if (options.progress) options.progress(progress);
      for (ScanAggregation& agg : aggs) {
        if (agg.fast) {
          agg.fast->add(batch, rows);
        } else if (rows.size() == batch.size()) {
          agg.general->add(batch);
        } else if (!rows.empty()) {
          agg.selected.clear();
          store::append_rows(batch, rows, agg.selected, agg.columns);
          agg.general->add(agg.selected);
        }
      }
      return true;
    });
    if (!stats) return stats.error();
    if (cancelled) return Error{ErrorCode::Cancelled, "query cancelled"};
    for (std::size_t j = 0; j < aggs.size(); ++j) {
      // One scan: its counters go with the first result only, so that sums stay right.
      store::ScanStats s = j == 0 ? *stats : store::ScanStats{};
      done[scanned[j]] = aggs[j].fast ? std::move(*aggs[j].fast).finish(std::move(s))
                                      : std::move(*aggs[j].general).finish(std::move(s));
      done[scanned[j]]->source = "raw";
    }
  }
  std::vector<store::AggregateResult> out;
  for (auto& d : done) out.push_back(std::move(*d));
  return out;
}

void add_values(StatValues& to, const StatValues& v) {
  sat_accumulate(to.bytes, v.bytes);
  sat_accumulate(to.packets, v.packets);
  sat_accumulate(to.sessions, v.sessions);
  sat_accumulate(to.value, v.value);
}

std::uint64_t value_of(const StatSpec& spec, const Acc& a) {
  switch (spec.count) {
    case CountKind::Bytes: return a.v.bytes;
    case CountKind::Packets: return a.v.packets;
    case CountKind::Sessions: return a.v.sessions;
    case CountKind::Unique: return a.uniq.empty() ? a.distinct_rows : a.uniq.size();
  }
  return 0;
}

}  // namespace

FieldId key_column(const GroupKey& key) { return side_fields(key)[0]; }

Result<StatResult> execute_stat(const store::Backend& backend, const StatSpec& spec,
                                const ExecOptions& options) {
  auto filter = compile_selection(spec.where, options.filter);
  if (!filter) return filter.error();
  for (const GroupKey& k : spec.group_by) {
    const FieldInfo& info = field_info(k.field);
    if (!in_kind(info, RecordKind::Session) || info.kind == FieldKind::Sum ||
        info.kind == FieldKind::Diff) {
      return Error{ErrorCode::InvalidArgument, fmt::format("cannot group by {}", info.name)};
    }
  }
  const std::vector<Variant> variants = plan_variants(spec);

  StatResult result;
  result.group_by = spec.group_by;
  std::vector<FieldId> key_columns;
  for (const GroupKey& k : spec.group_by) key_columns.push_back(key_column(k));

  std::unordered_map<std::string, std::size_t> index;
  std::vector<Group> groups;
  ValueSet all_unique;
  std::set<std::int64_t> bucket_set;
  QueryProgress progress;
  std::vector<std::string> sources;
  std::string key;

  // Aggregation rows are distinct (group, value) pairs: one row is one distinct value unless
  // two sides, network masks, two counted fields or buckets can repeat a value in a group.
  const bool masked =
      std::any_of(spec.group_by.begin(), spec.group_by.end(),
                  [](const GroupKey& k) { return k.v4_prefix < 32 || k.v6_prefix < 128; });
  const bool need_sets = variants.size() > 1 || masked || spec.bucket_ms > 0 ||
                         (!variants.empty() && variants[0].unique_fields.size() > 1);
  std::vector<store::AggregateRequest> requests;
  for (const Variant& var : variants) {
    store::AggregateRequest req;
    req.scan.begin_ms = spec.where.begin_ms;
    req.scan.end_ms = spec.where.end_ms;
    req.scan.predicates = filter->pushdown();
    req.group_by = var.key_fields;
    req.group_by.insert(req.group_by.end(), var.unique_fields.begin(), var.unique_fields.end());
    dedupe(req.group_by);
    req.sums.assign(std::begin(kSums), std::end(kSums));
    req.bucket_ms = spec.bucket_ms;
    requests.push_back(std::move(req));
  }
  auto aggregated = run_aggregates(backend, requests, *filter, options, progress);
  if (!aggregated) return aggregated.error();
  if (options.cancel.cancelled()) return Error{ErrorCode::Cancelled, "query cancelled"};
  for (std::size_t vi = 0; vi < variants.size(); ++vi) {
    const Variant& var = variants[vi];
    store::AggregateResult* agg = &(*aggregated)[vi];
    sources.push_back(agg->source);
    result.stats.scan.segments += agg->stats.segments;
    result.stats.scan.blocks += agg->stats.blocks;
    result.stats.scan.blocks_skipped += agg->stats.blocks_skipped;
    result.stats.scan.rows_read += agg->stats.rows_read;
    result.stats.scan.rows_returned += agg->stats.rows_returned;
    for (auto& e : agg->stats.errors) result.stats.scan.errors.push_back(std::move(e));

    const SessionBatch& rows = agg->keys;
    index.reserve(index.size() + rows.size());
    groups.reserve(groups.size() + rows.size());
    const std::size_t nsums = std::size(kSums);
    for (std::size_t r = 0; r < rows.size(); ++r) {
      key.clear();
      for (std::size_t k = 0; k < spec.group_by.size(); ++k) {
        append_key(key, rows.column(var.key_fields[k]), r, spec.group_by[k]);
      }
      auto [it, inserted] = index.try_emplace(key, groups.size());
      if (inserted) {
        groups.emplace_back();
        groups.back().variant = static_cast<std::uint32_t>(vi);
        groups.back().row = static_cast<std::uint32_t>(r);
      }
      Group& g = groups[it->second];
      const std::uint64_t* s = &agg->sums[r * nsums];
      const std::uint64_t sent_bytes = var.side == 0 ? s[0] : s[1];
      const std::uint64_t recv_bytes = var.side == 0 ? s[1] : s[0];
      const std::uint64_t sent_pkts = var.side == 0 ? s[2] : s[3];
      const std::uint64_t recv_pkts = var.side == 0 ? s[3] : s[2];
      StatValues v;
      v.sessions = agg->counts[r];
      switch (spec.side) {
        case Side::Both:
          v.bytes = sat_add(s[0], s[1]);
          v.packets = sat_add(s[2], s[3]);
          break;
        case Side::Send:
          v.bytes = sent_bytes;
          v.packets = sent_pkts;
          break;
        case Side::Receive:
          v.bytes = recv_bytes;
          v.packets = recv_pkts;
          break;
      }
      add_values(g.total.v, v);
      Acc* bucket = nullptr;
      if (spec.bucket_ms > 0) {
        const std::int64_t t = rows.get<FieldId::StartTime>(r);
        bucket_set.insert(t);
        bucket = &g.buckets[t];
        add_values(bucket->v, v);
      }
      for (FieldId u : var.unique_fields) {
        const Column& col = rows.column(u);
        if (!col.valid(r)) continue;
        const U128 uk = unique_key(col, r);
        all_unique.insert(uk);
        if (!need_sets) {
          ++g.total.distinct_rows;
          continue;
        }
        g.total.uniq.insert(uk);
        if (bucket != nullptr) bucket->uniq.insert(uk);
      }
    }
  }
  result.stats.source = sources.empty() ? "raw" : sources[0];
  for (std::size_t i = 1; i < sources.size(); ++i) {
    if (sources[i] != sources[0]) result.stats.source += "; " + sources[i];
  }
  result.stats.rows_matched = progress.rows_matched;

  // Rank: by value, then by key bytes for a stable order.
  std::vector<std::string_view> key_of(groups.size());
  for (const auto& [k, i] : index) key_of[i] = k;
  std::vector<std::uint64_t> values(groups.size());
  for (std::size_t i = 0; i < groups.size(); ++i) {
    groups[i].total.v.value = value_of(spec, groups[i].total);
    values[i] = groups[i].total.v.value;
  }
  std::vector<std::uint32_t> order(groups.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<std::uint32_t>(i);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (values[a] != values[b]) return values[a] > values[b];
    return key_of[a] < key_of[b];
  });
  const std::size_t shown =
      spec.top == 0 ? order.size() : std::min<std::size_t>(order.size(), spec.top);

  result.buckets.assign(bucket_set.begin(), bucket_set.end());
  const std::size_t nb = result.buckets.size();
  std::vector<std::uint32_t> top(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown));
  // Key values of the shown groups only: a SessionBatch row costs every column.
  result.keys.reserve(shown);
  for (std::uint32_t gi : top) {
    const Group& g = groups[gi];
    const Variant& var = variants[g.variant];
    const SessionBatch& from = (*aggregated)[g.variant].keys;
    const std::size_t row = result.keys.add_row();
    for (std::size_t k = 0; k < spec.group_by.size(); ++k) {
      copy_key(from.column(var.key_fields[k]), g.row, result.keys.mutable_column(key_columns[k]),
               row, spec.group_by[k]);
    }
  }
  result.series.assign((shown + 1) * nb, 0);
  auto bucket_index = [&](std::int64_t t) {
    return static_cast<std::size_t>(
        std::lower_bound(result.buckets.begin(), result.buckets.end(), t) - result.buckets.begin());
  };
  for (std::size_t i = 0; i < order.size(); ++i) {
    const Group& g = groups[order[i]];
    const bool is_top = i < shown;
    if (is_top) {
      result.rows.push_back(g.total.v);
    } else {
      add_values(result.others, g.total.v);
      ++result.other_groups;
    }
    add_values(result.total, g.total.v);
    for (const auto& [t, acc] : g.buckets) {
      const std::size_t row = is_top ? i : shown;
      sat_accumulate(result.series[row * nb + bucket_index(t)], value_of(spec, acc));
    }
  }
  result.total_groups = groups.size();
  if (spec.count == CountKind::Unique) result.total.value = all_unique.size();
  // Every sum is at most its total, so a clamped sum anywhere shows in the totals.
  result.saturated = result.total.bytes == kSaturated || result.total.packets == kSaturated ||
                     result.total.sessions == kSaturated || result.total.value == kSaturated;
  return result;
}

}  // namespace flowscope::query
