#pragma once
// Batches of records as struct-of-arrays, one column per stored field of the registry: the unit
// that decoders append to, stitching turns from FlowBatch into SessionBatch, and the store
// consumes. Columns come from core/fields.def; nothing here names a field.
//
// Appending allocates only when the batch outgrows its capacity (doubling); clear() keeps the
// capacity, so a reused batch appends with no allocation per record. Each column has a validity
// bit per row: set() marks a value present; absent values read as zero or empty.
// A batch is a plain value owned by one thread at a time.

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/field_registry.h"

namespace flowscope {

// Text values of a String column, packed into one buffer.
class StringColumn {
 public:
  std::string_view get(std::size_t row) const {
    const Slice& s = slices_[row];
    return std::string_view(chars_).substr(s.offset, s.length);
  }
  void set(std::size_t row, std::string_view value) {
    slices_[row] = {static_cast<std::uint32_t>(chars_.size()),
                    static_cast<std::uint32_t>(value.size())};
    chars_.append(value);
  }
  std::size_t size() const { return slices_.size(); }
  void resize(std::size_t rows) { slices_.resize(rows); }
  void clear_rows(std::size_t rows) {
    std::fill_n(slices_.begin(), std::min(rows, slices_.size()), Slice{});
    chars_.clear();
  }
  std::size_t text_bytes() const { return chars_.size(); }

 private:
  struct Slice {
    std::uint32_t offset = 0;
    std::uint32_t length = 0;
  };
  std::vector<Slice> slices_;
  std::string chars_;
};

using ColumnData =
    std::variant<std::vector<IpAddress>, std::vector<std::uint8_t>, std::vector<std::uint16_t>,
                 std::vector<std::uint32_t>, std::vector<std::uint64_t>, std::vector<std::int64_t>,
                 std::vector<CountryCode>, StringColumn>;

// One column of a batch. Its vectors are always `capacity` long; rows past size() are zero.
class Column {
 public:
  explicit Column(FieldId field);

  FieldId field() const { return field_; }
  const FieldInfo& info() const { return field_info(field_); }
  bool valid(std::size_t row) const { return (valid_[row / 64] >> (row % 64)) & 1u; }
  void mark_valid(std::size_t row) {
    valid_[row / 64] |= std::uint64_t{1} << (row % 64);
    dirty_ = true;
  }
  // The validity bits, 64 rows per word (bit r % 64 of word r / 64): for bulk copies (the store).
  std::span<const std::uint64_t> validity_words() const { return valid_; }
  std::span<std::uint64_t> validity_words() {
    dirty_ = true;  // written in bulk: clear_rows() must not skip this column
    return valid_;
  }
  std::size_t valid_count(std::size_t rows) const;

  const ColumnData& data() const { return data_; }
  // Mutable access may write values in bulk: the column counts as dirty from then on.
  ColumnData& data() {
    dirty_ = true;
    return data_;
  }
  template <typename T>
  std::vector<T>& vec() {
    dirty_ = true;
    return *std::get_if<std::vector<T>>(&data_);
  }
  template <typename T>
  const std::vector<T>& vec() const {
    return *std::get_if<std::vector<T>>(&data_);
  }
  StringColumn& strings() {
    dirty_ = true;
    return *std::get_if<StringColumn>(&data_);
  }
  const StringColumn& strings() const { return *std::get_if<StringColumn>(&data_); }

  void resize(std::size_t capacity);
  // Zeroes the first `rows` values and their validity bits; a column nothing was set in since
  // the last clear is already zero and is skipped (a batch kind has many columns a given
  // producer never fills, e.g. TCP health in sessions stitched from NetFlow).
  void clear_rows(std::size_t rows);

 private:
  FieldId field_;
  ColumnData data_;
  std::vector<std::uint64_t> valid_;
  bool dirty_ = false;  // a value was set since the last clear_rows()
};

template <RecordKind K>
class Batch {
 public:
  static constexpr RecordKind kKind = K;

  // Index of a field's column in this kind of batch, or -1 when it has none (derived fields,
  // fields of the other kind).
  static constexpr int column_index(FieldId id) {
    if (field_info(id).kind != FieldKind::Stored || !in_kind(field_info(id), K)) return -1;
    int index = 0;
    for (const FieldInfo& f : kFieldTable) {
      if (f.id == id) return index;
      if (f.kind == FieldKind::Stored && in_kind(f, K)) ++index;
    }
    return -1;
  }
  static constexpr std::size_t kColumns = [] {
    std::size_t n = 0;
    for (const FieldInfo& f : kFieldTable) n += (f.kind == FieldKind::Stored && in_kind(f, K));
    return n;
  }();

  explicit Batch(std::size_t reserve_rows = 0);

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::size_t capacity() const { return capacity_; }
  void reserve(std::size_t rows);
  // Empties the batch, keeping its memory.
  void clear();

  // Grows the batch by `rows` rows of absent values (for bulk fills through mutable_column);
  // returns the index of the first new row.
  std::size_t add_rows(std::size_t rows) {
    if (size_ + rows > capacity_) reserve(std::max(size_ + rows, capacity_ * 2));
    std::size_t first = size_;
    size_ += rows;
    return first;
  }

  // Empties the batch clearing only the columns `ids`, for readers that fill a few columns of
  // a large batch again and again (the store's scans). REQUIRES: every other column is absent
  // in all rows.
  void clear_columns(std::span<const FieldId> ids) {
    for (FieldId id : ids) columns_[column_index(id)].clear_rows(size_);
    size_ = 0;
  }

  // Appends a row of absent values and returns its index.
  std::size_t add_row() {
    if (size_ == capacity_) reserve(capacity_ == 0 ? 64 : capacity_ * 2);
    return size_++;
  }

  template <FieldId F>
  void set(std::size_t row, const field_value_t<F>& value) {
    constexpr int kIndex = column_index(F);
    static_assert(kIndex >= 0, "this field is not a stored field of this record kind");
    Column& col = columns_[kIndex];
    if constexpr (field_info(F).type == FieldType::String) {
      col.strings().set(row, value);
    } else {
      col.template vec<field_value_t<F>>()[row] = value;
    }
    col.mark_valid(row);
  }

  template <FieldId F>
  field_value_t<F> get(std::size_t row) const {
    constexpr int kIndex = column_index(F);
    static_assert(kIndex >= 0, "this field is not a stored field of this record kind");
    const Column& col = columns_[kIndex];
    if constexpr (field_info(F).type == FieldType::String) {
      return col.strings().get(row);
    } else {
      return col.template vec<field_value_t<F>>()[row];
    }
  }

  // All values of a fixed-width column, size() long.
  template <FieldId F>
  std::span<const field_value_t<F>> values() const {
    static_assert(field_info(F).type != FieldType::String, "use get() for text columns");
    constexpr int kIndex = column_index(F);
    static_assert(kIndex >= 0, "this field is not a stored field of this record kind");
    return std::span(columns_[kIndex].template vec<field_value_t<F>>()).first(size_);
  }

  bool has_column(FieldId id) const { return column_index(id) >= 0; }
  // REQUIRES: has_column(id).
  const Column& column(FieldId id) const { return columns_[column_index(id)]; }
  bool is_set(FieldId id, std::size_t row) const { return has_column(id) && column(id).valid(row); }
  std::span<const Column> columns() const { return columns_; }
  // For bulk fills (the store decodes whole columns). REQUIRES: has_column(id); rows below
  // size() only, and a String column filled in row order.
  Column& mutable_column(FieldId id) { return columns_[column_index(id)]; }

 private:
  std::vector<Column> columns_;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

using FlowBatch = Batch<RecordKind::Flow>;
using SessionBatch = Batch<RecordKind::Session>;

extern template class Batch<RecordKind::Flow>;
extern template class Batch<RecordKind::Session>;

}  // namespace flowscope
