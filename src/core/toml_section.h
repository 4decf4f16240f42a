#pragma once
// One typed reader for a section of a TOML configuration file, shared by every loader (server,
// probe, IP groups, traffic scenarios, the [[schedule]] jobs) so that the same mistake reads the
// same in each file (docs/conventions.md "Errors"):
//   FILE:LINE: [section] key: what is wrong; the fix
//   FILE:LINE: [section]: unknown key "x"; the keys are a, b, c
// A reader remembers the keys it was asked for; check_keys refuses the others. Not thread-safe;
// one reader reads one table, on the stack of the loader.

#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

#include "core/result.h"
#include "core/time.h"

namespace flowscope {

// Parses a whole file; a syntax error becomes "FILE:LINE: what" (ErrorCode::Parse). toml++ throws
// on syntax errors: configuration loading is the boundary where docs/conventions.md "Errors"
// allows exceptions, and they end here.
Result<toml::table> parse_toml(std::string_view text, std::string_view source);

// The upper bound of TomlSection::number that is none.
inline constexpr double kNoLimit = std::numeric_limits<double>::infinity();

class TomlSection {
 public:
  // section: the name as the messages show it — "ingest" reads "[ingest]", "[udp]" reads
  // "[[udp]]" (an array of tables), "" is the top level of the file. table may be null (an absent
  // section: every key is absent).
  TomlSection(const toml::table* table, std::string_view source, std::string section);

  // "[section] key", or "key" at the top level.
  std::string name(std::string_view key) const;
  // "FILE:LINE: what", the line of node (of the table when node is null), ErrorCode::
  // InvalidArgument with the line in Error::where.
  Error error_at(const toml::node* node, std::string_view what) const;
  // "FILE:LINE: [section] key: what".
  Error key_error(const toml::node* node, std::string_view key, std::string_view what) const;

  // The node of key (null when absent), and key counts as known.
  const toml::node* find(std::string_view key);
  const toml::table* table() const { return table_; }

  // Each getter leaves out unchanged when the key is absent.
  Result<void> string(std::string_view key, std::string& out);
  Result<void> string(std::string_view key, std::optional<std::string>& out);
  // A string that must be one of allowed.
  Result<void> choice(std::string_view key, std::string& out,
                      std::span<const std::string_view> allowed);
  Result<void> boolean(std::string_view key, bool& out);
  // A whole number within [lo, hi]; hint follows the range in the message, e.g. " (0: any)".
  Result<void> integer(std::string_view key, std::int64_t& out, std::int64_t lo, std::int64_t hi,
                       std::string_view hint = "");
  template <typename T>
  Result<void> integer(std::string_view key, T& out, std::int64_t lo, std::int64_t hi,
                       std::string_view hint = "") {
    std::int64_t v = static_cast<std::int64_t>(out);
    if (auto r = integer(key, v, lo, hi, hint); !r) return r;
    out = static_cast<T>(v);
    return {};
  }
  // A number (integer or decimal) above lo (exclusive) and at most hi (kNoLimit: no upper
  // bound); what says what it counts, e.g. "seconds".
  Result<void> number(std::string_view key, double& out, double lo, double hi,
                      std::string_view what);
  // A duration in quotes ("30m"); zero is refused unless zero_allowed.
  Result<void> duration(std::string_view key, DurationMs& out, bool zero_allowed = false);
  Result<void> string_list(std::string_view key, std::vector<std::string>& out);

  // Refuses a key that is neither in known nor asked for with find or a getter:
  // FILE:LINE: [section]: unknown key "x"; the keys are a, b, c
  Result<void> check_keys(std::span<const std::string_view> known = {}) const;

 private:
  const toml::table* table_;
  std::string_view source_;
  std::string section_;
  std::vector<std::string> asked_;
};

}  // namespace flowscope
