#pragma once
// Reading flow-tools files (flow-capture, flow-cat, ...; the format pyflowtools reads; layout in
// import/flowtools_format.h): the header, then the records, inflated when the file is
// compressed. Two views of the same records:
//   - read(): one-sided sessions (client = source) for `flowscope import`, with times made
//     absolute from the record's unix_secs/sysUpTime as flow-tools does; needs addresses, so
//     open() refuses the v8 aggregations;
//   - next(): the raw records with every flow-tools field, for `flowscope export` and Python's
//     `flowtools` module; open_records() and from_bytes() accept every layout of the format.
// One reader, one thread.

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/record_batch.h"
#include "core/result.h"

#include "import/csv_import.h"
#include "import/flowtools_format.h"

namespace flowscope::import {

class FlowtoolsReader {
 public:
  // For import: reads the file, checks its header, inflates it; export versions with addresses
  // only (1, 5, 6, 7, 1005). Errors name the file.
  static Result<FlowtoolsReader> open(const std::filesystem::path& path);
  // For raw records: every layout flowtools_format.h knows.
  static Result<FlowtoolsReader> open_records(const std::filesystem::path& path);
  // The bytes of a whole file already read (standard input); `name` is for messages.
  static Result<FlowtoolsReader> from_bytes(std::string file, std::string name);

  // Appends up to `max_rows` sessions to `out`; false when no records are left.
  bool read(SessionBatch& out, std::size_t max_rows);
  // The next raw record; false at the end. A partial record at the end (a capture still being
  // written) is counted in stats() as truncated_record and not returned.
  bool next(FtRecord& out);
  // The remaining whole records as the file holds them (layout().record_size bytes each, in the
  // file's byte order, big_endian()), and the reader moved past them: Python's
  // FlowSet.to_numpy() reads them with a dtype of the layout's offsets instead of record by
  // record. The view lives as long as the reader.
  std::string_view take_records();
  // Records left (whole ones).
  std::size_t remaining() const { return (records_.size() - pos_) / layout_->record_size; }

  const ImportStats& stats() const { return stats_; }
  const FlowtoolsHeader& header() const { return header_; }
  const FtLayout& layout() const { return *layout_; }
  unsigned export_version() const { return header_.version; }
  bool big_endian() const { return header_.big_endian; }

 private:
  FlowtoolsReader() = default;
  static Result<FlowtoolsReader> parse(std::string file, std::string name);
  void note_partial_tail();

  std::string name_;
  FlowtoolsHeader header_;
  const FtLayout* layout_ = nullptr;
  std::string records_;  // the record area, inflated
  std::size_t pos_ = 0;
  ImportStats stats_;
};

}  // namespace flowscope::import
