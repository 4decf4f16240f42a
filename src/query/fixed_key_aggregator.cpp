#include "query/fixed_key_aggregator.h"

#include <bit>
#include <cstring>

namespace flowscope::query {
namespace {

std::size_t key_words(FieldType t) { return t == FieldType::Ip ? 2 : 1; }

bool fixed_width(FieldType t) { return t != FieldType::String; }

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  return h * 0xBF58476D1CE4E5B9ULL;
}

std::uint64_t be64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

// The words of one column's value at `row` (REQUIRES: fixed width).
void value_words(const Column& col, std::size_t row, std::uint64_t* out) {
  std::visit(
      [&](const auto& d) {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
          out[0] = 0;
        } else if constexpr (std::is_same_v<D, std::vector<IpAddress>>) {
          const std::uint8_t* b = d[row].bytes().data();
          out[0] = be64(b);
          out[1] = be64(b + 8);
        } else if constexpr (std::is_same_v<D, std::vector<CountryCode>>) {
          out[0] = (std::uint64_t{static_cast<std::uint8_t>(d[row].code[0])} << 8) |
                   static_cast<std::uint8_t>(d[row].code[1]);
        } else {
          out[0] = static_cast<std::uint64_t>(d[row]);
        }
      },
      col.data());
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

std::optional<FixedKeyAggregator> FixedKeyAggregator::create(
    const store::AggregateRequest& request) {
  std::size_t words = 1;  // validity bits
  for (FieldId id : request.group_by) {
    if (SessionBatch::column_index(id) < 0 || !fixed_width(field_info(id).type)) {
      return std::nullopt;
    }
    words += key_words(field_info(id).type);
  }
  if (request.bucket_ms > 0) ++words;
  if (words > kMaxWords || request.group_by.size() > 63) return std::nullopt;
  for (FieldId id : request.sums) {
    if (SessionBatch::column_index(id) < 0 || field_info(id).type != FieldType::U64) {
      return std::nullopt;
    }
  }
  FixedKeyAggregator a;
  a.request_ = request;
  a.words_ = words;
  a.slots_.assign(1024, 0);
  return a;
}

std::vector<FieldId> FixedKeyAggregator::scan_columns() const {
  std::vector<FieldId> columns = request_.group_by;
  columns.insert(columns.end(), request_.sums.begin(), request_.sums.end());
  columns.push_back(FieldId::StartTime);
  columns.push_back(FieldId::SessionCount);
  return columns;
}

void FixedKeyAggregator::grow() {
  std::vector<std::uint32_t> slots(slots_.size() * 2, 0);
  const std::size_t mask = slots.size() - 1;
  for (std::size_t g = 0; g < hashes_.size(); ++g) {
    std::size_t i = hashes_[g] & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = static_cast<std::uint32_t>(g + 1);
  }
  slots_ = std::move(slots);
}

std::uint32_t FixedKeyAggregator::find_or_insert(const std::uint64_t* key, std::uint64_t hash) {
  std::size_t mask = slots_.size() - 1;
  std::size_t i = hash & mask;
  while (slots_[i] != 0) {
    const std::uint32_t g = slots_[i] - 1;
    if (hashes_[g] == hash && std::memcmp(&keys_[g * words_], key, words_ * 8) == 0) return g;
    i = (i + 1) & mask;
  }
  const auto g = static_cast<std::uint32_t>(hashes_.size());
  keys_.insert(keys_.end(), key, key + words_);
  hashes_.push_back(hash);
  sums_.resize(sums_.size() + request_.sums.size(), 0);
  counts_.push_back(0);
  slots_[i] = g + 1;
  if (hashes_.size() * 2 > slots_.size()) grow();
  return g;
}

void FixedKeyAggregator::add(const SessionBatch& batch, std::span<const std::uint32_t> rows) {
  std::vector<const Column*> cols;
  for (FieldId id : request_.group_by) cols.push_back(&batch.column(id));
  std::vector<const std::uint64_t*> sums;
  for (FieldId id : request_.sums) sums.push_back(batch.column(id).vec<std::uint64_t>().data());
  const Column& count_col = batch.column(FieldId::SessionCount);
  const std::uint64_t* counts = count_col.vec<std::uint64_t>().data();
  const std::int64_t* starts = batch.column(FieldId::StartTime).vec<std::int64_t>().data();
  const std::size_t nsums = sums.size();
  std::uint64_t key[kMaxWords];
  for (std::uint32_t row : rows) {
    std::size_t w = 1;
    std::uint64_t valid = 0;
    for (std::size_t k = 0; k < cols.size(); ++k) {
      const Column& col = *cols[k];
      const std::size_t n = key_words(col.info().type);
      if (col.valid(row)) {
        valid |= std::uint64_t{1} << k;
        value_words(col, row, &key[w]);
      } else {
        for (std::size_t j = 0; j < n; ++j) key[w + j] = 0;
      }
      w += n;
    }
    key[0] = valid;
    if (request_.bucket_ms > 0) {
      key[w++] = static_cast<std::uint64_t>(bucket_of(starts[row], request_.bucket_ms));
    }
    std::uint64_t h = 0x51ED2701;
    for (std::size_t j = 0; j < words_; ++j) h = mix(h, key[j]);
    const std::uint32_t g = find_or_insert(key, h);
    counts_[g] += count_col.valid(row) ? counts[row] : 1;
    for (std::size_t j = 0; j < nsums; ++j) sums_[g * nsums + j] += sums[j][row];
  }
}

store::AggregateResult FixedKeyAggregator::finish(store::ScanStats stats) && {
  store::AggregateResult result;
  const std::size_t groups = hashes_.size();
  result.keys.reserve(groups);
  for (std::size_t g = 0; g < groups; ++g) {
    const std::size_t row = result.keys.add_row();
    const std::uint64_t* key = &keys_[g * words_];
    std::size_t w = 1;
    for (std::size_t k = 0; k < request_.group_by.size(); ++k) {
      const FieldId id = request_.group_by[k];
      if ((key[0] >> k) & 1u) set_from_words(result.keys.mutable_column(id), row, &key[w]);
      w += key_words(field_info(id).type);
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

}  // namespace flowscope::query
