#include "query/executor.h"

#include <algorithm>
#include <numeric>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "query/compiled_filter.h"
#include "query/executor_support.h"
#include "store/batch_codec.h"
#include "store/format.h"

namespace flowscope::query {
namespace {

// Rows kept while sorting with a limit: sort and cut back to the limit when the buffer holds
// this many times the limit (and at least kMinSortBuffer rows).
// After each cut the limit-th row's first sort key is a threshold: rows of later batches whose
// first key is worse cannot enter the answer and are not buffered at all.
constexpr std::size_t kSortSlack = 4;
constexpr std::size_t kMinSortBuffer = 16384;

// A sortable form of one value: absent values sort after present ones either way.
struct SortValue {
  bool present = false;
  store::OrderKey key;
  std::string_view text;
};

// The sortable values of one field of one batch: the registry entry and the column are looked
// up once, not once per row (the threshold test runs for every matching row of a scan).
class SortColumn {
 public:
  SortColumn(const SessionBatch& batch, FieldId field)
      : batch_(batch),
        field_(field),
        info_(field_info(field)),
        derived_(info_.kind == FieldKind::Sum || info_.kind == FieldKind::Diff),
        signed_(info_.type == FieldType::Duration || info_.type == FieldType::Time),
        text_(info_.type == FieldType::String),
        col_(derived_ ? nullptr : &batch.column(field)) {}

  SortValue at(std::size_t row) const {
    SortValue v;
    if (derived_) {
      auto d = derived_value(batch_, field_, row);
      if (!d) return v;
      v.present = true;
      v.key = signed_ ? store::order_key(static_cast<std::int64_t>(*d))
                      : store::order_key(static_cast<std::uint64_t>(*d));
      return v;
    }
    if (!col_->valid(row)) return v;
    v.present = true;
    if (text_) {
      v.text = col_->strings().get(row);
    } else {
      v.key = order_key_of(*col_, row);
    }
    return v;
  }

 private:
  const SessionBatch& batch_;
  FieldId field_;
  const FieldInfo& info_;
  bool derived_;
  bool signed_;
  bool text_;
  const Column* col_;
};

// <0 when `x` comes before `y` in the order of `key`, 0 when they tie, >0 after.
int compare_sort_values(const SortValue& x, const SortValue& y, const SortKey& key) {
  if (x.present != y.present) return x.present ? -1 : 1;  // absent last, either direction
  if (!x.present) return 0;
  int c = 0;
  if (x.text.data() != nullptr || y.text.data() != nullptr) {
    c = x.text.compare(y.text);
    c = c < 0 ? -1 : (c > 0 ? 1 : 0);
  } else {
    c = x.key < y.key ? -1 : (y.key < x.key ? 1 : 0);
  }
  return key.descending ? -c : c;
}

// The first sort key of the last row a cut kept, owning its text: a later row whose first key
// comes after it can never be in the answer (ties go on to the next keys, then scan order).
struct SortThreshold {
  SortValue value;
  std::string text;

  void set(const SortValue& v) {
    value = v;
    text.assign(v.text);
    if (v.text.data() != nullptr) value.text = text;
  }
};

// Row order of `batch` by `keys` (stable: ties keep scan order).
std::vector<std::uint32_t> sorted_rows(const SessionBatch& batch, const std::vector<SortKey>& keys,
                                       std::size_t keep) {
  std::vector<std::uint32_t> order(batch.size());
  std::iota(order.begin(), order.end(), 0u);
  std::vector<std::vector<SortValue>> values(keys.size());
  for (std::size_t k = 0; k < keys.size(); ++k) {
    const SortColumn column(batch, keys[k].field);
    values[k].resize(batch.size());
    for (std::size_t r = 0; r < batch.size(); ++r) values[k][r] = column.at(r);
  }
  auto less = [&](std::uint32_t a, std::uint32_t b) {
    for (std::size_t k = 0; k < keys.size(); ++k) {
      const int c = compare_sort_values(values[k][a], values[k][b], keys[k]);
      if (c != 0) return c < 0;
    }
    return a < b;
  };
  if (keep > 0 && keep < order.size()) {
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(keep), order.end(),
                      less);
    order.resize(keep);
  } else {
    std::sort(order.begin(), order.end(), less);
  }
  return order;
}

}  // namespace

Result<QueryStats> execute_query(const store::Backend& backend, const QuerySpec& spec,
                                 const RowSink& sink, const ExecOptions& options) {
  auto tree = selection_filter(spec.where, options.filter);
  if (!tree) return tree.error();
  auto filter = CompiledFilter::compile(*tree);
  if (!filter) return filter.error();
  const std::vector<FieldId> fields = spec.fields.empty() ? default_query_fields() : spec.fields;
  for (FieldId f : fields) {
    if (field_info(f).kind == FieldKind::Either) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("{} is either of {}; output one of them", field_info(f).name,
                               definition(field_info(f)))};
    }
  }
  // The columns the output needs (operands of derived fields), then the filter's and sort's.
  std::vector<FieldId> out_columns;
  auto need = [](std::vector<FieldId>& v, FieldId f) {
    const FieldInfo& info = field_info(f);
    if (info.kind == FieldKind::Stored) {
      v.push_back(f);
    } else {
      v.push_back(info.operands[0]);
      v.push_back(info.operands[1]);
    }
  };
  for (FieldId f : fields) need(out_columns, f);
  for (const SortKey& k : spec.sort) {
    if (field_info(k.field).kind == FieldKind::Either) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("cannot sort by {}: it is either of {}", field_info(k.field).name,
                               definition(field_info(k.field)))};
    }
    need(out_columns, k.field);
  }
  dedupe(out_columns);
  store::ScanRequest scan;
  scan.begin_ms = spec.where.begin_ms;
  scan.end_ms = spec.where.end_ms;
  scan.predicates = filter->pushdown();
  // A backend that can apply the whole filter, the order and the limit gets them
  // (store/backend.h); the rows it returns are tested, sorted and cut here all the same.
  if (!filter->pushdown_is_exact()) scan.filter = std::make_shared<const FilterExpr>(*tree);
  for (const SortKey& k : spec.sort) scan.order.push_back({k.field, k.descending});
  scan.limit = spec.limit;
  scan.columns = out_columns;
  scan.columns.insert(scan.columns.end(), filter->columns().begin(), filter->columns().end());
  dedupe(scan.columns);

  QueryStats stats;
  QueryProgress progress;
  std::vector<std::uint32_t> rows;
  SessionBatch out;
  SessionBatch buffer;                     // sorting: every candidate row
  std::optional<SortThreshold> threshold;  // sorting with a limit, after the first cut
  const bool sorting = !spec.sort.empty();
  const std::size_t limit = spec.limit;
  bool cancelled = false;
  bool stopped = false;

  auto scanned = backend.scan(scan, [&](const SessionBatch& batch) {
    if (options.cancel.cancelled()) {
      cancelled = true;
      return false;
    }
    filter->select_rows(batch, rows);
    progress.rows_scanned += batch.size();
    progress.rows_matched += rows.size();
    ++progress.batches;
    if (options.progress) options.progress(progress);
    if (rows.empty()) return true;
    if (sorting) {
      if (threshold) {
        const SortKey& first = spec.sort.front();
        const SortColumn column(batch, first.field);
        std::erase_if(rows, [&](std::uint32_t r) {
          return compare_sort_values(column.at(r), threshold->value, first) > 0;
        });
        if (rows.empty()) return true;
      }
      store::append_rows(batch, rows, buffer, out_columns);
      if (limit > 0 && buffer.size() >= std::max(kMinSortBuffer, kSortSlack * limit)) {
        auto order = sorted_rows(buffer, spec.sort, limit);
        SessionBatch kept;
        store::append_rows(buffer, order, kept, out_columns);
        buffer = std::move(kept);
        if (!threshold) threshold.emplace();
        threshold->set(SortColumn(buffer, spec.sort.front().field).at(buffer.size() - 1));
      }
      return true;
    }
    if (limit > 0 && stats.rows_returned + rows.size() > limit) {
      rows.resize(limit - stats.rows_returned);
    }
    out.clear();
    store::append_rows(batch, rows, out, out_columns);
    stats.rows_returned += out.size();
    if (!sink(out)) {
      stopped = true;
      return false;
    }
    return limit == 0 || stats.rows_returned < limit;
  });
  if (!scanned) return scanned.error();
  // Cancelled during the last batch too: the caller must not take the result as complete.
  if (cancelled || options.cancel.cancelled()) {
    return Error{ErrorCode::Cancelled, "query cancelled"};
  }
  stats.scan = std::move(*scanned);
  stats.rows_matched = progress.rows_matched;
  stats.source = "raw";
  if (sorting && !stopped && !buffer.empty()) {
    auto order = sorted_rows(buffer, spec.sort, limit);
    SessionBatch sorted;
    store::append_rows(buffer, order, sorted, out_columns);
    stats.rows_returned = sorted.size();
    sink(sorted);
  }
  return stats;
}

}  // namespace flowscope::query
