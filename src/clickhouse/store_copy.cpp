// `flowscope store copy`: a backend's raw sessions into an empty cluster (store_copy.h).
#include "clickhouse/store_copy.h"

#include <chrono>

#include <fmt/format.h>

namespace flowscope::clickhouse {

Result<CopySummary> copy_to_clickhouse(const store::Backend& src, ClickHouseOptions options,
                                       std::string_view url) {
  auto dst = ClickHouseBackend::open(std::move(options));
  if (!dst) return dst.error();
  auto existing = (*dst)->count_rows();
  if (!existing) return existing.error();
  if (*existing > 0) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("{} already holds {} sessions; copy into an empty database "
                             "(another name after the last /)",
                             url, *existing)};
  }
  const auto t0 = std::chrono::steady_clock::now();
  CopySummary summary;
  Error failure;
  bool failed = false;
  auto scanned = src.scan({}, [&](const SessionBatch& batch) {
    auto r = (*dst)->append(batch);
    if (!r) {
      failure = r.error();
      failed = true;
      return false;
    }
    summary.rows += batch.size();
    return true;
  });
  if (!scanned) return scanned.error();
  if (failed) return failure;
  if (auto f = (*dst)->flush(); !f) return f.error();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  summary.rows_spilled_now = (*dst)->stats().rows_spilled_now;
  return summary;
}

}  // namespace flowscope::clickhouse
