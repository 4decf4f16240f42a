#include "query/compiled_filter.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cstring>

#include <fmt/format.h>

namespace flowscope::query {

// A node of the residual tree. Leaves compare one field (stored, or derived from two stored
// operands); inner nodes combine their children's bit vectors.
struct CompiledFilter::Node {
  enum class Kind : std::uint8_t { Leaf, And, Or, Not };
  Kind kind = Kind::Leaf;
  Comparison cmp;  // Leaf
  std::vector<Node> children;
};

namespace {

using Node = CompiledFilter::Node;

std::size_t words_for(std::size_t rows) { return (rows + 63) / 64; }

// Mask of the valid bits in the last word.
std::uint64_t tail_mask(std::size_t rows) {
  const std::size_t r = rows % 64;
  return r == 0 ? ~std::uint64_t{0} : (std::uint64_t{1} << r) - 1;
}

// out[w] = bits of pred(values[row]) for the rows of word w, ANDed with the validity words.
template <typename T, typename Pred>
void eval_values(const T* values, std::size_t rows, std::span<const std::uint64_t> valid, Pred pred,
                 std::uint64_t* out) {
  const std::size_t words = words_for(rows);
  for (std::size_t w = 0; w < words; ++w) {
    const std::size_t base = w * 64;
    const std::size_t n = std::min<std::size_t>(64, rows - base);
    std::uint64_t bits = 0;
    for (std::size_t j = 0; j < n; ++j) {
      bits |= static_cast<std::uint64_t>(pred(values[base + j])) << j;
    }
    out[w] = bits & valid[w];
  }
}

template <typename T, typename V>
void eval_ordered(const T* values, std::size_t rows, std::span<const std::uint64_t> valid,
                  Comparator op, V v, std::uint64_t* out) {
  switch (op) {
    case Comparator::Eq:
      eval_values(
          values, rows, valid, [v](T x) { return V(x) == v; }, out);
      break;
    case Comparator::Ne:
      eval_values(
          values, rows, valid, [v](T x) { return V(x) != v; }, out);
      break;
    case Comparator::Lt:
      eval_values(
          values, rows, valid, [v](T x) { return V(x) < v; }, out);
      break;
    case Comparator::Le:
      eval_values(
          values, rows, valid, [v](T x) { return V(x) <= v; }, out);
      break;
    case Comparator::Gt:
      eval_values(
          values, rows, valid, [v](T x) { return V(x) > v; }, out);
      break;
    case Comparator::Ge:
      eval_values(
          values, rows, valid, [v](T x) { return V(x) >= v; }, out);
      break;
  }
}

std::uint64_t load_be64(const std::uint8_t* p) {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  if constexpr (std::endian::native == std::endian::little) v = __builtin_bswap64(v);
  return v;
}

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

// Evaluates a comparison on one stored column (for Either fields the caller combines two).
// `op` is applied as given; absent rows are 0.
void eval_stored(const Column& col, std::size_t rows, Comparator op, const FilterValue& value,
                 std::uint64_t* out) {
  const auto valid = col.validity_words();
  const FieldType type = col.info().type;
  switch (type) {
    case FieldType::Ip: {
      const Cidr& c = std::get<Cidr>(value);
      const unsigned bits = c.bits128();
      const std::uint64_t mhi = bits == 0    ? 0
                                : bits >= 64 ? ~std::uint64_t{0}
                                             : ~std::uint64_t{0} << (64 - bits);
      const std::uint64_t mlo = bits <= 64    ? 0
                                : bits >= 128 ? ~std::uint64_t{0}
                                              : ~std::uint64_t{0} << (128 - bits);
      const std::uint64_t nhi = c.network().high64() & mhi;
      const std::uint64_t nlo = c.network().low64() & mlo;
      const bool want = op == Comparator::Eq;
      eval_values(
          col.vec<IpAddress>().data(), rows, valid,
          [=](const IpAddress& a) {
            const std::uint8_t* b = a.bytes().data();
            // Branch-free: both halves compared, then combined as integers.
            const bool in = (static_cast<unsigned>((load_be64(b) & mhi) == nhi) &
                             static_cast<unsigned>((load_be64(b + 8) & mlo) == nlo)) != 0;
            return in == want;
          },
          out);
      return;
    }
    case FieldType::TcpFlags: {
      const auto need = static_cast<std::uint8_t>(std::get<std::uint64_t>(value));
      const bool want = op == Comparator::Eq;
      eval_values(
          col.vec<std::uint8_t>().data(), rows, valid,
          [=](std::uint8_t f) { return ((f & need) == need) == want; }, out);
      return;
    }
    case FieldType::U8:
    case FieldType::Proto:
      eval_ordered(col.vec<std::uint8_t>().data(), rows, valid, op, std::get<std::uint64_t>(value),
                   out);
      return;
    case FieldType::U16:
      eval_ordered(col.vec<std::uint16_t>().data(), rows, valid, op, std::get<std::uint64_t>(value),
                   out);
      return;
    case FieldType::U32:
      eval_ordered(col.vec<std::uint32_t>().data(), rows, valid, op, std::get<std::uint64_t>(value),
                   out);
      return;
    case FieldType::U64:
      eval_ordered(col.vec<std::uint64_t>().data(), rows, valid, op, std::get<std::uint64_t>(value),
                   out);
      return;
    case FieldType::Time:
    case FieldType::Duration:
      eval_ordered(col.vec<std::int64_t>().data(), rows, valid, op, std::get<std::int64_t>(value),
                   out);
      return;
    case FieldType::Country: {
      const CountryCode want = std::get<CountryCode>(value);
      const bool eq = op == Comparator::Eq;
      eval_values(
          col.vec<CountryCode>().data(), rows, valid,
          [=](const CountryCode& c) { return (c == want) == eq; }, out);
      return;
    }
    case FieldType::String: {
      const std::string& want = std::get<std::string>(value);
      const StringColumn& s = col.strings();
      const bool eq = op == Comparator::Eq;
      const std::size_t words = words_for(rows);
      for (std::size_t w = 0; w < words; ++w) {
        std::uint64_t bits = 0;
        const std::size_t n = std::min<std::size_t>(64, rows - w * 64);
        for (std::size_t j = 0; j < n; ++j) {
          bits |= static_cast<std::uint64_t>(iequal(s.get(w * 64 + j), want) == eq) << j;
        }
        out[w] = bits & valid[w];
      }
      return;
    }
  }
}

// Sum or Diff of two integer columns into `values` (absent operands count as 0) and their
// validity (either operand present) into `valid`.
template <typename T>
void combine(const Column& a, const Column& b, std::size_t rows, bool diff, std::vector<T>& values,
             std::vector<std::uint64_t>& valid) {
  values.resize(rows);
  valid.resize(words_for(rows));
  auto get = [&](const Column& c, std::size_t r) -> T {
    return std::visit(
        [r](const auto& d) -> T {
          using D = std::decay_t<decltype(d)>;
          if constexpr (std::is_same_v<D, std::vector<std::uint8_t>> ||
                        std::is_same_v<D, std::vector<std::uint16_t>> ||
                        std::is_same_v<D, std::vector<std::uint32_t>> ||
                        std::is_same_v<D, std::vector<std::uint64_t>> ||
                        std::is_same_v<D, std::vector<std::int64_t>>) {
            return static_cast<T>(d[r]);
          } else {
            return T{};
          }
        },
        c.data());
  };
  const auto va = a.validity_words();
  const auto vb = b.validity_words();
  for (std::size_t w = 0; w < valid.size(); ++w) valid[w] = va[w] | vb[w];
  // Rows past the batch and absent values are zero (record_batch.h), so no masking is needed.
  for (std::size_t r = 0; r < rows; ++r) {
    values[r] =
        diff ? static_cast<T>(get(a, r) - get(b, r)) : static_cast<T>(get(a, r) + get(b, r));
  }
}

void eval_leaf(const Comparison& cmp, const SessionBatch& batch, std::uint64_t* out,
               RowBits& scratch) {
  const std::size_t rows = batch.size();
  const std::size_t words = words_for(rows);
  const FieldInfo& info = field_info(cmp.field);
  switch (info.kind) {
    case FieldKind::Stored:
      eval_stored(batch.column(cmp.field), rows, cmp.op, cmp.value, out);
      return;
    case FieldKind::Either: {
      const Column& a = batch.column(info.operands[0]);
      const Column& b = batch.column(info.operands[1]);
      scratch.resize(words);
      if (cmp.op == Comparator::Ne) {
        // Neither side equals the value (and at least one side is present).
        eval_stored(a, rows, Comparator::Eq, cmp.value, out);
        eval_stored(b, rows, Comparator::Eq, cmp.value, scratch.data());
        const auto va = a.validity_words();
        const auto vb = b.validity_words();
        for (std::size_t w = 0; w < words; ++w) out[w] = (va[w] | vb[w]) & ~(out[w] | scratch[w]);
      } else {
        eval_stored(a, rows, cmp.op, cmp.value, out);
        eval_stored(b, rows, cmp.op, cmp.value, scratch.data());
        for (std::size_t w = 0; w < words; ++w) out[w] |= scratch[w];
      }
      return;
    }
    case FieldKind::Sum:
    case FieldKind::Diff: {
      const Column& a = batch.column(info.operands[0]);
      const Column& b = batch.column(info.operands[1]);
      std::vector<std::uint64_t> valid;
      const bool diff = info.kind == FieldKind::Diff;
      if (std::holds_alternative<std::int64_t>(cmp.value)) {
        std::vector<std::int64_t> values;
        combine(a, b, rows, diff, values, valid);
        eval_ordered(values.data(), rows, valid, cmp.op, std::get<std::int64_t>(cmp.value), out);
      } else {
        std::vector<std::uint64_t> values;
        combine(a, b, rows, diff, values, valid);
        eval_ordered(values.data(), rows, valid, cmp.op, std::get<std::uint64_t>(cmp.value), out);
      }
      return;
    }
  }
}

void eval_node(const Node& node, const SessionBatch& batch, std::uint64_t* out) {
  const std::size_t words = words_for(batch.size());
  switch (node.kind) {
    case Node::Kind::Leaf: {
      RowBits scratch;
      eval_leaf(node.cmp, batch, out, scratch);
      return;
    }
    case Node::Kind::Not: {
      eval_node(node.children[0], batch, out);
      for (std::size_t w = 0; w < words; ++w) out[w] = ~out[w];
      if (words > 0) out[words - 1] &= tail_mask(batch.size());
      return;
    }
    case Node::Kind::And:
    case Node::Kind::Or: {
      const bool is_and = node.kind == Node::Kind::And;
      if (node.children.empty()) {  // FilterExpr::all() under a "!"
        std::fill(out, out + words, is_and ? ~std::uint64_t{0} : 0);
        if (words > 0) out[words - 1] &= tail_mask(batch.size());
        return;
      }
      eval_node(node.children[0], batch, out);
      RowBits child(words);
      for (std::size_t i = 1; i < node.children.size(); ++i) {
        eval_node(node.children[i], batch, child.data());
        for (std::size_t w = 0; w < words; ++w)
          out[w] = is_and ? out[w] & child[w] : out[w] | child[w];
      }
      return;
    }
  }
}

// The range a comparison selects, when the store can apply it exactly.
std::optional<store::ScanPredicate> as_range(const Comparison& cmp) {
  const FieldInfo& info = field_info(cmp.field);
  if (info.kind != FieldKind::Stored || !store::has_order_key(info.type) ||
      info.type == FieldType::TcpFlags || cmp.op == Comparator::Ne) {
    return std::nullopt;
  }
  store::ScanPredicate p{cmp.field, store::OrderKey::min(), store::OrderKey::max()};
  if (const auto* c = std::get_if<Cidr>(&cmp.value)) {
    if (cmp.op != Comparator::Eq) return std::nullopt;
    p.lo = store::order_key(c->network());
    p.hi = store::order_key(c->last());
    return p;
  }
  if (const auto* cc = std::get_if<CountryCode>(&cmp.value)) {
    if (cmp.op != Comparator::Eq) return std::nullopt;
    p.lo = p.hi = store::order_key(*cc);
    return p;
  }
  auto range = [&](auto v, auto lowest, auto highest) -> bool {
    switch (cmp.op) {
      case Comparator::Eq: p.lo = p.hi = store::order_key(v); return true;
      case Comparator::Le: p.hi = store::order_key(v); return true;
      case Comparator::Ge: p.lo = store::order_key(v); return true;
      case Comparator::Lt:
        if (v == lowest) return false;
        p.hi = store::order_key(decltype(v)(v - 1));
        return true;
      case Comparator::Gt:
        if (v == highest) return false;
        p.lo = store::order_key(decltype(v)(v + 1));
        return true;
      case Comparator::Ne: return false;
    }
    return false;
  };
  if (const auto* u = std::get_if<std::uint64_t>(&cmp.value)) {
    if (!range(*u, std::uint64_t{0}, std::numeric_limits<std::uint64_t>::max()))
      return std::nullopt;
    return p;
  }
  if (const auto* s = std::get_if<std::int64_t>(&cmp.value)) {
    if (!range(*s, std::numeric_limits<std::int64_t>::min(),
               std::numeric_limits<std::int64_t>::max())) {
      return std::nullopt;
    }
    return p;
  }
  return std::nullopt;
}

// Whether the value's alternative is the one the field's type needs.
bool value_fits(const Comparison& cmp) {
  switch (field_info(cmp.field).type) {
    case FieldType::Ip: return std::holds_alternative<Cidr>(cmp.value);
    case FieldType::Time:
    case FieldType::Duration: return std::holds_alternative<std::int64_t>(cmp.value);
    case FieldType::Country: return std::holds_alternative<CountryCode>(cmp.value);
    case FieldType::String: return std::holds_alternative<std::string>(cmp.value);
    default: return std::holds_alternative<std::uint64_t>(cmp.value);
  }
}

Result<Node> build(const FilterExpr& e, std::vector<FieldId>& columns, std::size_t depth) {
  if (depth > 1000) return Error{ErrorCode::InvalidArgument, "the filter nests too deeply"};
  Node n;
  switch (e.op) {
    case FilterExpr::Op::All:
      // An AND without children matches every row.
      n.kind = Node::Kind::And;
      return n;
    case FilterExpr::Op::Compare: {
      const FieldInfo& info = field_info(e.cmp.field);
      if (info.filter_name.empty() || !in_kind(info, RecordKind::Session) || !value_fits(e.cmp) ||
          !comparators(info).has(e.cmp.op)) {
        return Error{ErrorCode::InvalidArgument,
                     fmt::format("{} cannot be filtered with this value", info.name)};
      }
      if (info.kind == FieldKind::Stored) {
        columns.push_back(info.id);
      } else {
        columns.push_back(info.operands[0]);
        columns.push_back(info.operands[1]);
      }
      n.kind = Node::Kind::Leaf;
      n.cmp = e.cmp;
      return n;
    }
    case FilterExpr::Op::Not:
    case FilterExpr::Op::And:
    case FilterExpr::Op::Or:
      n.kind = e.op == FilterExpr::Op::Not   ? Node::Kind::Not
               : e.op == FilterExpr::Op::And ? Node::Kind::And
                                             : Node::Kind::Or;
      if (e.children.empty() || (n.kind == Node::Kind::Not && e.children.size() != 1)) {
        return Error{ErrorCode::InvalidArgument, "malformed filter tree"};
      }
      for (const FilterExpr& c : e.children) {
        auto child = build(c, columns, depth + 1);
        if (!child) return child.error();
        n.children.push_back(std::move(*child));
      }
      return n;
  }
  return n;
}

}  // namespace

Result<CompiledFilter> CompiledFilter::compile(const FilterExpr& filter) {
  CompiledFilter f;
  std::vector<const FilterExpr*> residual;
  auto consider = [&](const FilterExpr& e) {
    if (e.op == FilterExpr::Op::Compare) {
      if (auto p = as_range(e.cmp)) {
        // Still validate the comparison the same way as residual ones.
        std::vector<FieldId> ignored;
        auto ok = build(e, ignored, 0);
        if (!ok) return ok.error();
        f.pushdown_.push_back(*p);
        return Error{};  // pushed
      }
    }
    residual.push_back(&e);
    return Error{};
  };
  if (filter.op == FilterExpr::Op::And) {
    for (const FilterExpr& c : filter.children) {
      Error err = consider(c);
      if (!err.message.empty()) return err;
    }
  } else if (filter.op != FilterExpr::Op::All) {
    Error err = consider(filter);
    if (!err.message.empty()) return err;
  }
  if (!residual.empty()) {
    Node root;
    if (residual.size() == 1) {
      auto n = build(*residual[0], f.columns_, 0);
      if (!n) return n.error();
      root = std::move(*n);
    } else {
      root.kind = Node::Kind::And;
      for (const FilterExpr* e : residual) {
        auto n = build(*e, f.columns_, 0);
        if (!n) return n.error();
        root.children.push_back(std::move(*n));
      }
    }
    f.residual_ = std::make_shared<const Node>(std::move(root));
  }
  std::sort(f.columns_.begin(), f.columns_.end());
  f.columns_.erase(std::unique(f.columns_.begin(), f.columns_.end()), f.columns_.end());
  return f;
}

bool CompiledFilter::pushdown_is_exact() const { return residual_ == nullptr; }

void CompiledFilter::select(const SessionBatch& batch, RowBits& bits) const {
  const std::size_t rows = batch.size();
  bits.assign(words_for(rows), 0);
  if (rows == 0) return;
  if (!residual_) {
    std::fill(bits.begin(), bits.end(), ~std::uint64_t{0});
    bits.back() &= tail_mask(rows);
    return;
  }
  if (residual_->kind == Node::Kind::And && residual_->children.empty()) {
    std::fill(bits.begin(), bits.end(), ~std::uint64_t{0});
    bits.back() &= tail_mask(rows);
    return;
  }
  eval_node(*residual_, batch, bits.data());
  bits.back() &= tail_mask(rows);
}

void CompiledFilter::select_rows(const SessionBatch& batch,
                                 std::vector<std::uint32_t>& rows) const {
  RowBits bits;
  select(batch, bits);
  rows.clear();
  for (std::size_t w = 0; w < bits.size(); ++w) {
    std::uint64_t b = bits[w];
    while (b != 0) {
      rows.push_back(
          static_cast<std::uint32_t>(w * 64 + static_cast<std::size_t>(std::countr_zero(b))));
      b &= b - 1;
    }
  }
}

}  // namespace flowscope::query
