#pragma once
// Helpers for the corpus tests: where the shared corpus is, decoding a capture through the same
// path as `flowscope decode` (PcapSource -> extract_udp -> FlowDecoder), and a CSV reader for
// the tshark truth files (corpus/README.md "Flow truth format").

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/record_batch.h"
#include "decode/flow_decoder.h"

namespace flowscope::testing {

// $FLOWSCOPE_CORPUS, else tests/data/corpus in the source tree.
std::filesystem::path corpus_dir();

// The captures (*.pcap, *.pcapng) of a corpus folder, sorted.
std::vector<std::filesystem::path> captures_in(const std::filesystem::path& dir);

struct DecodedCapture {
  FlowBatch batch;
  decode::ExporterStats totals;
  std::size_t datagrams = 0;
  std::string read_error;  // a file cut short
};

// Decodes every UDP datagram of a capture (all corpus captures carry only flow export).
DecodedCapture decode_capture(const std::filesystem::path& path,
                              const decode::DecoderConfig& config = {});

// Decodes raw UDP payloads (for mutated inputs); never fails.
std::size_t decode_payloads(const std::vector<std::vector<std::byte>>& payloads,
                            decode::FlowDecoder& decoder, FlowBatch& batch);

// UDP payloads of a capture, in order.
std::vector<std::vector<std::byte>> udp_payloads(const std::filesystem::path& path);

using CsvRow = std::map<std::string, std::string>;
// RFC 4180 CSV with a header line.
std::vector<CsvRow> read_csv(const std::filesystem::path& path);

}  // namespace flowscope::testing
