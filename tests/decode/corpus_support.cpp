#include "decode/corpus_support.h"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "capture/pcap_source.h"
#include "core/csv.h"

namespace flowscope::testing {

std::filesystem::path corpus_dir() {
  if (const char* env = std::getenv("FLOWSCOPE_CORPUS"); env != nullptr && *env != '\0') {
    return env;
  }
  return std::filesystem::path(FLOWSCOPE_SOURCE_DIR) / "tests" / "data" / "corpus";
}

std::vector<std::filesystem::path> captures_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  if (!std::filesystem::is_directory(dir)) return out;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    auto ext = entry.path().extension();
    if (ext == ".pcap" || ext == ".pcapng") out.push_back(entry.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::vector<std::byte>> udp_payloads(const std::filesystem::path& path) {
  std::vector<std::vector<std::byte>> out;
  auto source = capture::PcapSource::open(path.string());
  if (!source) return out;
  while (true) {
    auto pkt = source->next();
    if (!pkt || !pkt->has_value()) break;
    auto udp = extract_udp(source->link_type(), (*pkt)->data);
    if (!udp) continue;
    out.emplace_back(udp->udp.payload.begin(), udp->udp.payload.end());
  }
  return out;
}

DecodedCapture decode_capture(const std::filesystem::path& path,
                              const decode::DecoderConfig& config) {
  DecodedCapture out;
  decode::FlowDecoder decoder(config);
  auto source = capture::PcapSource::open(path.string());
  if (!source) {
    out.read_error = source.error().message;
    return out;
  }
  while (true) {
    auto pkt = source->next();
    if (!pkt) {
      out.read_error = pkt.error().message;
      break;
    }
    if (!pkt->has_value()) break;
    auto udp = extract_udp(source->link_type(), (*pkt)->data);
    if (!udp) continue;
    ++out.datagrams;
    decoder.decode({udp->udp.payload, udp->ip.src, (*pkt)->timestamp}, out.batch);
  }
  decoder.finish();
  out.totals = decoder.stats().total();
  return out;
}

std::size_t decode_payloads(const std::vector<std::vector<std::byte>>& payloads,
                            decode::FlowDecoder& decoder, FlowBatch& batch) {
  std::size_t n = 0;
  for (const auto& p : payloads) n += decoder.decode({p, IpAddress::v4(0x0A000001), {}}, batch);
  return n;
}

std::vector<CsvRow> read_csv(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::vector<std::string>> rows;
  std::string line;
  std::vector<std::string> cells;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    split_csv_line(line, cells);  // the truth files have no quoted line breaks
    rows.push_back(cells);
  }
  if (rows.empty()) return {};
  std::vector<CsvRow> out;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    CsvRow row;
    for (std::size_t c = 0; c < rows[0].size() && c < rows[r].size(); ++c) {
      row[rows[0][c]] = rows[r][c];
    }
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace flowscope::testing
