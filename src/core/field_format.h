#pragma once
// Text form of one value of any registry field, driven by its FieldType only (docs/conventions.md
// "The field registry"): addresses per RFC 5952, times as ISO 8601 (core/time.h), protocols by
// name, TCP flags as
// "...A..S.", countries as codes. Every text output (decode, query, HTTP CSV) uses this, so a
// new field needs no formatter. Pure functions; any thread.

#include <cstddef>
#include <optional>
#include <string>

#include "core/record_batch.h"
#include "core/time.h"

namespace flowscope {

// Names of addresses, printed instead of the address when output asks for them (`query` and
// `stat --names`: reverse DNS through enrich's IP-info table, cli/address_names.h). An empty
// name prints the address. Used by the output's thread only.
class AddressNames {
 public:
  virtual ~AddressNames() = default;
  virtual std::string name(const IpAddress& address) const = 0;
};

struct FieldFormatOptions {
  TimeZoneRef zone;                     // for Time fields
  bool numeric_protocol = false;        // "6" instead of "tcp"
  const AddressNames* names = nullptr;  // Ip fields: the name when it has one
};

// Appends the value of `col` at `row` as text to `out` (nothing when the value is absent),
// without allocating beyond out's growth for fixed-width types: the path for bulk output.
void append_field(std::string& out, const Column& col, std::size_t row,
                  const FieldFormatOptions& opt = {});

// The value of `col` at `row` as text; "" when the value is absent.
std::string format_field(const Column& col, std::size_t row, const FieldFormatOptions& opt = {});

// The value as a number when the field type is numeric (U8..U64, Time as epoch ms, Duration as
// ms) and the value is present; nullopt otherwise. For JSON output, which keeps numbers numeric.
std::optional<std::int64_t> numeric_field(const Column& col, std::size_t row);

}  // namespace flowscope
