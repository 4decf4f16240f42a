#include "query/stat_merge.h"

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "core/cidr.h"
#include "core/saturating.h"
#include "query/executor_support.h"
#include "store/flat_key_table.h"
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

constexpr std::size_t kSums = std::size(store::kRollupSums);
constexpr std::size_t kMaxKeyWords = 64;

// How a group item is packed into the merge key: an address as two words (high64, low64,
// masked to the item's prefixes), text as an interned id, anything else as the low word of its
// order key (format.h: int64 values with the sign bit flipped).
enum class ItemKind : std::uint8_t { Ip, String, Signed, Other };

ItemKind kind_of(FieldType t) {
  switch (t) {
    case FieldType::Ip: return ItemKind::Ip;
    case FieldType::String: return ItemKind::String;
    case FieldType::Time:
    case FieldType::Duration: return ItemKind::Signed;
    default: return ItemKind::Other;
  }
}

struct Item {
  ItemKind kind;
  std::size_t word;  // first word in the merge key
  const GroupKey* key;
};

// Text values of one item; ids are stable, views into the deque stay valid.
class Interner {
 public:
  std::uint64_t id(std::string_view s) {
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
    strings_.emplace_back(s);
    const std::uint64_t id = strings_.size() - 1;
    ids_.emplace(strings_.back(), id);
    return id;
  }
  std::string_view get(std::uint64_t id) const { return strings_[id]; }

 private:
  std::deque<std::string> strings_;
  std::unordered_map<std::string_view, std::uint64_t> ids_;
};

IpAddress masked(const IpAddress& a, const GroupKey& k) {
  if (a.is_v4()) return k.v4_prefix >= 32 ? a : mask_address(a, 96u + k.v4_prefix);
  return k.v6_prefix >= 128 ? a : mask_address(a, k.v6_prefix);
}

bool has_mask(const GroupKey& k) { return k.v4_prefix < 32 || k.v6_prefix < 128; }

struct Acc {
  StatValues v;
  ValueSet uniq;
};

void add_values(StatValues& to, const StatValues& v) {
  sat_accumulate(to.bytes, v.bytes);
  sat_accumulate(to.packets, v.packets);
  sat_accumulate(to.sessions, v.sessions);
  sat_accumulate(to.value, v.value);
}

StatValues values_of(const StatSpec& spec, int side, const std::uint64_t* s, std::uint64_t n) {
  StatValues v;
  v.sessions = n;
  switch (spec.side) {
    case Side::Both:
      v.bytes = sat_add(s[0], s[1]);
      v.packets = sat_add(s[2], s[3]);
      break;
    case Side::Send:
      v.bytes = side == 0 ? s[0] : s[1];
      v.packets = side == 0 ? s[2] : s[3];
      break;
    case Side::Receive:
      v.bytes = side == 0 ? s[1] : s[0];
      v.packets = side == 0 ? s[3] : s[2];
      break;
  }
  return v;
}

class Merger {
 public:
  Merger(const StatSpec& spec, bool need_sets, bool direct)
      : spec_(spec), need_sets_(need_sets), direct_(direct), interners_(spec.group_by.size()) {
    std::size_t w = 1;
    for (const GroupKey& k : spec.group_by) {
      const ItemKind kind = kind_of(field_info(key_column(k)).type);
      items_.push_back({kind, w, &k});
      w += kind == ItemKind::Ip ? 2 : 1;
    }
    words_ = w;
    table_ = store::FlatKeyTable(words_);
  }
  std::size_t words() const { return words_; }
  const std::vector<Item>& items() const { return items_; }
  Interner& interner(std::size_t k) { return interners_[k]; }

  // One aggregation row: its merge key, values, bucket and distinct values (valid ones only).
  void add(const std::uint64_t* key, const StatValues& v, std::int64_t bucket,
           std::span<const U128> uniques) {
    bool inserted = true;
    const std::uint32_t g =
        direct_
            ? table_.append_distinct(key)
            : table_.find_or_insert(key, store::FlatKeyTable::hash_words(key, words_), inserted);
    if (inserted) {
      totals_.emplace_back();
      if (spec_.count == CountKind::Unique) {
        if (need_sets_) {
          uniq_.emplace_back();
        } else {
          distinct_rows_.push_back(0);
        }
      }
      if (spec_.bucket_ms > 0) buckets_.emplace_back();
    }
    add_values(totals_[g], v);
    Acc* b = nullptr;
    if (spec_.bucket_ms > 0) {
      bucket_set_.insert(bucket);
      b = &buckets_[g][bucket];
      add_values(b->v, v);
    }
    for (const U128& u : uniques) {
      all_unique_.insert(u);
      if (!need_sets_) {
        ++distinct_rows_[g];
        continue;
      }
      uniq_[g].insert(u);
      if (b != nullptr) b->uniq.insert(u);
    }
  }

  void reserve(std::size_t rows) {
    table_.reserve(rows);
    totals_.reserve(rows);
  }

  void finish(StatResult& result);

 private:
  std::uint64_t value_of(std::size_t g) const {
    switch (spec_.count) {
      case CountKind::Bytes: return totals_[g].bytes;
      case CountKind::Packets: return totals_[g].packets;
      case CountKind::Sessions: return totals_[g].sessions;
      case CountKind::Unique: return need_sets_ ? uniq_[g].size() : distinct_rows_[g];
    }
    return 0;
  }
  std::uint64_t value_of(const Acc& a) const {
    switch (spec_.count) {
      case CountKind::Bytes: return a.v.bytes;
      case CountKind::Packets: return a.v.packets;
      case CountKind::Sessions: return a.v.sessions;
      case CountKind::Unique: return a.uniq.size();
    }
    return 0;
  }
  // The order of the key bytes of the former string keys: per item absent < present, then an
  // address's bytes, a text's little-endian length and bytes, an order key's little-endian
  // bytes.
  bool key_less(std::size_t a, std::size_t b) const;
  void write_key(std::size_t g, SessionBatch& keys, std::size_t row) const;

  const StatSpec& spec_;
  bool need_sets_;
  bool direct_;
  std::vector<Item> items_;
  std::vector<Interner> interners_;
  std::size_t words_ = 1;
  store::FlatKeyTable table_;
  std::vector<StatValues> totals_;
  std::vector<ValueSet> uniq_;
  std::vector<std::uint64_t> distinct_rows_;
  std::vector<std::map<std::int64_t, Acc>> buckets_;
  std::set<std::int64_t> bucket_set_;
  ValueSet all_unique_;
};

bool Merger::key_less(std::size_t a, std::size_t b) const {
  const std::uint64_t* ka = table_.key(a);
  const std::uint64_t* kb = table_.key(b);
  for (std::size_t k = 0; k < items_.size(); ++k) {
    const bool va = (ka[0] >> k) & 1u;
    const bool vb = (kb[0] >> k) & 1u;
    if (va != vb) return va < vb;
    if (!va) continue;
    const std::size_t w = items_[k].word;
    switch (items_[k].kind) {
      case ItemKind::Ip:
        if (ka[w] != kb[w]) return ka[w] < kb[w];
        if (ka[w + 1] != kb[w + 1]) return ka[w + 1] < kb[w + 1];
        break;
      case ItemKind::String: {
        const std::string_view sa = interners_[k].get(ka[w]);
        const std::string_view sb = interners_[k].get(kb[w]);
        if (sa.size() != sb.size()) {
          return __builtin_bswap32(static_cast<std::uint32_t>(sa.size())) <
                 __builtin_bswap32(static_cast<std::uint32_t>(sb.size()));
        }
        if (const int c = sa.compare(sb); c != 0) return c < 0;
        break;
      }
      case ItemKind::Signed:
      case ItemKind::Other:
        if (ka[w] != kb[w]) return __builtin_bswap64(ka[w]) < __builtin_bswap64(kb[w]);
        break;
    }
  }
  return false;
}

void Merger::write_key(std::size_t g, SessionBatch& keys, std::size_t row) const {
  const std::uint64_t* key = table_.key(g);
  for (std::size_t k = 0; k < items_.size(); ++k) {
    if (((key[0] >> k) & 1u) == 0) continue;
    const std::uint64_t* w = &key[items_[k].word];
    Column& col = keys.mutable_column(key_column(*items_[k].key));
    const std::uint64_t word = items_[k].kind == ItemKind::Signed ? w[0] ^ store::kSignFlip : w[0];
    std::visit(
        [&](auto& d) {
          using D = std::decay_t<decltype(d)>;
          if constexpr (std::is_same_v<D, StringColumn>) {
            d.set(row, interners_[k].get(w[0]));
          } else if constexpr (std::is_same_v<D, std::vector<IpAddress>>) {
            d[row] = IpAddress::from_u64(w[0], w[1]);
          } else if constexpr (std::is_same_v<D, std::vector<CountryCode>>) {
            d[row].code = {static_cast<char>(word >> 8), static_cast<char>(word & 0xff)};
          } else {
            d[row] = static_cast<typename D::value_type>(word);
          }
        },
        col.data());
    col.mark_valid(row);
  }
}

void Merger::finish(StatResult& result) {
  const std::size_t n = totals_.size();
  std::vector<std::uint64_t> values(n);
  for (std::size_t g = 0; g < n; ++g) {
    totals_[g].value = value_of(g);
    values[g] = totals_[g].value;
  }
  std::vector<std::uint32_t> order(n);
  for (std::size_t i = 0; i < n; ++i) order[i] = static_cast<std::uint32_t>(i);
  auto ranks_before = [&](std::uint32_t a, std::uint32_t b) {
    if (values[a] != values[b]) return values[a] > values[b];
    return key_less(a, b);
  };
  const std::size_t shown = spec_.top == 0 ? n : std::min<std::size_t>(n, spec_.top);
  // Top-N selection: only the shown groups are sorted.
  if (shown < n) {
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), order.end(),
                     ranks_before);
  }
  std::sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(shown), ranks_before);

  result.buckets.assign(bucket_set_.begin(), bucket_set_.end());
  const std::size_t nb = result.buckets.size();
  result.keys.reserve(shown);
  for (std::size_t i = 0; i < shown; ++i) write_key(order[i], result.keys, result.keys.add_row());
  result.series.assign((shown + 1) * nb, 0);
  auto bucket_index = [&](std::int64_t t) {
    return static_cast<std::size_t>(
        std::lower_bound(result.buckets.begin(), result.buckets.end(), t) - result.buckets.begin());
  };
  result.rows.reserve(shown);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint32_t g = order[i];
    const bool is_top = i < shown;
    if (is_top) {
      result.rows.push_back(totals_[g]);
    } else {
      add_values(result.others, totals_[g]);
      ++result.other_groups;
    }
    add_values(result.total, totals_[g]);
    if (spec_.bucket_ms > 0) {
      for (const auto& [t, acc] : buckets_[g]) {
        const std::size_t row = is_top ? i : shown;
        sat_accumulate(result.series[row * nb + bucket_index(t)], value_of(acc));
      }
    }
  }
  result.total_groups = n;
  if (spec_.count == CountKind::Unique) result.total.value = all_unique_.size();
}

// Rows of a fixed-key aggregator: where each item's and distinct field's words are.
struct FixedLayout {
  std::vector<std::size_t> item_field;  // index in request().group_by, per item
  std::vector<std::size_t> unique_field;
};

std::size_t field_index(const store::AggregateRequest& r, FieldId id) {
  return static_cast<std::size_t>(std::find(r.group_by.begin(), r.group_by.end(), id) -
                                  r.group_by.begin());
}

void add_fixed(Merger& m, const StatSpec& spec, const StatVariant& var,
               const store::FixedKeyAggregator& agg) {
  const store::AggregateRequest& req = agg.request();
  std::vector<std::size_t> item_field;
  for (FieldId id : var.key_fields) item_field.push_back(field_index(req, id));
  std::vector<std::size_t> unique_field;
  for (FieldId id : var.unique_fields) unique_field.push_back(field_index(req, id));
  const auto& items = m.items();
  std::uint64_t key[kMaxKeyWords];
  U128 uniques[2];
  for (std::size_t g = 0; g < agg.groups(); ++g) {
    const std::uint64_t* src = agg.key(g);
    std::fill(key, key + m.words(), 0);
    for (std::size_t k = 0; k < items.size(); ++k) {
      const std::size_t fi = item_field[k];
      if (((src[0] >> fi) & 1u) == 0) continue;
      key[0] |= std::uint64_t{1} << k;
      const std::uint64_t* v = src + agg.word_offset(fi);
      const std::size_t w = items[k].word;
      switch (items[k].kind) {
        case ItemKind::Ip:
          if (has_mask(*items[k].key)) {
            const IpAddress a = masked(IpAddress::from_u64(v[0], v[1]), *items[k].key);
            key[w] = a.high64();
            key[w + 1] = a.low64();
          } else {
            key[w] = v[0];
            key[w + 1] = v[1];
          }
          break;
        case ItemKind::Signed: key[w] = v[0] ^ store::kSignFlip; break;
        default: key[w] = v[0]; break;
      }
    }
    std::size_t nu = 0;
    for (std::size_t j = 0; j < unique_field.size(); ++j) {
      const std::size_t fi = unique_field[j];
      if (((src[0] >> fi) & 1u) == 0) continue;
      const std::uint64_t* v = src + agg.word_offset(fi);
      const FieldType t = field_info(req.group_by[fi]).type;
      uniques[nu++] = t == FieldType::Ip               ? U128{v[0], v[1]}
                      : kind_of(t) == ItemKind::Signed ? U128{0, v[0] ^ store::kSignFlip}
                                                       : U128{0, v[0]};
    }
    const std::int64_t bucket = spec.bucket_ms > 0 ? agg.bucket(g) : 0;
    m.add(key, values_of(spec, var.side, agg.sums(g), agg.count(g)), bucket,
          std::span<const U128>(uniques, nu));
  }
}

U128 unique_key(const Column& col, std::size_t row) {
  if (col.info().type == FieldType::String) {
    const std::string_view s = col.strings().get(row);
    return {std::hash<std::string_view>()(s), s.size()};
  }
  const store::OrderKey k = order_key_of(col, row);
  return {k.hi, k.lo};
}

void add_general(Merger& m, const StatSpec& spec, const StatVariant& var,
                 const store::AggregateResult& agg) {
  const SessionBatch& rows = agg.keys;
  const auto& items = m.items();
  std::uint64_t key[kMaxKeyWords];
  U128 uniques[2];
  for (std::size_t r = 0; r < rows.size(); ++r) {
    std::fill(key, key + m.words(), 0);
    for (std::size_t k = 0; k < items.size(); ++k) {
      const Column& col = rows.column(var.key_fields[k]);
      if (!col.valid(r)) continue;
      key[0] |= std::uint64_t{1} << k;
      const std::size_t w = items[k].word;
      switch (items[k].kind) {
        case ItemKind::Ip: {
          const IpAddress a = masked(col.vec<IpAddress>()[r], *items[k].key);
          key[w] = a.high64();
          key[w + 1] = a.low64();
          break;
        }
        case ItemKind::String: key[w] = m.interner(k).id(col.strings().get(r)); break;
        default: key[w] = order_key_of(col, r).lo; break;
      }
    }
    std::size_t nu = 0;
    for (FieldId u : var.unique_fields) {
      const Column& col = rows.column(u);
      if (col.valid(r)) uniques[nu++] = unique_key(col, r);
    }
    const std::int64_t bucket = spec.bucket_ms > 0 ? rows.get<FieldId::StartTime>(r) : 0;
    m.add(key, values_of(spec, var.side, &agg.sums[r * kSums], agg.counts[r]), bucket,
          std::span<const U128>(uniques, nu));
  }
}

}  // namespace

std::vector<std::size_t> rank_sums(const StatSpec& spec, const StatVariant& variant) {
  // kRollupSums: client bytes, server bytes, client packets, server packets (values_of).
  const std::size_t sent = spec.side == Side::Receive ? 1 - static_cast<std::size_t>(variant.side)
                                                      : static_cast<std::size_t>(variant.side);
  switch (spec.count) {
    case CountKind::Bytes:
      return spec.side == Side::Both ? std::vector<std::size_t>{0, 1}
                                     : std::vector<std::size_t>{sent};
    case CountKind::Packets:
      return spec.side == Side::Both ? std::vector<std::size_t>{2, 3}
                                     : std::vector<std::size_t>{2 + sent};
    case CountKind::Sessions:
    case CountKind::Unique: return {};
  }
  return {};
}

bool apply_top_totals(const StatSpec& spec, const StatVariant& variant, const store::TopGroups& top,
                      StatResult& result) {
  if (top.total_sums.size() != kSums) return false;
  StatValues total = values_of(spec, variant.side, top.total_sums.data(), top.total_count);
  switch (spec.count) {
    case CountKind::Bytes: total.value = total.bytes; break;
    case CountKind::Packets: total.value = total.packets; break;
    case CountKind::Sessions: total.value = total.sessions; break;
    case CountKind::Unique: return false;
  }
  if (total.bytes == kSaturated || total.packets == kSaturated || total.sessions == kSaturated) {
    return false;
  }
  // No total clamped, so no group's value did: the rest is the total less the first groups.
  StatValues others = total;
  for (const StatValues& row : result.rows) {
    if (row.value > others.value || row.bytes > others.bytes || row.packets > others.packets ||
        row.sessions > others.sessions) {
      return false;  // totals that do not cover the groups: rank every group instead
    }
    others.value -= row.value;
    others.bytes -= row.bytes;
    others.packets -= row.packets;
    others.sessions -= row.sessions;
  }
  if (top.total_groups < result.rows.size()) return false;
  result.total = total;
  result.others = others;
  result.total_groups = top.total_groups;
  result.other_groups = top.total_groups - result.rows.size();
  result.saturated = false;
  return true;
}

void merge_stat(const StatSpec& spec, std::span<const VariantRows> inputs, StatResult& result) {
  // Aggregation rows are distinct (group, value) pairs: one row is one distinct value unless
  // two sides, network masks, two counted fields or buckets can repeat a value in a group.
  const bool masked_items = std::any_of(spec.group_by.begin(), spec.group_by.end(), has_mask);
  const bool need_sets = inputs.size() > 1 || masked_items || spec.bucket_ms > 0 ||
                         (!inputs.empty() && inputs[0].variant->unique_fields.size() > 1);
  // The rows are the groups: one variant grouped by exactly the group items.
  const bool direct =
      inputs.size() == 1 && !masked_items && spec.count != CountKind::Unique && spec.bucket_ms == 0;
  Merger m(spec, need_sets, direct);
  std::size_t rows = 0;
  for (const VariantRows& in : inputs) {
    for (const auto* p : in.parts) rows += p->groups();
    if (in.general != nullptr) rows += in.general->keys.size();
  }
  m.reserve(direct ? rows : rows / 2);
  for (const VariantRows& in : inputs) {
    for (const auto* p : in.parts) add_fixed(m, spec, *in.variant, *p);
    if (in.general != nullptr) add_general(m, spec, *in.variant, *in.general);
  }
  m.finish(result);
  // Every sum is at most its total, so a clamped sum anywhere shows in the totals.
  result.saturated = result.total.bytes == kSaturated || result.total.packets == kSaturated ||
                     result.total.sessions == kSaturated || result.total.value == kSaturated;
}

}  // namespace flowscope::query
