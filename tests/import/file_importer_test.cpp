// The import module's own seams: which format a file is from its bytes (import/format_sniff.h)
// and the file importer's progress callback and sink (import/file_importer.h).
#include "import/file_importer.h"

#include <filesystem>
#include <fstream>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "import/format_sniff.h"

namespace flowscope::import {
namespace {

std::filesystem::path source_path(const std::string& relative) {
  return std::filesystem::path(FLOWSCOPE_SOURCE_DIR) / relative;
}

std::vector<std::byte> bytes_of(std::initializer_list<int> values) {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

std::vector<std::byte> bytes_of(std::string_view text) {
  const auto s = std::as_bytes(std::span(text.data(), text.size()));
  return {s.begin(), s.end()};
}

// A file under /tmp removed at the end of the test.
class TempFile {
 public:
  TempFile(const std::string& name, std::string_view contents)
      : path_(std::filesystem::temp_directory_path() /
              ("flowscope_import_" + std::to_string(::getpid()) + "_" + name)) {
    std::ofstream(path_, std::ios::binary)
        .write(contents.data(), static_cast<std::streamsize>(contents.size()));
  }
  ~TempFile() { std::filesystem::remove(path_); }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;
  std::string path() const { return path_.string(); }

 private:
  std::filesystem::path path_;
};

TEST(FormatSniff, EachFormatIsRecognisedFromItsFirstBytes) {
  auto ft = sniff_format(bytes_of({0xCF, 0x10, 0x01, 0x00, 0x05}), "a.ft");
  ASSERT_TRUE(ft.has_value()) << ft.error().message;
  EXPECT_EQ(*ft, ImportFormat::Flowtools);
  auto nf = sniff_format(bytes_of({0x0C, 0xA5, 0x02, 0x00}), "nfcapd.1");
  ASSERT_TRUE(nf.has_value()) << nf.error().message;
  EXPECT_EQ(*nf, ImportFormat::Nfcapd);
  auto csv =
      sniff_format(bytes_of("cln_addr,srv_addr,srv_port\r\n10.0.0.1,\"a\tb\",80\n"), "s.csv");
  ASSERT_TRUE(csv.has_value()) << csv.error().message;
  EXPECT_EQ(*csv, ImportFormat::Csv);
  // An empty file is CSV, whose reader then says that the header line is missing.
  auto empty = sniff_format({}, "empty.csv");
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(*empty, ImportFormat::Csv);
  EXPECT_EQ(import_format_name(ImportFormat::Flowtools), "flowtools");
  EXPECT_EQ(import_format_name(ImportFormat::Nfcapd), "nfcapd");
  EXPECT_EQ(import_format_name(ImportFormat::Csv), "csv");
}

TEST(FormatSniff, RealFilesOfEachFormat) {
  const auto ft = source_path("tests/data/corpus/flowtools/nf5_cap_be_z0.ft");
  const auto nf = source_path("tests/store/data/nfcapd-gen-v9-lz4");
  if (!std::filesystem::exists(ft)) GTEST_SKIP() << "corpus not found at " << ft;
  EXPECT_EQ(sniff_file(ft.string()).value_or(ImportFormat::Csv), ImportFormat::Flowtools);
  EXPECT_EQ(sniff_file(nf.string()).value_or(ImportFormat::Csv), ImportFormat::Nfcapd);
  const auto missing = sniff_file("/nonexistent/flows.csv");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("/nonexistent/flows.csv"), std::string::npos);
}

TEST(FormatSniff, AnUnknownFormatIsAnErrorNamingTheFormatsItKnows) {
  auto r = sniff_format(bytes_of({0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A}), "x.png");
  ASSERT_FALSE(r.has_value());
  const std::string& msg = r.error().message;
  EXPECT_NE(msg.find("x.png"), std::string::npos) << msg;
  EXPECT_NE(msg.find("CSV"), std::string::npos) << msg;
  EXPECT_NE(msg.find("flow-tools"), std::string::npos) << msg;
  EXPECT_NE(msg.find("nfcapd"), std::string::npos) << msg;
  EXPECT_NE(msg.find("--format"), std::string::npos) << msg;

  // The importer refuses such a file before handing anything on.
  TempFile bin("unknown.bin", std::string("\x00\x01\x02\xff\xfe", 5));
  std::size_t sink_calls = 0;
  FileImporter importer([&](const SessionBatch&) -> Result<void> {
    ++sink_calls;
    return ok();
  });
  auto stats = importer.import_file(bin.path());
  ASSERT_FALSE(stats.has_value());
  EXPECT_NE(stats.error().message.find("flow-tools"), std::string::npos);
  EXPECT_EQ(sink_calls, 0u);
}

TEST(FileImporter, ModesParseFromTheirNames) {
  EXPECT_EQ(parse_import_mode("auto").value_or(ImportMode::Csv), ImportMode::Auto);
  EXPECT_EQ(parse_import_mode("nfdump").value_or(ImportMode::Csv), ImportMode::Nfdump);
  EXPECT_EQ(parse_import_mode("flowtools").value_or(ImportMode::Csv), ImportMode::Flowtools);
  EXPECT_FALSE(parse_import_mode("pcap").has_value());
}

// Imports `path` with small batches; checks that progress counts grow, that the last one is the
// number of records imported, and that the sink saw exactly those rows.
void expect_progress_up_to_the_total(const std::string& path, ImportMode mode) {
  std::vector<std::uint64_t> counts;
  std::uint64_t rows = 0;
  FileImporter importer(
      [&](const SessionBatch& batch) -> Result<void> {
        rows += batch.size();
        return ok();
      },
      [&](std::string_view name, std::uint64_t records) {
        EXPECT_EQ(name, std::filesystem::path(path).filename().string());
        counts.push_back(records);
      },
      7);
  auto stats = importer.import_file(path, mode);
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  ASSERT_GT(stats->records, 7u) << path;
  ASSERT_GE(counts.size(), 2u) << path;
  for (std::size_t i = 1; i < counts.size(); ++i) EXPECT_LT(counts[i - 1], counts[i]) << path;
  EXPECT_EQ(counts.back(), stats->records) << path;
  EXPECT_EQ(rows, stats->records) << path;
}

TEST(FileImporter, ProgressGrowsToTheNumberOfRecordsImported) {
  const auto ft = source_path("tests/data/corpus/flowtools/nf5_cap_be_z0.ft");
  if (!std::filesystem::exists(ft)) GTEST_SKIP() << "corpus not found at " << ft;
  expect_progress_up_to_the_total(ft.string(), ImportMode::Auto);
  expect_progress_up_to_the_total(source_path("tests/store/data/nfcapd-gen-v9-lz4").string(),
                                  ImportMode::Auto);
  std::string csv = "cln_addr,srv_addr,srv_port,proto,start_time,cln_bytes\n";
  for (int i = 0; i < 50; ++i) {
    csv += "10.0.0." + std::to_string(i) + ",192.0.2.1,443,tcp,1764000000000,100\n";
  }
  csv += "10.0.0.1,not-an-ip,443,tcp,1764000000000,100\n";  // skipped, not imported
  TempFile file("progress.csv", csv);
  expect_progress_up_to_the_total(file.path(), ImportMode::Auto);
  expect_progress_up_to_the_total(file.path(), ImportMode::Csv);

  // The summary `flowscope import` prints: counts, reasons, the traffic imported.
  FileImporter importer([](const SessionBatch&) -> Result<void> { return ok(); });
  auto stats = importer.import_file(file.path());
  ASSERT_TRUE(stats.has_value()) << stats.error().message;
  EXPECT_EQ(stats->bytes, 50u * 100u);
  const std::string summary = import_summary("p.csv", *stats);
  EXPECT_EQ(summary.rfind("p.csv: imported 50 records, skipped 1 (bad_value 1)\n", 0), 0u)
      << summary;
  EXPECT_NE(summary.find("  traffic: 0 packets, 5000 bytes\n"), std::string::npos) << summary;
}

TEST(FileImporter, ASinkErrorStopsTheFile) {
  TempFile file("sink.csv", "cln_addr,srv_port\n10.0.0.1,1\n10.0.0.2,2\n");
  FileImporter importer([](const SessionBatch&) -> Result<void> {
    return Error{ErrorCode::Io, "disk full"};
  });
  auto stats = importer.import_file(file.path());
  ASSERT_FALSE(stats.has_value());
  EXPECT_EQ(stats.error().message, "disk full");
}

}  // namespace
}  // namespace flowscope::import
