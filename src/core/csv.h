#pragma once
// CSV as RFC 4180 writes it: fields separated by commas, quoted with '"' when they hold a comma,
// quote or line break, a quote inside doubled. The one CSV quoting of flowscope: every CSV
// writer (query/output.h: `query`, `stat`, `decode`, `capture`, the HTTP API) quotes through
// append_csv_cell, and `flowscope import` and the tests that read tshark/flow-tools truth files
// split through split_csv_line. Pure functions; any thread.

#include <cstddef>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

namespace flowscope {

// Splits one record (a line, or the lines read_csv_record joined) into `cells` (cleared first).
// Spaces around an unquoted value are padding (nfdump aligns its columns), not data, and are
// dropped; a '\r' outside quotes is ignored. Returns false when a quote is not closed.
bool split_csv_line(const std::string& line, std::vector<std::string>& cells);

// Appends `cell` to `line`, quoted when it holds a comma, quote, CR or LF.
void append_csv_cell(std::string& line, std::string_view cell);
// The cells joined by commas, each through append_csv_cell, ending in '\n'.
std::string csv_line(const std::vector<std::string>& cells);

// Reads one record into `record` (without its final line break): one line, or more when a
// quoted value holds line breaks, up to kMaxCsvRecordLines lines (then the record is returned as
// it is and split_csv_line reports the unclosed quote). Adds the lines read to `lines`; false at
// the end of input.
inline constexpr std::size_t kMaxCsvRecordLines = 64;
bool read_csv_record(std::istream& in, std::string& record, std::size_t& lines);

}  // namespace flowscope
