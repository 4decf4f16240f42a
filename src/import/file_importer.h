#pragma once
// Importing flow files into sessions (docs/storage.md "Import"), what `flowscope import` calls:
// per file, the format (given, or sniffed by import/format_sniff.h), its reader (CSV, flow-tools,
// nfcapd; or nfdump's own CSV output for nfcapd files the native reader refuses, the "nfdump"
// mode), batches of sessions handed to a sink (the store's append), and progress reported
// through a callback. A FileImporter is used by one thread; it reuses one batch for every file.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/record_batch.h"
#include "core/result.h"

#include "import/csv_import.h"
#include "import/format_sniff.h"

namespace flowscope::import {

// --format of `flowscope import`: Auto sniffs; Nfdump reads nfcapd files through
// `nfdump -o csv` (nfdump must be installed).
enum class ImportMode : std::uint8_t { Auto, Csv, Flowtools, Nfcapd, Nfdump };

// "auto", "csv", "flowtools", "nfcapd", "nfdump".
Result<ImportMode> parse_import_mode(std::string_view text);

inline constexpr std::size_t kImportBatchRows = 65536;

// What `flowscope import` prints for one file: "FILE: imported N records[, skipped M (reason n,
// ...)]", the skipped examples, and the traffic imported.
std::string import_summary(const std::string& file, const ImportStats& stats);

class FileImporter {
 public:
  // Receives each batch of sessions read (up to kImportBatchRows rows); an error stops the file.
  using Sink = std::function<Result<void>(const SessionBatch&)>;
  // Called with the file's name (no directory) and the number of records read from it so far,
  // each time that number grew; the last call of a file gives its ImportStats::records.
  using Progress = std::function<void(std::string_view name, std::uint64_t records)>;

  explicit FileImporter(Sink sink, Progress progress = {},
                        std::size_t batch_rows = kImportBatchRows);

  // Reads the file at `path` and hands its sessions to the sink. Lines and records that do not
  // parse are skipped and counted in the stats, with the traffic imported; an error means the
  // file could not be read (or the sink failed) and names the file.
  Result<ImportStats> import_file(const std::string& path, ImportMode mode = ImportMode::Auto);

 private:
  template <typename Reader>
  Result<ImportStats> read_all(Reader& reader, const std::string& name, bool flush_each_read);
  Result<ImportStats> finish_file(Result<ImportStats> stats);
  Result<ImportStats> import_via_nfdump(const std::string& path, const std::string& name);
  Result<void> flush();
  void report(const std::string& name, std::uint64_t records);

  Sink sink_;
  Progress progress_;
  std::uint64_t packets_ = 0;  // traffic handed to the sink for this file
  std::uint64_t bytes_ = 0;
  std::size_t batch_rows_;
  SessionBatch batch_;
  std::uint64_t reported_ = 0;  // the last count given to progress_ for this file
};

}  // namespace flowscope::import
