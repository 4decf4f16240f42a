#include "import/format_sniff.h"

#include <fstream>
#include <vector>

#include <fmt/format.h>

#include "import/nfcapd_reader.h"

namespace flowscope::import {
namespace {

bool looks_like_text(std::span<const std::byte> head) {
  for (std::byte b : head) {
    const auto c = static_cast<unsigned char>(b);
    if ((c < 0x20 && c != '\t' && c != '\r' && c != '\n') || c == 0x7F) return false;
  }
  return true;
}

}  // namespace

std::string_view import_format_name(ImportFormat format) {
  switch (format) {
    case ImportFormat::Csv: return "csv";
    case ImportFormat::Flowtools: return "flowtools";
    case ImportFormat::Nfcapd: return "nfcapd";
  }
  return "";
}

Result<ImportFormat> sniff_format(std::span<const std::byte> head, std::string_view name) {
  if (head.size() >= 2 && head[0] == std::byte{0xCF} && head[1] == std::byte{0x10}) {
    return ImportFormat::Flowtools;
  }
  const std::string_view text(reinterpret_cast<const char*>(head.data()), head.size());
  if (is_nfcapd_magic(text)) return ImportFormat::Nfcapd;
  if (looks_like_text(head)) return ImportFormat::Csv;
  return Error{ErrorCode::Unsupported,
               fmt::format("{}: not a flow file flowscope reads: expected CSV (text whose first "
                           "line names the columns), flow-tools (starts 0xCF 0x10) or nfdump's "
                           "nfcapd (magic 0xA50C); say which with --format csv, flowtools, "
                           "nfcapd or nfdump",
                           name)};
}

Result<ImportFormat> sniff_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorCode::Io,
                 fmt::format("cannot open {}: check the path and permissions", path)};
  }
  std::vector<char> head(kSniffBytes);
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<std::size_t>(in.gcount()));
  return sniff_format(std::as_bytes(std::span(head)), path);
}

}  // namespace flowscope::import
