#pragma once
// CSV lines as RFC 4180 writes them: fields separated by commas, quoted with '"' when they hold
// a comma or quote, a quote inside doubled. Shared by `flowscope import` and the tests that read
// tshark/flow-tools truth files. Pure functions; any thread.

#include <string>
#include <vector>

namespace flowscope {

// Splits one line into `cells` (cleared first). Spaces around an unquoted value are padding
// (nfdump aligns its columns), not data, and are dropped; a trailing '\r' is ignored. Returns
// false when a quote is not closed: quoted line breaks are not supported.
bool split_csv_line(const std::string& line, std::vector<std::string>& cells);

}  // namespace flowscope
