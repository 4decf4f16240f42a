#pragma once
// Number formatting shared by the report builders: human sizes for managers ("1.23 GB",
// "4.5 Mb/s", decimal units as network people use), exact counts with thin separators
// ("4,211,008"), shell quoting for the query notes. Pure functions; any thread.
// Internal to flowscope_report: other modules use its public headers.

#include <cstdint>
#include <string>
#include <string_view>

namespace flowscope::report {

std::string human_bytes(double bytes);           // "0 B", "999 B", "1.23 kB", "45.6 GB"
std::string human_rate(double bits_per_s);       // "0 b/s", "12.3 kb/s", "1.05 Gb/s"
std::string with_commas(std::uint64_t n);        // "4,211,008"
std::string percent(double part, double whole);  // "12.5 %", "-" when whole is 0
// 'text' for a POSIX shell (a single quote becomes '\'').
std::string shell_quote(std::string_view text);

}  // namespace flowscope::report
