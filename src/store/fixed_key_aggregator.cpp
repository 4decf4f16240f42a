#include "store/fixed_key_aggregator.h"

#include <bit>
#include <cstring>
#include <thread>

#include "core/saturating.h"
#include "store/partition.h"

namespace flowscope::store {
namespace {

std::size_t words_of_type(FieldType t) { return t == FieldType::Ip ? 2 : 1; }

bool fixed_width(FieldType t) { return t != FieldType::String; }

std::uint64_t be64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

// Sets `col` at `row` from its words.
void set_from_words(Column& col, std::size_t row, const std::uint64_t* w) {
  std::visit(
      [&](auto& d) {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
        } else if constexpr (std::is_same_v<D, std::vector<IpAddress>>) {
          d[row] = IpAddress::from_u64(w[0], w[1]);
        } else if constexpr (std::is_same_v<D, std::vector<CountryCode>>) {
          d[row].code = {static_cast<char>(w[0] >> 8), static_cast<char>(w[0] & 0xff)};
        } else {
          d[row] = static_cast<typename D::value_type>(w[0]);
        }
      },
      col.data());
  col.mark_valid(row);
}

std::int64_t bucket_of(std::int64_t t, std::int64_t size) {
  // As store::Aggregator: floor to a multiple of `size`.
  return t >= 0 ? t - t % size : t - ((t % size) + size) % size;
}

}  // namespace

std::optional<FixedKeyAggregator> FixedKeyAggregator::create(const AggregateRequest& request,
                                                             BucketRule rule) {
  std::size_t words = 1;  // validity bits
  std::vector<std::size_t> offsets;
  for (FieldId id : request.group_by) {
    if (SessionBatch::column_index(id) < 0 || !fixed_width(field_info(id).type)) {
      return std::nullopt;
    }
    offsets.push_back(words);
    words += words_of_type(field_info(id).type);
  }
  if (request.bucket_ms > 0) ++words;
  if (words > kMaxWords || request.sums.size() > kMaxSums) return std::nullopt;
  for (FieldId id : request.sums) {
    if (SessionBatch::column_index(id) < 0 || field_info(id).type != FieldType::U64) {
      return std::nullopt;
    }
  }
  FixedKeyAggregator a;
  a.request_ = request;
  a.rule_ = rule;
  a.words_ = words;
  a.nsums_ = request.sums.size();
  a.offsets_ = std::move(offsets);
  a.table_ = FlatKeyTable(words);
  return a;
}

std::vector<FieldId> FixedKeyAggregator::scan_columns() const {
  std::vector<FieldId> columns = request_.group_by;
  columns.insert(columns.end(), request_.sums.begin(), request_.sums.end());
  columns.push_back(FieldId::StartTime);
  columns.push_back(FieldId::SessionCount);
  return columns;
}

std::uint32_t FixedKeyAggregator::find_or_insert(const std::uint64_t* key, std::uint64_t hash) {
  bool inserted = false;
  const std::uint32_t g = table_.find_or_insert(key, hash, inserted);
  if (inserted) {
    sums_.resize(sums_.size() + nsums_, 0);
    counts_.push_back(0);
  }
  return g;
}

namespace {

// A group-by column resolved once per batch, so the row loop does no variant dispatch.
struct ColRef {
  enum class Kind : std::uint8_t { Ip, U8, U16, U32, U64, I64, Country } kind;
  const void* data;
  const std::uint64_t* valid;
};

ColRef resolve(const Column& col) {
  ColRef ref{ColRef::Kind::U64, nullptr, col.validity_words().data()};
  std::visit(
      [&](const auto& d) {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, std::vector<IpAddress>>) {
          ref = {ColRef::Kind::Ip, d.data(), ref.valid};
        } else if constexpr (std::is_same_v<D, std::vector<std::uint8_t>>) {
          ref = {ColRef::Kind::U8, d.data(), ref.valid};
        } else if constexpr (std::is_same_v<D, std::vector<std::uint16_t>>) {
          ref = {ColRef::Kind::U16, d.data(), ref.valid};
        } else if constexpr (std::is_same_v<D, std::vector<std::uint32_t>>) {
          ref = {ColRef::Kind::U32, d.data(), ref.valid};
        } else if constexpr (std::is_same_v<D, std::vector<std::uint64_t>>) {
          ref = {ColRef::Kind::U64, d.data(), ref.valid};
        } else if constexpr (std::is_same_v<D, std::vector<std::int64_t>>) {
          ref = {ColRef::Kind::I64, d.data(), ref.valid};
        } else if constexpr (std::is_same_v<D, std::vector<CountryCode>>) {
          ref = {ColRef::Kind::Country, d.data(), ref.valid};
        }
      },
      col.data());
  return ref;
}

// Writes the value words of `ref` at `row`; returns how many (1, or 2 for addresses).
inline std::size_t words_at(const ColRef& ref, std::size_t row, std::uint64_t* out) {
  switch (ref.kind) {
    case ColRef::Kind::Ip: {
      const std::uint8_t* b = static_cast<const IpAddress*>(ref.data)[row].bytes().data();
      out[0] = be64(b);
      out[1] = be64(b + 8);
      return 2;
    }
    case ColRef::Kind::U8: out[0] = static_cast<const std::uint8_t*>(ref.data)[row]; return 1;
    case ColRef::Kind::U16: out[0] = static_cast<const std::uint16_t*>(ref.data)[row]; return 1;
    case ColRef::Kind::U32: out[0] = static_cast<const std::uint32_t*>(ref.data)[row]; return 1;
    case ColRef::Kind::U64: out[0] = static_cast<const std::uint64_t*>(ref.data)[row]; return 1;
    case ColRef::Kind::I64:
      out[0] = static_cast<std::uint64_t>(static_cast<const std::int64_t*>(ref.data)[row]);
      return 1;
    case ColRef::Kind::Country: {
      const CountryCode& c = static_cast<const CountryCode*>(ref.data)[row];
      out[0] = (std::uint64_t{static_cast<std::uint8_t>(c.code[0])} << 8) |
               static_cast<std::uint8_t>(c.code[1]);
      return 1;
    }
  }
  return 1;
}

}  // namespace

template <bool kAll>
void FixedKeyAggregator::add_rows(const SessionBatch& batch, std::span<const std::uint32_t> rows) {
  ColRef cols[kMaxWords];
  const std::size_t ncols = request_.group_by.size();
  for (std::size_t k = 0; k < ncols; ++k) cols[k] = resolve(batch.column(request_.group_by[k]));
  const std::uint64_t* sums[kMaxSums];
  for (std::size_t j = 0; j < nsums_; ++j) {
    sums[j] = batch.column(request_.sums[j]).vec<std::uint64_t>().data();
  }
  const Column& count_col = batch.column(FieldId::SessionCount);
  const std::uint64_t* count_valid = count_col.validity_words().data();
  const std::uint64_t* counts = count_col.vec<std::uint64_t>().data();
  const std::int64_t* starts = batch.column(FieldId::StartTime).vec<std::int64_t>().data();
  const std::size_t nsums = nsums_;
  const std::int64_t bucket_ms = request_.bucket_ms;
  const std::size_t n = kAll ? batch.size() : rows.size();
  std::uint64_t key[kMaxWords];
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t row = kAll ? i : rows[i];
    std::size_t w = 1;
    std::uint64_t valid = 0;
    const std::uint64_t bit = std::uint64_t{1} << (row % 64);
    for (std::size_t k = 0; k < ncols; ++k) {
      // Absent values are zero in the column (record_batch.h), so their words are zero too.
      w += words_at(cols[k], row, &key[w]);
      if (cols[k].valid[row / 64] & bit) valid |= std::uint64_t{1} << k;
    }
    key[0] = valid;
    if (bucket_ms > 0) {
      const std::int64_t t = starts[row];
      key[w++] = static_cast<std::uint64_t>(rule_ == BucketRule::Floor
                                                ? bucket_of(t, bucket_ms)
                                                : floor_to(partition_time(t), bucket_ms));
    }
    const std::uint32_t g = find_or_insert(key, FlatKeyTable::hash_words(key, words_));
    // A rollup row stands for `sessions` sessions; a raw session for one.
    sat_accumulate(counts_[g], (count_valid[row / 64] & bit) ? counts[row] : 1);
    std::uint64_t* to = &sums_[g * nsums];
    for (std::size_t j = 0; j < nsums; ++j) sat_accumulate(to[j], sums[j][row]);
  }
}

void FixedKeyAggregator::add(const SessionBatch& batch, std::span<const std::uint32_t> rows) {
  add_rows<false>(batch, rows);
}

void FixedKeyAggregator::add(const SessionBatch& batch) { add_rows<true>(batch, {}); }

void FixedKeyAggregator::merge(const FixedKeyAggregator& other) {
  for (std::size_t og = 0; og < other.groups(); ++og) {
    const std::uint32_t g = find_or_insert(other.key(og), other.table_.hash(og));
    sat_accumulate(counts_[g], other.counts_[og]);
    for (std::size_t j = 0; j < nsums_; ++j) {
      sat_accumulate(sums_[g * nsums_ + j], other.sums_[og * nsums_ + j]);
    }
  }
}

std::vector<FixedKeyAggregator> FixedKeyAggregator::repartition(
    std::vector<FixedKeyAggregator>&& from, unsigned parts) {
  if (from.size() <= 1 || parts <= 1) {
    for (std::size_t i = 1; i < from.size(); ++i) from[0].merge(from[i]);
    if (from.size() > 1) from.erase(from.begin() + 1, from.end());
    return std::move(from);
  }
  std::vector<FixedKeyAggregator> out;
  for (unsigned p = 0; p < parts; ++p) {
    FixedKeyAggregator a;
    a.request_ = from[0].request_;
    a.rule_ = from[0].rule_;
    a.words_ = from[0].words_;
    a.nsums_ = from[0].nsums_;
    a.offsets_ = from[0].offsets_;
    a.table_ = FlatKeyTable(a.words_);
    out.push_back(std::move(a));
  }
  auto work = [&](unsigned p) {
    FixedKeyAggregator& to = out[p];
    for (const FixedKeyAggregator& f : from) {
      const std::size_t nsums = f.nsums_;
      for (std::size_t og = 0; og < f.groups(); ++og) {
        const std::uint64_t h = f.table_.hash(og);
        if ((h >> 32) % parts != p) continue;
        const std::uint32_t g = to.find_or_insert(f.key(og), h);
        sat_accumulate(to.counts_[g], f.counts_[og]);
        for (std::size_t j = 0; j < nsums; ++j) {
          sat_accumulate(to.sums_[g * nsums + j], f.sums_[og * nsums + j]);
        }
      }
    }
  };
  {
    std::vector<std::jthread> threads;
    for (unsigned p = 1; p < parts; ++p) threads.emplace_back(work, p);
    work(0);
  }
  return out;
}

AggregateResult FixedKeyAggregator::finish(ScanStats stats) && {
  AggregateResult result;
  const std::size_t groups = table_.size();
  result.keys.reserve(groups);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t row = result.keys.add_row();
    const std::uint64_t* key = table_.key(g);
    std::size_t w = 1;
    for (std::size_t k = 0; k < request_.group_by.size(); ++k) {
      const FieldId id = request_.group_by[k];
      if ((key[0] >> k) & 1u) set_from_words(result.keys.mutable_column(id), row, &key[w]);
      w += words_of_type(field_info(id).type);
    }
    if (request_.bucket_ms > 0) {
      result.keys.set<FieldId::StartTime>(row, static_cast<std::int64_t>(key[w]));
    }
  }
  result.sums = std::move(sums_);
  result.counts = std::move(counts_);
  result.stats = std::move(stats);
  result.source = "raw";
  return result;
}

}  // namespace flowscope::store
