#pragma once
// Text output of records, the one record writer of flowscope (docs/query.md "Output"): sessions
// for `query`, `capture`, the HTTP API and the query protocol, flows for `decode`. Formats: an
// aligned table (FlowTraq's default), CSV without or with a header (-c, -c+; quoted by
// core/csv.h), JSON lines (one object per row; numbers stay numbers, absent values are left
// out) and a user format string ("%cln_addr:%srv_port %total_bytes": %name or %{name} of a
// registry name or filter keyword, %% for %). Stat results are written here too, with the same
// types. Values are formatted by core/field_format.h; Sum and Diff fields are computed here.
// A writer is used by one thread.

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "core/field_format.h"
#include "core/record_batch.h"
#include "core/result.h"
#include "query/executor.h"
#include "query/query_spec.h"

namespace flowscope::query {

enum class OutputFormat : std::uint8_t { Table, Csv, CsvHeader, JsonLines, Template };

struct OutputOptions {
  OutputFormat format = OutputFormat::Table;
  std::string format_string;  // OutputFormat::Template
  FieldFormatOptions field;
  // The table's look: `query` upper-cases the headers and leaves absent cells empty; `decode`
  // keeps the registry names and prints absent values as "-".
  bool table_upper_headers = true;
  std::string table_absent;
};

// "table", "csv", "csv+" (with header), "json", or "fmt:<format string>".
Result<OutputOptions> parse_output_format(std::string_view text);

// Writes records (sessions or flows). The table format buffers every row until finish()
// (columns are sized to their widest cell); the others write as rows come.
template <RecordKind K>
class RecordWriter {
 public:
  // Fails on a bad format string (naming the unknown field and its position). `fields` are
  // what parse_field_list(kind K) accepts.
  static Result<std::unique_ptr<RecordWriter>> create(std::ostream& out,
                                                      std::vector<FieldId> fields,
                                                      const OutputOptions& options);
  virtual ~RecordWriter() = default;
  // Writes the rows of `batch` (the columns of the fields set, as execute_query delivers).
  virtual void write(const Batch<K>& batch) = 0;
  virtual void finish() = 0;
  // The fields a format string names (for QuerySpec::fields); the given ones otherwise.
  virtual const std::vector<FieldId>& fields() const = 0;
};

// Session rows: `query`, `capture`, the HTTP API and the query protocol.
using RowWriter = RecordWriter<RecordKind::Session>;
// Flow records: `decode`.
using FlowRowWriter = RecordWriter<RecordKind::Flow>;

extern template class RecordWriter<RecordKind::Session>;
extern template class RecordWriter<RecordKind::Flow>;

// Writes a stat: group columns, then the count, sessions, bytes, packets (and for a series one
// row per group and bucket: the bucket's time and value), then "others" and "total" rows. In
// the table and CSV they are labelled in the first group column ("others (N groups)"); in JSON
// lines they are objects flagged "others": true / "total": true with no group keys, and group
// keys are typed as `query --json` types fields (numbers stay numbers; networks are text,
// "10.1.2.0/24"). When a sum was clamped (StatResult::saturated) the table ends with
// kSaturatedNote and the JSON total has "saturated": true; CSV stays machine-readable and
// callers warn on stderr.
inline constexpr const char* kSaturatedNote =
    "note: some sums reached 18446744073709551615 (2^64 - 1) and were clamped there: the input "
    "holds counters too large to be real (a hostile or broken exporter?)";
void write_stat(std::ostream& out, const StatSpec& spec, const StatResult& result,
                const OutputOptions& options);

// The text of group item `k` of stat row `row`: the value, networks with their prefix
// ("10.1.2.0/24"); "" when absent.
std::string stat_key_text(const StatResult& result, std::size_t k, std::size_t row,
                          const FieldFormatOptions& options = {});

// The value of a stored, Sum or Diff field of `row` as text ("" when absent), as the writers
// print it.
std::string field_text(const SessionBatch& batch, FieldId field, std::size_t row,
                       const FieldFormatOptions& options = {});
std::string field_text(const FlowBatch& batch, FieldId field, std::size_t row,
                       const FieldFormatOptions& options = {});

}  // namespace flowscope::query
