#pragma once
// Importing sessions from CSV (docs/storage.md "Import"): the first line names the columns with
// registry names, session names (cln_addr, start_time, ...) or flow names (src_addr, first,
// ... as `flowscope decode --format csv` writes them; flows become one-sided sessions). Values
// use the forms `flowscope decode` prints: addresses, ISO 8601 times or epoch milliseconds,
// protocol names or numbers, TCP flags as "...A..S." or a number. An empty cell is absent.
//
// Malformed lines are skipped and counted by reason, with the first few quoted by line number;
// the import goes on. A CsvImporter reads one stream on one thread.

#include <cstdint>
#include <istream>
#include <map>
#include <string>
#include <vector>

#include "core/record_batch.h"
#include "core/result.h"

namespace flowscope::import {

struct ImportStats {
  std::uint64_t records = 0;
  std::uint64_t skipped = 0;
  std::map<std::string, std::uint64_t> skipped_by_reason;
  std::vector<std::string> examples;  // "file:12: ..." for the first skipped lines
  // Traffic of the sessions imported (client + server), counted by import::FileImporter for the
  // summary (and for checking an import against the source tool's totals, e.g. 'nfdump -I').
  std::uint64_t packets = 0;
  std::uint64_t bytes = 0;
};

class CsvImporter {
 public:
  // Reads and checks the header; `name` is used in messages ("flows.csv").
  static Result<CsvImporter> open(std::istream& in, std::string name);
  // The same, for a stream without a header line: `header` names its columns.
  static Result<CsvImporter> open(std::istream& in, std::string name, const std::string& header);

  // Appends up to `max_rows` sessions to `out`; returns false once the input is exhausted.
  bool read(SessionBatch& out, std::size_t max_rows);
  const ImportStats& stats() const { return stats_; }

 private:
  CsvImporter(std::istream& in, std::string name) : in_(&in), name_(std::move(name)) {}
  void skip(const std::string& reason, const std::string& detail);

  std::istream* in_;
  std::string name_;
  std::size_t line_ = 1;
  bool flows_ = false;            // the header uses flow names
  std::vector<FieldId> columns_;  // per CSV column, of flows_ ? Flow : Session
  ImportStats stats_;
};

}  // namespace flowscope::import
