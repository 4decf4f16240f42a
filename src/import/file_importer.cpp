#include "import/file_importer.h"

#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include <ext/stdio_filebuf.h>
#include <fmt/format.h>
#include <unistd.h>

#include "import/flowtools_reader.h"
#include "import/nfcapd_reader.h"

namespace flowscope::import {

Result<ImportMode> parse_import_mode(std::string_view text) {
  if (text == "auto") return ImportMode::Auto;
  if (text == "csv") return ImportMode::Csv;
  if (text == "flowtools") return ImportMode::Flowtools;
  if (text == "nfcapd") return ImportMode::Nfcapd;
  if (text == "nfdump") return ImportMode::Nfdump;
  return Error{ErrorCode::InvalidArgument,
               fmt::format("format \"{}\": use auto, csv, flowtools, nfcapd or nfdump", text)};
}

FileImporter::FileImporter(Sink sink, Progress progress, std::size_t batch_rows)
    : sink_(std::move(sink)),
      progress_(std::move(progress)),
      batch_rows_(batch_rows),
      batch_(batch_rows) {}

namespace {

template <FieldId F>
std::uint64_t column_sum(const SessionBatch& batch) {
  const auto values = batch.values<F>();
  const Column& col = batch.column(F);
  std::uint64_t total = 0;
  for (std::size_t row = 0; row < values.size(); ++row) {
    if (col.valid(row)) total += values[row];
  }
  return total;
}

}  // namespace

std::string import_summary(const std::string& file, const ImportStats& stats) {
  std::string text = fmt::format("{}: imported {} records", file, stats.records);
  if (stats.skipped > 0) {
    text += fmt::format(", skipped {} (", stats.skipped);
    bool first = true;
    for (const auto& [reason, n] : stats.skipped_by_reason) {
      text += fmt::format("{}{} {}", first ? "" : ", ", reason, n);
      first = false;
    }
    text += ")";
  }
  text += '\n';
  for (const auto& e : stats.examples) text += "  skipped: " + e + '\n';
  if (stats.records > 0) {
    text += fmt::format("  traffic: {} packets, {} bytes\n", stats.packets, stats.bytes);
  }
  return text;
}

Result<void> FileImporter::flush() {
  if (batch_.empty()) return ok();
  packets_ += column_sum<FieldId::ClnPackets>(batch_) + column_sum<FieldId::SrvPackets>(batch_);
  bytes_ += column_sum<FieldId::ClnBytes>(batch_) + column_sum<FieldId::SrvBytes>(batch_);
  auto r = sink_(batch_);
  batch_.clear();
  return r;
}

void FileImporter::report(const std::string& name, std::uint64_t records) {
  if (records == reported_ || !progress_) return;
  reported_ = records;
  progress_(name, records);
}

// The readers fill the batch up to batch_rows_; CSV (and nfdump's CSV) hand each read on at
// once, the binary readers when the batch is full.
template <typename Reader>
Result<ImportStats> FileImporter::read_all(Reader& reader, const std::string& name,
                                           bool flush_each_read) {
  while (reader.read(batch_, batch_rows_ - batch_.size())) {
    if (flush_each_read || batch_.size() >= batch_rows_) {
      if (auto r = flush(); !r) return r.error();
    }
    report(name, reader.stats().records);
  }
  if (auto r = flush(); !r) return r.error();
  report(name, reader.stats().records);
  return reader.stats();
}

Result<ImportStats> FileImporter::finish_file(Result<ImportStats> stats) {
  if (stats) {
    stats->packets = packets_;
    stats->bytes = bytes_;
  }
  return stats;
}

Result<ImportStats> FileImporter::import_file(const std::string& path, ImportMode mode) {
  const std::string name = std::filesystem::path(path).filename().string();
  batch_.clear();
  reported_ = 0;
  packets_ = 0;
  bytes_ = 0;
  if (mode == ImportMode::Nfdump) return finish_file(import_via_nfdump(path, name));
  ImportFormat format = ImportFormat::Csv;
  switch (mode) {
    case ImportMode::Csv: format = ImportFormat::Csv; break;
    case ImportMode::Flowtools: format = ImportFormat::Flowtools; break;
    case ImportMode::Nfcapd: format = ImportFormat::Nfcapd; break;
    default: {
      auto sniffed = sniff_file(path);
      if (!sniffed) return sniffed.error();
      format = *sniffed;
    }
  }
  switch (format) {
    case ImportFormat::Nfcapd: {
      auto reader = NfcapdReader::open(path);
      if (!reader) return reader.error();
      return finish_file(read_all(*reader, name, false));
    }
    case ImportFormat::Flowtools: {
      auto reader = FlowtoolsReader::open(path);
      if (!reader) return reader.error();
      return finish_file(read_all(*reader, name, false));
    }
    case ImportFormat::Csv: break;
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorCode::Io, "cannot open " + path + ": check the path and permissions"};
  }
  auto importer = CsvImporter::open(in, name);
  if (!importer) return importer.error();
  return finish_file(read_all(*importer, name, true));
}

// nfcapd files read through nfdump itself, the fallback to the native reader for what it
// refuses (nfdump 1.6 files, which nfdump 1.7 still reads): nfdump prints the fields of
// kNfdumpCsvFormat as CSV, imported with flow names. TZ=UTC because nfdump prints local times;
// -6 because nfdump shortens long IPv6 addresses otherwise.
Result<ImportStats> FileImporter::import_via_nfdump(const std::string& path,
                                                    const std::string& name) {
  int fds[2];
  if (::pipe(fds) != 0) return Error{ErrorCode::Io, "cannot create a pipe for nfdump"};
  const pid_t pid = ::fork();
  if (pid < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return Error{ErrorCode::Io, "cannot start nfdump"};
  }
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::close(fds[0]);
    ::close(fds[1]);
    ::setenv("TZ", "UTC", 1);
    ::execlp("nfdump", "nfdump", "-6", "-q", "-N", "-r", path.c_str(), "-o", kNfdumpCsvFormat,
             static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(fds[1]);
  Result<ImportStats> result = ImportStats{};
  {
    __gnu_cxx::stdio_filebuf<char> buf(fds[0], std::ios::in);  // closes fds[0] at scope end
    std::istream in(&buf);
    // Lines go through fix_nfdump_icmp_port in chunks to one importer (which keeps its line
    // numbers and counts across chunks).
    std::stringstream chunk;
    auto importer = CsvImporter::open(chunk, name, kNfdumpCsvColumns);
    if (!importer) result = importer.error();
    std::string line, pending;
    bool more = importer.has_value();
    while (more && result) {
      pending.clear();
      for (int line_idx = 0; line_idx < 16384; ++line_idx) {
        if (!std::getline(in, line)) {
          more = false;
          break;
        }
        fix_nfdump_icmp_port(line);
        pending += line;
        pending += '\n';
      }
      chunk.clear();
      chunk.str(pending);
      while (importer->read(batch_, batch_rows_ - batch_.size())) {
        if (auto r = flush(); !r) {
          result = r.error();
          break;
        }
        report(name, importer->stats().records);
      }
    }
    if (result) {
      if (auto r = flush(); !r) result = r.error();
      report(name, importer->stats().records);
    }
    if (result) result = importer->stats();
    batch_.clear();
  }
  // The pipe is closed: nfdump ends (at the latest by SIGPIPE) when we stopped early.
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (!result) return result;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Error{
        ErrorCode::Io,
        fmt::format("{}: nfdump failed (exit {}); --format nfdump reads nfcapd files "
                    "with nfdump: install it (apt-get install nfdump) and check that "
                    "'nfdump -r {}' works",
                    path, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), path)};
  }
  return result;
}

}  // namespace flowscope::import
