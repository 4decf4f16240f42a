// libFuzzer target: CSV import (`flowscope import --format csv`, import/csv_import.h). The
// first byte picks whether a header is given apart (as --header does) or read from the input;
// any text gives rows or counted skips with reasons, never a crash.
#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>

#include "import/csv_import.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::istringstream in(std::string(reinterpret_cast<const char*>(data + 1), size - 1));
  auto importer = (data[0] & 1) ? flowscope::import::CsvImporter::open(
                                      in, "fuzz.csv", "start_time,cln_addr,srv_addr,srv_port,bytes")
                                : flowscope::import::CsvImporter::open(in, "fuzz.csv");
  if (!importer) return 0;
  flowscope::SessionBatch batch;
  while (importer->read(batch, 128)) batch = flowscope::SessionBatch();
  return 0;
}
