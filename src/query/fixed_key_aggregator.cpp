#include "query/fixed_key_aggregator.h"

#include <bit>
#include <cstring>

#include "core/saturating.h"

namespace flowscope::query {
namespace {

std::size_t key_words(FieldType t) { return t == FieldType::Ip ? 2 : 1; }

bool fixed_width(FieldType t) { return t != FieldType::String; }

std::uint64_t mix(std::uint64_t h, std::uint64_t v) {
  h ^= v + 0x9E3779B97F4A7C15ULL + (h << 6) + (h >> 2);
  h *= 0xBF58476D1CE4E5B9ULL;
  return h ^ (h >> 31);
}

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

// A slot holds the group + 1 in its low 32 bits and the high half of the key's hash above, so
// that most mismatches are told apart without touching the keys.
void FixedKeyAggregator::grow() {
  std::vector<std::uint64_t> slots(slots_.size() * 2, 0);
  const std::size_t mask = slots.size() - 1;
  for (std::size_t g = 0; g < hashes_.size(); ++g) {
    std::size_t i = hashes_[g] & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = (hashes_[g] & 0xFFFFFFFF00000000ULL) | (g + 1);
  }
  slots_ = std::move(slots);
}

std::uint32_t FixedKeyAggregator::find_or_insert(const std::uint64_t* key, std::uint64_t hash) {
  const std::size_t mask = slots_.size() - 1;
  const std::uint64_t tag = hash & 0xFFFFFFFF00000000ULL;
  std::size_t i = hash & mask;
  while (slots_[i] != 0) {
    if ((slots_[i] & 0xFFFFFFFF00000000ULL) == tag) {
      const auto g = static_cast<std::uint32_t>((slots_[i] & 0xFFFFFFFFu) - 1);
      const std::uint64_t* k = &keys_[g * words_];
      bool same = true;
      for (std::size_t j = 0; j < words_; ++j) same &= k[j] == key[j];
      if (same) return g;
    }
    i = (i + 1) & mask;
  }
  const auto g = static_cast<std::uint32_t>(hashes_.size());
  keys_.insert(keys_.end(), key, key + words_);
  hashes_.push_back(hash);
  sums_.resize(sums_.size() + request_.sums.size(), 0);
  counts_.push_back(0);
  slots_[i] = tag | (std::uint64_t{g} + 1);
  if (hashes_.size() * 2 > slots_.size()) grow();
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

void FixedKeyAggregator::add(const SessionBatch& batch, std::span<const std::uint32_t> rows) {
  std::vector<ColRef> cols;
  for (FieldId id : request_.group_by) cols.push_back(resolve(batch.column(id)));
  std::vector<const std::uint64_t*> sums;
  for (FieldId id : request_.sums) sums.push_back(batch.column(id).vec<std::uint64_t>().data());
  const Column& count_col = batch.column(FieldId::SessionCount);
  const std::uint64_t* count_valid = count_col.validity_words().data();
  const std::uint64_t* counts = count_col.vec<std::uint64_t>().data();
  const std::int64_t* starts = batch.column(FieldId::StartTime).vec<std::int64_t>().data();
  const std::size_t nsums = sums.size();
  std::uint64_t key[kMaxWords];
  for (std::uint32_t row : rows) {
    std::size_t w = 1;
    std::uint64_t valid = 0;
    const std::uint64_t bit = std::uint64_t{1} << (row % 64);
    for (std::size_t k = 0; k < cols.size(); ++k) {
      // Absent values are zero in the column (record_batch.h), so their words are zero too.
      w += words_at(cols[k], row, &key[w]);
      if (cols[k].valid[row / 64] & bit) valid |= std::uint64_t{1} << k;
    }
    key[0] = valid;
    if (request_.bucket_ms > 0) {
      key[w++] = static_cast<std::uint64_t>(bucket_of(starts[row], request_.bucket_ms));
    }
    std::uint64_t h = 0x51ED2701;
    for (std::size_t j = 0; j < words_; ++j) h = mix(h, key[j]);
    const std::uint32_t g = find_or_insert(key, h);
    sat_accumulate(counts_[g], (count_valid[row / 64] & bit) ? counts[row] : 1);
    for (std::size_t j = 0; j < nsums; ++j) sat_accumulate(sums_[g * nsums + j], sums[j][row]);
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
