// Scans: partition pruning, zone maps per block, predicate columns decoded first and the other
// projected columns only for blocks with matching rows (late materialisation); blocks shared out
// to worker threads when asked.
#include <algorithm>
#include <atomic>
#include <limits>
#include <memory>
#include <numeric>
#include <thread>
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

// Scans blocks of segments and batches of the tail for one worker: its own decode buffers.
class BlockScanner {
 public:
  BlockScanner(std::span<const ScanPredicate> preds, std::span<const FieldId> projection)
      : preds_(preds),
        projection_(projection),
        scratch_(kDefaultBlockRows),
        out_(kDefaultBlockRows) {}

  enum class Outcome : std::uint8_t { Next, SegmentFailed, Stop };

  // Block `b` of `seg`: zone maps, predicate columns, then the projection for matching rows.
  Outcome scan_block(const Segment& seg, std::size_t b, ScanStats& stats, const ScanSink& sink) {
    const BlockMeta& block = seg.blocks()[b];
    ++stats.blocks;
    for (const ScanPredicate& p : preds_) {
      const int slot = seg.slot_of(p.field);
      if (slot < 0 || !chunk_may_match(block.chunks[static_cast<std::size_t>(slot)], p)) {
        ++stats.blocks_skipped;
        return Outcome::Next;
      }
    }
    // Only the columns the last block decoded need clearing (a full clear() zeroes every
    // column of the batch, which costs more than decoding one).
    scratch_.clear_columns(decoded_ids_);
    decoded_ids_.clear();
    scratch_.add_rows(block.rows);
    std::array<bool, kFieldCount> decoded{};
    auto decode = [&](FieldId id) -> bool {
      if (decoded[static_cast<std::size_t>(id)]) return true;
      decoded[static_cast<std::size_t>(id)] = true;
      decoded_ids_.push_back(id);
      const int slot = seg.slot_of(id);
      if (slot < 0) return true;  // not in this segment: absent
      if (auto r = seg.read_chunk(b, slot, scratch_.mutable_column(id)); !r) {
        stats.errors.push_back(r.error());
        return false;
      }
      return true;
    };
    sel_.resize(block.rows);
    std::iota(sel_.begin(), sel_.end(), 0u);
    for (const ScanPredicate& p : preds_) {
      // A damaged chunk ends this segment's scan; the error names it and the others go on.
      if (!decode(p.field)) return Outcome::SegmentFailed;
      refine(scratch_.column(p.field), p, sel_);
      if (sel_.empty()) break;
    }
    stats.rows_read += block.rows;
    if (sel_.empty()) return Outcome::Next;
    for (FieldId id : projection_) {
      if (!decode(id)) return Outcome::SegmentFailed;
    }
    stats.rows_returned += sel_.size();
    bool more = true;
    if (sel_.size() == block.rows) {
      more = sink(scratch_);
    } else {
      out_.clear();
      append_rows(scratch_, sel_, out_, projection_);
      more = sink(out_);
    }
    return more ? Outcome::Next : Outcome::Stop;
  }

  // One batch of the unsealed tail.
  Outcome scan_tail(const SessionBatch& batch, ScanStats& stats, const ScanSink& sink) {
    sel_.resize(batch.size());
    std::iota(sel_.begin(), sel_.end(), 0u);
    for (const ScanPredicate& p : preds_) refine(batch.column(p.field), p, sel_);
    stats.rows_read += batch.size();
    if (sel_.empty()) return Outcome::Next;
    stats.rows_returned += sel_.size();
    out_.clear();
    append_rows(batch, sel_, out_, projection_);
    return sink(out_) ? Outcome::Next : Outcome::Stop;
  }

 private:
  std::span<const ScanPredicate> preds_;
  std::span<const FieldId> projection_;
  SessionBatch scratch_;
  SessionBatch out_;
  std::vector<std::uint32_t> sel_;
  std::vector<FieldId> decoded_ids_;
};

void add_stats(ScanStats& to, ScanStats&& from) {
  to.segments += from.segments;
  to.blocks += from.blocks;
  to.blocks_skipped += from.blocks_skipped;
  to.rows_read += from.rows_read;
  to.rows_returned += from.rows_returned;
  for (Error& e : from.errors) to.errors.push_back(std::move(e));
}

}  // namespace

Result<ScanStats> scan_snapshot(const Snapshot& snapshot, Level level, std::string_view view,
                                const ScanRequest& request, const ScanSink& sink) {
  return scan_snapshot_parallel(snapshot, {level, view, level == Level::Raw}, request, 1,
                                [&](unsigned, const SessionBatch& b) { return sink(b); });
}

Result<ScanStats> scan_snapshot_parallel(const Snapshot& snapshot, const ScanSource& source,
                                         const ScanRequest& request, unsigned workers,
                                         const WorkerScanSink& sink) {
  auto preds_or = effective_predicates(request);
  if (!preds_or) return preds_or.error();
  const std::vector<ScanPredicate>& preds = *preds_or;
  ScanStats stats;
  for (const BadSegment& bad : snapshot.bad_segments) stats.errors.push_back(bad.error);
  if (request.time_bounded() && preds.empty()) return stats;  // empty window
  const std::span<const FieldId> projection = request.columns.empty()
                                                  ? fields_of(RecordKind::Session, true)
                                                  : std::span<const FieldId>(request.columns);

  // The work: every block of the segments in the window, then every tail batch, in store order
  // (one worker therefore scans in store order); workers take the next unit in turn.
  struct Unit {
    const Segment* segment;  // null: tail batch `index`
    std::uint32_t segment_no;
    std::uint32_t index;
  };
  std::vector<Unit> units;
  std::uint32_t segment_no = 0;
  for (const SegmentEntry& entry : snapshot.segments) {
    if (entry.level != source.level || entry.view != source.view) continue;
    const Segment& seg = *entry.segment;
    // The segment's exact start_time range prunes (partitions clamp outlying times).
    if (request.time_bounded() &&
        (seg.info().max_time < request.begin_ms || seg.info().min_time >= request.end_ms)) {
      stats.blocks_skipped += seg.blocks().size();
      stats.blocks += seg.blocks().size();
      continue;
    }
    ++stats.segments;
    for (std::size_t b = 0; b < seg.blocks().size(); ++b) {
      units.push_back({&seg, segment_no, static_cast<std::uint32_t>(b)});
    }
    ++segment_no;
  }
  if (source.with_tail) {
    for (std::size_t i = 0; i < snapshot.tail.size(); ++i) {
      units.push_back({nullptr, 0, static_cast<std::uint32_t>(i)});
    }
  }
  workers = std::max(1u, std::min<unsigned>(workers, static_cast<unsigned>(units.size() / 4 + 1)));

  std::atomic<std::size_t> next{0};
  std::atomic<bool> stop{false};
  // A damaged chunk ends its segment's scan: later blocks of that segment are passed over.
  std::unique_ptr<std::atomic<bool>[]> failed(new std::atomic<bool>[segment_no + 1]);
  for (std::uint32_t i = 0; i <= segment_no; ++i) failed[i] = false;
  std::vector<ScanStats> worker_stats(workers);
  auto work = [&](unsigned w) {
    BlockScanner scanner(preds, projection);
    ScanStats& st = worker_stats[w];
    const ScanSink one = [&](const SessionBatch& b) { return sink(w, b); };
    while (!stop.load(std::memory_order_relaxed)) {
      const std::size_t i = next.fetch_add(1, std::memory_order_relaxed);
      if (i >= units.size()) break;
      const Unit& u = units[i];
      BlockScanner::Outcome o;
      if (u.segment == nullptr) {
        o = scanner.scan_tail(*snapshot.tail[u.index], st, one);
      } else {
        if (failed[u.segment_no].load(std::memory_order_relaxed)) continue;
        o = scanner.scan_block(*u.segment, u.index, st, one);
        if (o == BlockScanner::Outcome::SegmentFailed) failed[u.segment_no] = true;
      }
      if (o == BlockScanner::Outcome::Stop) stop = true;
    }
  };
  {
    std::vector<std::jthread> threads;
    for (unsigned w = 1; w < workers; ++w) threads.emplace_back(work, w);
    work(0);
  }
  for (ScanStats& st : worker_stats) add_stats(stats, std::move(st));
  return stats;
}

}  // namespace flowscope::store
