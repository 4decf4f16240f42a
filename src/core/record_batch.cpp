#include "core/record_batch.h"

#include <bit>

namespace flowscope {
namespace {

ColumnData make_data(FieldType type) {
  switch (type) {
    case FieldType::Ip: return std::vector<IpAddress>();
    case FieldType::U8:
    case FieldType::TcpFlags:
    case FieldType::Proto: return std::vector<std::uint8_t>();
    case FieldType::U16: return std::vector<std::uint16_t>();
    case FieldType::U32: return std::vector<std::uint32_t>();
    case FieldType::U64: return std::vector<std::uint64_t>();
    case FieldType::Time:
    case FieldType::Duration: return std::vector<std::int64_t>();
    case FieldType::Country: return std::vector<CountryCode>();
    case FieldType::String: return StringColumn();
  }
  return std::vector<std::uint8_t>();
}

}  // namespace

Column::Column(FieldId field) : field_(field), data_(make_data(field_info(field).type)) {}

void Column::resize(std::size_t capacity) {
  std::visit([capacity](auto& d) { d.resize(capacity); }, data_);
  valid_.resize((capacity + 63) / 64);
}

void Column::clear_rows(std::size_t rows) {
  if (!dirty_) return;
  dirty_ = false;
  std::visit(
      [rows](auto& d) {
        using D = std::decay_t<decltype(d)>;
        if constexpr (std::is_same_v<D, StringColumn>) {
          d.clear_rows(rows);
        } else {
          std::fill_n(d.begin(), std::min(rows, d.size()), typename D::value_type{});
        }
      },
      data_);
  std::fill_n(valid_.begin(), std::min((rows + 63) / 64, valid_.size()), 0);
}

std::size_t Column::valid_count(std::size_t rows) const {
  std::size_t n = 0;
  for (std::size_t w = 0; w < rows / 64; ++w)
    n += static_cast<std::size_t>(std::popcount(valid_[w]));
  for (std::size_t row = rows / 64 * 64; row < rows; ++row) n += valid(row);
  return n;
}

template <RecordKind K>
Batch<K>::Batch(std::size_t reserve_rows) {
  columns_.reserve(kColumns);
  for (FieldId id : fields_of(K, /*stored_only=*/true)) columns_.emplace_back(id);
  if (reserve_rows > 0) reserve(reserve_rows);
}

template <RecordKind K>
void Batch<K>::reserve(std::size_t rows) {
  if (rows <= capacity_) return;
  for (Column& c : columns_) c.resize(rows);
  capacity_ = rows;
}

template <RecordKind K>
void Batch<K>::clear() {
  for (Column& c : columns_) c.clear_rows(size_);
  size_ = 0;
}

template class Batch<RecordKind::Flow>;
template class Batch<RecordKind::Session>;

}  // namespace flowscope
