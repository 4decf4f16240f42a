#pragma once
// Reading flow-tools files (flow-capture, flow-cat, ...; the format pyflowtools reads): a header
// of TLVs (byte order, export version, flags) then fixed-size NetFlow records, optionally one
// zlib stream. Export versions 1, 5 and 7 are read; the others (6, 8.x aggregations, 1005) are
// refused with a clear error. Records become one-sided sessions (client = source), with times
// made absolute from the record's unix_secs/sysUpTime as flow-tools does.
// Layouts: adsr/flow-tools lib/ftlib.h (struct fts3rec_v1, _v5, _v7). One reader, one thread.

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/record_batch.h"
#include "core/result.h"
#include "store/csv_import.h"

namespace flowscope::store {

class FlowtoolsReader {
 public:
  // Reads the file, checks its header and inflates it when compressed. Errors name the file.
  static Result<FlowtoolsReader> open(const std::filesystem::path& path);

  // Appends up to `max_rows` sessions to `out`; false when no records are left.
  bool read(SessionBatch& out, std::size_t max_rows);
  const ImportStats& stats() const { return stats_; }
  unsigned export_version() const { return version_; }
  bool big_endian() const { return big_endian_; }

 private:
  FlowtoolsReader() = default;
  std::string name_;
  std::string records_;  // the record area, inflated
  std::size_t pos_ = 0;
  std::size_t record_size_ = 0;
  unsigned version_ = 0;
  bool big_endian_ = false;
  ImportStats stats_;
};

}  // namespace flowscope::store
