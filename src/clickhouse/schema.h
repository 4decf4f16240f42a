#pragma once
// Internal to flowscope_clickhouse: other modules use its public headers.
// The ClickHouse schema of flowscope's sessions (docs/scale-out.md), generated from the field
// registry (core/fields.def): one column per stored session field with a type from its
// FieldType, never a second list. Also the RowBinary encoding of session rows for inserts and
// the decoding of SELECT results (FORMAT RowBinary) back into SessionBatch columns.
//
// Layout of the flows table, in this order:
//   _seq UInt64          the row's append sequence (arrival order; block ids for replay checks)
//   _v0.._vN UInt64      validity bits, bit (i % 64) of _v(i / 64) for the i-th stored column
//                        (SessionBatch::column_index): absent values are stored as zero
//   one column per stored field; an Ip field is two: NAME_v4 UInt32 (0 for IPv6) and
//   NAME_v6 FixedString(16) (the whole address, IPv4 v4-mapped, so it orders and compares as
//   the embedded store's address keys do).
// Pure functions of the registry; any thread.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/record_batch.h"
#include "core/result.h"

namespace flowscope::clickhouse {

// Bump with a migration in ClickHouseBackend::init_shard (schema_version table per shard):
// 1 the flows tables, 2 the flowscope_rollups list of rollup views (clickhouse/rollup_schema.h),
// 3 the field list grows in place (new fields added as columns, flowscope_layout rewritten;
// ClickHouseBackend::check_layout), which a flowscope of version 2 would not follow.
inline constexpr std::uint32_t kSchemaVersion = 3;

inline constexpr std::size_t kValidWords = (SessionBatch::kColumns + 63) / 64;

inline constexpr std::int64_t kDayMs = 86'400'000;
inline constexpr std::int64_t kHourMs = 3'600'000;
// The day partition of a row (PARTITION BY of the flows table): days since 1970 of start_time,
// rows before 1970 (or without a start time) in day 0.
inline constexpr std::string_view kDayExpr = "intDiv(greatest(start_time, 0), 86400000)";
inline std::int64_t day_of(std::int64_t start_ms) { return (start_ms < 0 ? 0 : start_ms) / kDayMs; }

// The ClickHouse type of a field's column ("UInt16", "FixedString(2)", ...); for Ip the _v6 type.
std::string_view column_type(FieldType type);
// The column that holds a field's values in SELECTs (for Ip, NAME_v6), backquoted.
std::string value_column(FieldId field);
// The validity test of a field: "bitAnd(_v1, 8) != 0".
std::string valid_expr(FieldId field);

struct TableNames {
  std::string database = "default";
  std::string local = "flows_local";
  std::string distributed = "flows";
  std::string cluster = "flowscope";  // remote_servers name the Distributed table uses
};

// Every column of the flows table, "name Type" joined by ",\n  ".
std::string column_definitions();
// The stored session fields in the order of their validity bits (`_v0`, `_v1`, ...), as the
// cluster's flowscope_layout table keeps it: the bits follow the registry's order, so a cluster
// written with another field list must not be read or written by this one.
std::string field_layout();
std::string create_layout_table(const TableNames& t);
// The column list of inserts, in RowBinary order.
std::string insert_columns();
std::string create_local_table(const TableNames& t);
std::string create_distributed_table(const TableNames& t);
std::string create_version_table(const TableNames& t);

// Appends rows `rows` of `batch` as RowBinary in insert_columns() order; batch row r gets
// _seq = seq_base + r (so rows keep their arrival order whichever block they go to).
void encode_rows(const SessionBatch& batch, std::span<const std::uint32_t> rows,
                 std::uint64_t seq_base, std::string& out);

// What one column of a SELECT result holds.
struct ResultItem {
  enum class Kind : std::uint8_t { Valid, Field, Aux };
  Kind kind = Kind::Field;
  std::uint32_t index = 0;             // Valid: the word; Aux: index into aux
  FieldId field = FieldId::StartTime;  // Field
};

// Decodes a FORMAT RowBinary result of columns `items` into `out` (rows appended; validity
// from the Valid items, all-present when there are none) and `aux` (UInt64 values, row-major,
// aux_count per row). Fails on a short or malformed body without reading past it; a body that
// ends in a ClickHouse exception text reports it. Stops after `max_rows` rows; `consumed`
// (optional) receives the bytes read, where the next call starts.
Result<std::size_t> decode_rows(std::string_view body, std::span<const ResultItem> items,
                                std::size_t aux_count, SessionBatch& out,
                                std::vector<std::uint64_t>& aux,
                                std::size_t max_rows = static_cast<std::size_t>(-1),
                                std::size_t* consumed = nullptr);

// "Code: 60, e.displayText() = DB::Exception: Table default.x doesn't exist, e.what() = ..."
// -> code 60 and the message; code -1 when the text is not a ClickHouse error.
struct ServerError {
  int code = -1;
  std::string message;
};
ServerError parse_server_error(std::string_view body);

// A string literal for SQL: quoted, with ' and \ escaped.
std::string sql_string(std::string_view s);

}  // namespace flowscope::clickhouse
