#include "query/executor_support.h"

namespace flowscope::query {

Result<FilterExpr> selection_filter(const Selection& where, const FilterContext& ctx) {
  auto parsed = where.syntax == FilterSyntax::Nfdump ? parse_nfdump_filter(where.filter, ctx)
                                                     : parse_filter(where.filter, ctx);
  if (!parsed) return parsed.error();
  if (!where.restriction) return parsed;
  return and_of(std::move(*parsed), *where.restriction);
}

Result<CompiledFilter> compile_selection(const Selection& where, const FilterContext& ctx) {
  auto filter = selection_filter(where, ctx);
  if (!filter) return filter.error();
  return CompiledFilter::compile(*filter);
}

std::uint64_t integer_at(const Column& col, std::size_t row) {
  return std::visit(
      [row](const auto& d) -> std::uint64_t {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, std::vector<std::uint8_t>> ||
                      std::is_same_v<D, std::vector<std::uint16_t>> ||
                      std::is_same_v<D, std::vector<std::uint32_t>> ||
                      std::is_same_v<D, std::vector<std::uint64_t>> ||
                      std::is_same_v<D, std::vector<std::int64_t>>) {
          return static_cast<std::uint64_t>(d[row]);
        } else {
          return 0;
        }
      },
      col.data());
}

std::optional<std::int64_t> derived_value(const SessionBatch& batch, FieldId field,
                                          std::size_t row) {
  const FieldInfo& info = field_info(field);
  const Column& a = batch.column(info.operands[0]);
  const Column& b = batch.column(info.operands[1]);
  if (!a.valid(row) && !b.valid(row)) return std::nullopt;
  const std::uint64_t x = a.valid(row) ? integer_at(a, row) : 0;
  const std::uint64_t y = b.valid(row) ? integer_at(b, row) : 0;
  return static_cast<std::int64_t>(info.kind == FieldKind::Diff ? x - y : x + y);
}

store::OrderKey order_key_of(const Column& col, std::size_t row) {
  return std::visit(
      [row](const auto& d) -> store::OrderKey {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
          return {};
        } else {
          return store::order_key(d[row]);
        }
      },
      col.data());
}

}  // namespace flowscope::query
