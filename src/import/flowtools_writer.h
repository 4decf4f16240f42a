#pragma once
// Writing flow-tools files (format: import/flowtools_format.h) as flow-tools' own programs do:
// the stream-version-3 header with its TLVs, then the records in the header's byte order and
// export version (1, 5, 6, 7, 8.1, 1005), as one zlib stream at levels 1-9 (level 0: plain,
// no COMPRESS flag). Used by `flowscope export --format flow-tools` and Python's
// flowtools.FlowSet(path, True). With the same header the bytes equal flow-tools' (checked
// against the corpus in python/tests and tests/store).
//
// The header is written at create(); close() finishes the zlib stream and, when the header has
// a FLOW_COUNT TLV and the output is seekable, rewrites it in place with the number of records
// written (flow-capture rewrites its header the same way; the size does not change). Writing to
// "-" is standard output, where nothing is rewritten. One writer, one thread.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "core/result.h"

#include "import/flowtools_format.h"

namespace flowscope::import {

struct FlowtoolsWriteOptions {
  int z_level = 0;                // 0 = not compressed, 1..9 = zlib level
  bool update_flow_count = true;  // at close, FLOW_COUNT = records written (when the TLV is set)
};

class FlowtoolsWriter {
 public:
  // `path` "-" writes to standard output. The header's COMPRESS flag follows options.z_level.
  static Result<FlowtoolsWriter> create(const std::filesystem::path& path, FlowtoolsHeader header,
                                        const FlowtoolsWriteOptions& options = {});
  FlowtoolsWriter(FlowtoolsWriter&&) noexcept;
  FlowtoolsWriter& operator=(FlowtoolsWriter&&) noexcept;
  FlowtoolsWriter(const FlowtoolsWriter&) = delete;
  FlowtoolsWriter& operator=(const FlowtoolsWriter&) = delete;
  // Closes if close() was not called; an error then goes to the log (call close() to see it).
  ~FlowtoolsWriter();

  // Fields the export version lacks are left out.
  Result<void> write(const FtRecord& record);
  Result<void> close();

  const FlowtoolsHeader& header() const;
  const FtLayout& layout() const;
  std::uint64_t records_written() const;

 private:
  struct State;
  explicit FlowtoolsWriter(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace flowscope::import
