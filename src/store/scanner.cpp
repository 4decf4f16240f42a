// Scans: partition pruning, zone maps per block, predicate columns decoded first and the other
// projected columns only for blocks with matching rows (late materialisation).
#include <algorithm>
#include <limits>
#include <numeric>
#include <type_traits>

#include <fmt/format.h>

#include "store/batch_codec.h"
#include "store/snapshot.h"

namespace flowscope::store {
namespace {

// Keeps the rows of `sel` whose value in `col` is present and within the predicate's range.
// Integer columns compare native values against the range clamped to their type (no per-row
// OrderKey), over the whole block when nothing was filtered out yet (`sel` is 0..n-1).
void refine(const Column& col, const ScanPredicate& p, std::vector<std::uint32_t>& sel) {
  const auto words = col.validity_words();
  auto valid = [&](std::uint32_t row) { return (words[row >> 6] >> (row & 63)) & 1u; };
  std::visit(
      [&](const auto& data) {
        using D = std::decay_t<decltype(data)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
          return;
        } else {
          using T = typename D::value_type;
          std::size_t kept = 0;
          if constexpr (std::is_unsigned_v<T>) {
            // Unsigned integers have OrderKey {0, v}: clamp the range to T.
            if (p.lo.hi != 0 || p.lo.lo > std::numeric_limits<T>::max()) {
              sel.clear();
              return;
            }
            const T lo = static_cast<T>(p.lo.lo);
            const T hi = (p.hi.hi != 0 || p.hi.lo > std::numeric_limits<T>::max())
                             ? std::numeric_limits<T>::max()
                             : static_cast<T>(p.hi.lo);
            const T* v = data.data();
            const bool dense = !sel.empty() && sel.back() + 1 == sel.size();
            if (dense) {
              const auto n = static_cast<std::uint32_t>(sel.size());
              for (std::uint32_t row = 0; row < n; ++row) {
                sel[kept] = row;
                kept += static_cast<std::size_t>(v[row] >= lo) & (v[row] <= hi) & valid(row);
              }
            } else {
              for (std::uint32_t row : sel) {
                sel[kept] = row;
                kept += static_cast<std::size_t>(v[row] >= lo) & (v[row] <= hi) & valid(row);
              }
            }
          } else {
            for (std::uint32_t row : sel) {
              const OrderKey k = order_key(data[row]);
              const bool match = valid(row) && !(k < p.lo) && !(p.hi < k);
              sel[kept] = row;
              kept += match;
            }
          }
          sel.resize(kept);
        }
      },
      col.data());
}

bool chunk_may_match(const ChunkRef& c, const ScanPredicate& p) {
  if (!c.zone.present || c.zone.max < p.lo || p.hi < c.zone.min) return false;
  // A host lookup (one address) also asks the block's address index.
  if (p.lo == p.hi && !c.bloom.empty() && field_info(p.field).type == FieldType::Ip) {
    return bloom_may_contain(c.bloom, IpAddress::from_u64(p.lo.hi, p.lo.lo));
  }
  return true;
}

Result<std::vector<ScanPredicate>> effective_predicates(const ScanRequest& request) {
  for (const ScanPredicate& p : request.predicates) {
    if (SessionBatch::column_index(p.field) < 0 || !has_order_key(field_info(p.field).type)) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("cannot push down a range on {}: not a stored ordered field",
                               field_info(p.field).name)};
    }
  }
  for (FieldId id : request.columns) {
    if (SessionBatch::column_index(id) < 0) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("cannot project {}: not a stored field", field_info(id).name)};
    }
  }
  std::vector<ScanPredicate> preds = request.predicates;
  if (request.time_bounded()) {
    if (request.end_ms <= request.begin_ms) return std::vector<ScanPredicate>{};
    preds.insert(preds.begin(),
                 ScanPredicate::between<FieldId::StartTime>(request.begin_ms, request.end_ms - 1));
  }
  return preds;
}

}  // namespace

Result<ScanStats> scan_snapshot(const Snapshot& snapshot, Level level, std::string_view view,
                                const ScanRequest& request, const ScanSink& sink) {
  auto preds_or = effective_predicates(request);
  if (!preds_or) return preds_or.error();
  const std::vector<ScanPredicate>& preds = *preds_or;
  ScanStats stats;
  for (const BadSegment& bad : snapshot.bad_segments) stats.errors.push_back(bad.error);
  if (request.time_bounded() && preds.empty()) return stats;  // empty window
  const std::span<const FieldId> projection = request.columns.empty()
                                                  ? fields_of(RecordKind::Session, true)
                                                  : std::span<const FieldId>(request.columns);

  SessionBatch scratch(kDefaultBlockRows);
  SessionBatch out(kDefaultBlockRows);
  std::vector<std::uint32_t> sel;
  std::vector<FieldId> decoded_ids;
  bool stop = false;

  for (const SegmentEntry& entry : snapshot.segments) {
    if (stop) break;
    if (entry.level != level || entry.view != view) continue;
    const Segment& seg = *entry.segment;
    // The segment's exact start_time range prunes (partitions clamp outlying times).
    if (request.time_bounded() &&
        (seg.info().max_time < request.begin_ms || seg.info().min_time >= request.end_ms)) {
      stats.blocks_skipped += seg.blocks().size();
      stats.blocks += seg.blocks().size();
      continue;
    }
    ++stats.segments;
    for (std::size_t b = 0; b < seg.blocks().size() && !stop; ++b) {
      const BlockMeta& block = seg.blocks()[b];
      ++stats.blocks;
      bool may_match = true;
      for (const ScanPredicate& p : preds) {
        const int slot = seg.slot_of(p.field);
        if (slot < 0 || !chunk_may_match(block.chunks[static_cast<std::size_t>(slot)], p)) {
          may_match = false;
          break;
        }
      }
      if (!may_match) {
        ++stats.blocks_skipped;
        continue;
      }
      // Only the columns the last block decoded need clearing (a full clear() zeroes every
      // column of the batch, which costs more than decoding one).
      scratch.clear_columns(decoded_ids);
      decoded_ids.clear();
      scratch.add_rows(block.rows);
      std::array<bool, kFieldCount> decoded{};
      auto decode = [&](FieldId id) -> bool {
        if (decoded[static_cast<std::size_t>(id)]) return true;
        decoded[static_cast<std::size_t>(id)] = true;
        decoded_ids.push_back(id);
        const int slot = seg.slot_of(id);
        if (slot < 0) return true;  // not in this segment: absent
        if (auto r = seg.read_chunk(b, slot, scratch.mutable_column(id)); !r) {
          stats.errors.push_back(r.error());
          return false;
        }
        return true;
      };
      sel.resize(block.rows);
      std::iota(sel.begin(), sel.end(), 0u);
      bool failed = false;
      for (const ScanPredicate& p : preds) {
        if (!decode(p.field)) {
          failed = true;
          break;
        }
        refine(scratch.column(p.field), p, sel);
        if (sel.empty()) break;
      }
      // A damaged chunk ends this segment's scan; the error names it and the others go on.
      if (failed) break;
      stats.rows_read += block.rows;
      if (sel.empty()) continue;
      for (FieldId id : projection) {
        if (!decode(id)) {
          failed = true;
          break;
        }
      }
      if (failed) break;
      stats.rows_returned += sel.size();
      if (sel.size() == block.rows) {
        stop = !sink(scratch);
      } else {
        out.clear();
        append_rows(scratch, sel, out, projection);
        stop = !sink(out);
      }
    }
  }

  if (level != Level::Raw) return stats;
  for (const auto& batch : snapshot.tail) {
    if (stop) break;
    sel.resize(batch->size());
    std::iota(sel.begin(), sel.end(), 0u);
    for (const ScanPredicate& p : preds) refine(batch->column(p.field), p, sel);
    stats.rows_read += batch->size();
    if (sel.empty()) continue;
    stats.rows_returned += sel.size();
    out.clear();
    append_rows(*batch, sel, out, projection);
    stop = !sink(out);
  }
  return stats;
}

}  // namespace flowscope::store
