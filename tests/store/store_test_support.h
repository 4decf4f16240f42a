#pragma once
// Helpers for the store tests: a temporary directory removed at the end of the test, sessions
// with every stored field set (edge values included), and collecting scans.

#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "core/record_batch.h"
#include "store/backend.h"

namespace flowscope::store::testing {

// A fresh directory under /tmp, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Sets every stored session field of `row`: variant 0 all minimums (zero, empty string),
// 1 all maximums, 2 and more seeded pseudo-random values (long and non-ASCII strings, IPv4 and
// IPv6 addresses). start_time is `start_ms` unless the variant sets an extreme.
void fill_every_field(SessionBatch& batch, std::size_t row, std::uint64_t variant,
                      std::int64_t start_ms);

// A batch of `rows` simple sessions: session_id = first_id + i, start_time = start_ms + i * step,
// a few addresses and ports, bytes and packets derived from the id.
SessionBatch make_sessions(std::uint64_t first_id, std::size_t rows, std::int64_t start_ms,
                           std::int64_t step_ms = 1000);

// Every row of a scan, all columns, in scan order.
SessionBatch scan_all(const Backend& backend, const ScanRequest& request = {},
                      ScanStats* stats = nullptr);

// "" when rows a[ra] and b[rb] are equal in every stored column (values and validity), else a
// description of the first difference.
std::string compare_rows(const SessionBatch& a, std::size_t ra, const SessionBatch& b,
                         std::size_t rb);

}  // namespace flowscope::store::testing
