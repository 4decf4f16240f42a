// NfcapdReader: differential against nfdump 1.7 on the files of tests/store/data (every
// compression nfcapd writes, NetFlow v5/v9/IPFIX, IPv4 and IPv6) and on multi-block files nfcapd
// writes during the test; ZSTD blocks, hand-made files with unknown record types, unknown and
// damaged elements, and damaged, cut and refused files.
#include "import/nfcapd_reader.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <lz4.h>
#include <signal.h>
#include <unistd.h>
#include <zstd.h>

#include "store/file_util.h"
#include "store/store_test_support.h"

#include "import/csv_import.h"

namespace flowscope::import {
namespace {

const std::filesystem::path kData =
    std::filesystem::path(FLOWSCOPE_SOURCE_DIR) / "tests" / "store" / "data";

std::vector<std::filesystem::path> nfcapd_files() {
  std::vector<std::filesystem::path> out;
  for (const auto& entry : std::filesystem::directory_iterator(kData)) {
    if (entry.path().filename().string().starts_with("nfcapd-")) out.push_back(entry.path());
  }
  // More files to compare (e.g. made from the corpus captures, see tests/store/data/README.md).
  if (const char* extra = std::getenv("FLOWSCOPE_NFCAPD_DIR"); extra != nullptr && *extra) {
    for (const auto& entry : std::filesystem::directory_iterator(extra)) {
      out.push_back(entry.path());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

bool have_nfdump() { return std::system("nfdump -V > /dev/null 2>&1") == 0; }

std::string run(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[1 << 16];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

// The file as nfdump prints it, imported like `flowscope import --format nfdump` does. ICMP
// "type.code" destination ports become type * 256 + code, what the native reader keeps.
SessionBatch sessions_via_nfdump(const std::filesystem::path& file, ImportStats& stats) {
  std::string csv =
      run(fmt::format("TZ=UTC nfdump -6 -q -N -r '{}' -o '{}'", file.string(), kNfdumpCsvFormat));
  std::string fixed;
  std::istringstream lines(csv);
  for (std::string line; std::getline(lines, line);) {
    fix_nfdump_icmp_port(line);
    fixed += line + "\n";
  }
  std::istringstream in(fixed);
  auto importer = CsvImporter::open(in, file.filename().string(), kNfdumpCsvColumns);
  EXPECT_TRUE(importer.has_value());
  SessionBatch out;
  if (!importer) return out;
  while (importer->read(out, 4096)) {
  }
  stats = importer->stats();
  return out;
}

SessionBatch sessions_native(NfcapdReader& reader) {
  SessionBatch out;
  while (reader.read(out, 1000)) {
  }
  return out;
}

// Every stored session column: same validity and value in every row. Returns the differences,
// the first few spelled out.
std::size_t diff_batches(const SessionBatch& want, const SessionBatch& got, std::string& report) {
  std::size_t diffs = 0;
  if (want.size() != got.size()) {
    report += fmt::format("rows: nfdump {} native {}\n", want.size(), got.size());
    return 1;
  }
  for (const Column& w : want.columns()) {
    const Column& g = got.column(w.field());
    for (std::size_t row = 0; row < want.size(); ++row) {
      bool same = w.valid(row) == g.valid(row);
      if (same && w.valid(row)) {
        same = std::visit(
            [&](const auto& wd) {
              using D = std::decay_t<decltype(wd)>;
              const D& gd = std::get<D>(g.data());
              if constexpr (std::is_same_v<D, StringColumn>) {
                return wd.get(row) == gd.get(row);
              } else {
                return wd[row] == gd[row];
              }
            },
            w.data());
      }
      if (!same && ++diffs <= 10) {
        report += fmt::format("row {} field {} differs (valid {} / {})\n", row,
                              field_info(w.field()).name, w.valid(row), g.valid(row));
      }
    }
  }
  return diffs;
}

TEST(NfcapdReader, SameSessionsAsThroughNfdumpForEveryTestFile) {
  if (!have_nfdump()) GTEST_SKIP() << "nfdump is not installed: nothing to compare with";
  const auto files = nfcapd_files();
  ASSERT_GE(files.size(), 8u);
  std::set<NfcapdCompression> compressions;
  for (const auto& file : files) {
    SCOPED_TRACE(file.string());
    auto reader = NfcapdReader::open(file);
    ASSERT_TRUE(reader.has_value()) << reader.error().message;
    compressions.insert(reader->info().compression);
    const SessionBatch native = sessions_native(*reader);
    ImportStats nfdump_stats;
    const SessionBatch via_nfdump = sessions_via_nfdump(file, nfdump_stats);
    EXPECT_EQ(nfdump_stats.skipped, 0u) << "nfdump printed lines the CSV import refused";
    EXPECT_EQ(reader->stats().skipped, 0u);
    EXPECT_GT(native.size(), 0u);
    EXPECT_EQ(reader->stats().records, native.size());
    std::string report;
    EXPECT_EQ(diff_batches(via_nfdump, native, report), 0u) << report;
  }
  // The committed files cover every compression nfdump 1.7.1 writes.
  EXPECT_EQ(compressions.size(), 4u);
}

// A free UDP port on 127.0.0.1 (bound and released: nfcapd binds it right after).
int free_udp_port() {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

// Files nfcapd writes now, in every compression, of 20000 flows (several data blocks):
// nfcapd on a loopback port, `flowscope gen flows` sending to it, nfcapd stopped by its PID.
TEST(NfcapdReader, SameAsNfdumpOnMultiBlockFilesNfcapdWritesNow) {
  if (!have_nfdump() || std::system("command -v nfcapd > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "nfdump/nfcapd are not installed";
  }
  for (const char* flag : {"", "-y", "-z", "-j"}) {
    SCOPED_TRACE(std::string("nfcapd ") + flag);
    store::testing::TempDir dir;
    const int port = free_udp_port();
    ASSERT_GT(port, 0);
    const std::string port_text = std::to_string(port);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      const int null = ::open("/dev/null", O_WRONLY);
      ::dup2(null, 1);
      ::dup2(null, 2);
      if (*flag != '\0') {
        ::execlp("nfcapd", "nfcapd", "-b", "127.0.0.1", "-p", port_text.c_str(), "-w",
                 dir.path().c_str(), "-t", "3600", flag, static_cast<char*>(nullptr));
      } else {
        ::execlp("nfcapd", "nfcapd", "-b", "127.0.0.1", "-p", port_text.c_str(), "-w",
                 dir.path().c_str(), "-t", "3600", static_cast<char*>(nullptr));
      }
      _exit(127);
    }
    ::usleep(500'000);
    const std::string gen = std::string(FLOWSCOPE_BINARY) +
                            " gen flows --format v9 --seed 7 --count 20000 --rate 50000 "
                            "--ipv6-share 0.3 -q --to 127.0.0.1:" +
                            port_text;
    EXPECT_EQ(std::system(gen.c_str()), 0);
    ::usleep(300'000);
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    std::filesystem::path file;
    for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
      if (entry.path().filename().string().starts_with("nfcapd.2")) file = entry.path();
    }
    ASSERT_FALSE(file.empty()) << "nfcapd wrote no file";
    auto reader = NfcapdReader::open(file);
    ASSERT_TRUE(reader.has_value()) << reader.error().message;
    EXPECT_GT(reader->info().blocks, 1u);
    const SessionBatch native = sessions_native(*reader);
    EXPECT_GT(native.size(), 10000u);  // UDP on loopback may lose a few datagrams
    EXPECT_EQ(reader->stats().skipped, 0u);
    ImportStats nfdump_stats;
    const SessionBatch via_nfdump = sessions_via_nfdump(file, nfdump_stats);
    EXPECT_EQ(nfdump_stats.skipped, 0u);
    std::string report;
    EXPECT_EQ(diff_batches(via_nfdump, native, report), 0u) << report;
  }
}

TEST(NfcapdReader, IcmpPortsOfNfdumpCsvBecomeTypeTimes256PlusCode) {
  std::string line = "2026-01-01 00:00:00.000,x,10.0.0.1,10.0.0.2,     0,   8.3,1    ,........";
  fix_nfdump_icmp_port(line);
  EXPECT_EQ(line, "2026-01-01 00:00:00.000,x,10.0.0.1,10.0.0.2,     0,2051,1    ,........");
  std::string tcp = "a,b,c,d,1,  443,6";
  fix_nfdump_icmp_port(tcp);
  EXPECT_EQ(tcp, "a,b,c,d,1,  443,6");
  std::string odd = "a,b,c,d,1,1.2.3,6";
  fix_nfdump_icmp_port(odd);
  EXPECT_EQ(odd, "a,b,c,d,1,1.2.3,6");
}

TEST(NfcapdReader, ReadsHeaderAndValuesOfAKnownFile) {
  // Two flows of one TCP session, exported by softflowd as NetFlow v5 (see data/README.md).
  auto reader = NfcapdReader::open(kData / "nfcapd-softflowd-2flows");
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  EXPECT_EQ(reader->info().nfdump_version >> 8, 0x010701u);
  EXPECT_EQ(reader->info().compression, NfcapdCompression::None);
  FlowBatch flows;
  while (reader->read_flows(flows, 100)) {
  }
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows.get<FieldId::Proto>(0), 6);
  EXPECT_EQ(flows.get<FieldId::First>(0), 1'794'427'271'806);  // 2026-11-11T20:01:11.806Z
  EXPECT_EQ(flows.get<FieldId::SrcAddr>(0).to_string(), flows.get<FieldId::DstAddr>(1).to_string());
  EXPECT_EQ(flows.get<FieldId::SrcPort>(0), flows.get<FieldId::DstPort>(1));
}

// --- hand-made files ------------------------------------------------------------------------

void put_le(std::string& out, std::uint64_t v, int width) {
  for (int i = 0; i < width; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}

std::string file_header(std::uint32_t blocks, std::uint8_t compression = 0,
                        std::uint16_t version = 2, std::uint8_t encryption = 0) {
  std::string h;
  put_le(h, 0xA50C, 2);
  put_le(h, version, 2);
  put_le(h, 0x01070100, 4);
  put_le(h, 1'795'500'000, 8);  // created
  put_le(h, compression, 1);
  put_le(h, encryption, 1);
  put_le(h, 0, 2);  // appendix blocks
  put_le(h, 1, 4);  // creator: nfcapd
  put_le(h, 0, 8);  // appendix offset
  put_le(h, 0, 4);  // block size
  put_le(h, blocks, 4);
  return h;
}

std::string block(std::uint32_t records, const std::string& body, std::uint16_t type = 3,
                  std::uint16_t flags = 0) {
  std::string b;
  put_le(b, records, 4);
  put_le(b, body.size(), 4);
  put_le(b, type, 2);
  put_le(b, flags, 2);
  return b + body;
}

std::string element(std::uint16_t type, const std::string& value) {
  std::string e;
  put_le(e, type, 2);
  put_le(e, value.size() + 4, 2);
  return e + value;
}

std::string v3_record(const std::vector<std::string>& elements) {
  std::string body;
  for (const auto& e : elements) body += e;
  std::string r;
  put_le(r, 11, 2);
  put_le(r, body.size() + 12, 2);
  put_le(r, elements.size(), 2);
  put_le(r, 0, 6);  // engine type, id, exporter id, flags, version
  return r + body;
}

std::string generic_flow(std::uint64_t first, std::uint64_t packets, std::uint16_t dst_port) {
  std::string g;
  put_le(g, first, 8);
  put_le(g, first + 1000, 8);
  put_le(g, first + 2000, 8);  // received
  put_le(g, packets, 8);
  put_le(g, packets * 100, 8);
  put_le(g, 40000, 2);
  put_le(g, dst_port, 2);
  put_le(g, 6, 1);
  put_le(g, 0x12, 1);
  put_le(g, 0, 1);
  put_le(g, 0x20, 1);
  return element(1, g);
}

std::string ipv4_flow(std::uint32_t src, std::uint32_t dst) {
  std::string a;
  put_le(a, src, 4);
  put_le(a, dst, 4);
  return element(2, a);
}

TEST(NfcapdReader, HandMadeRecordsUnknownTypesAndElements) {
  std::string body;
  std::string ipv6;
  put_le(ipv6, 0x20010db800000000, 8);  // 2001:db8::1 as nfdump keeps it
  put_le(ipv6, 1, 8);
  put_le(ipv6, 0x20010db800000000, 8);
  put_le(ipv6, 2, 8);
  std::string misc;
  put_le(misc, 7, 4);                          // input interface
  put_le(misc, 9, 4);                          // output interface
  misc += std::string("\x18\x10\x01\x00", 4);  // masks /24 and /16, direction 1, dst tos
  body += v3_record({element(200, "xxxxxxxx"), generic_flow(1'795'500'000'000, 3, 443),
                     ipv4_flow(0x0A000001, 0xC0000201), element(4, misc)});
  std::string unknown;
  put_le(unknown, 99, 2);
  put_le(unknown, 8, 2);
  put_le(unknown, 0, 4);
  body += unknown;  // unknown record type
  body += v3_record({generic_flow(1'795'500'001'000, 5, 53), element(3, ipv6)});
  std::string overrun = v3_record({generic_flow(1, 1, 1)});
  overrun[14] = '\x7f';  // the element's length runs past the record
  body += overrun;
  body += v3_record({element(2, "abc")});  // an IPv4 element too short for its addresses
  std::string stub;
  put_le(stub, 11, 2);
  put_le(stub, 8, 2);
  put_le(stub, 1, 4);
  body += stub;  // a flow record shorter than its 12-byte header
  std::string exporter_info;
  put_le(exporter_info, 7, 2);
  put_le(exporter_info, 8, 2);
  put_le(exporter_info, 0, 4);
  body += exporter_info;  // not a flow, not counted as skipped
  const std::string file = file_header(1) + block(7, body);
  auto reader = NfcapdReader::from_bytes(file, "hand");
  ASSERT_TRUE(reader.has_value()) << reader.error().message;
  FlowBatch flows;
  while (reader->read_flows(flows, 1)) {
  }
  ASSERT_EQ(flows.size(), 2u);
  EXPECT_EQ(flows.get<FieldId::First>(0), 1'795'500'000'000);
  EXPECT_EQ(flows.get<FieldId::Last>(0), 1'795'500'001'000);
  EXPECT_EQ(flows.get<FieldId::FlowPackets>(0), 3u);
  EXPECT_EQ(flows.get<FieldId::FlowBytes>(0), 300u);
  EXPECT_EQ(flows.get<FieldId::DstPort>(0), 443);
  EXPECT_EQ(flows.get<FieldId::TcpFlags>(0), 0x12);
  EXPECT_EQ(flows.get<FieldId::Tos>(0), 0x20);
  EXPECT_EQ(flows.get<FieldId::SrcAddr>(0).to_string(), "10.0.0.1");
  EXPECT_EQ(flows.get<FieldId::DstAddr>(0).to_string(), "192.0.2.1");
  EXPECT_EQ(flows.get<FieldId::InIf>(0), 7u);
  EXPECT_EQ(flows.get<FieldId::OutIf>(0), 9u);
  EXPECT_EQ(flows.get<FieldId::SrcMask>(0), 24);
  EXPECT_EQ(flows.get<FieldId::DstMask>(0), 16);
  EXPECT_EQ(flows.get<FieldId::Direction>(0), 1);
  // Absent elements read as nfdump prints them: 0 and 0.0.0.0.
  EXPECT_EQ(flows.get<FieldId::SrcAs>(0), 0u);
  EXPECT_EQ(flows.get<FieldId::NextHop>(0).to_string(), "0.0.0.0");
  EXPECT_EQ(flows.get<FieldId::SrcAddr>(1).to_string(), "2001:db8::1");
  EXPECT_EQ(flows.get<FieldId::DstAddr>(1).to_string(), "2001:db8::2");
  EXPECT_FALSE(flows.is_set(FieldId::SrcMask, 1));  // no flow misc element
  const ImportStats& st = reader->stats();
  EXPECT_EQ(st.records, 2u);
  EXPECT_EQ(st.skipped, 4u);
  EXPECT_EQ(st.skipped_by_reason.at("unknown_record_type"), 1u);
  EXPECT_EQ(st.skipped_by_reason.at("malformed_record"), 3u);
  ASSERT_FALSE(st.examples.empty());
  EXPECT_NE(st.examples[0].find("hand: block 1: a record of type 99"), std::string::npos)
      << st.examples[0];
}

TEST(NfcapdReader, ZstdBlocksReadLikeUncompressedOnes) {
  const std::string body = v3_record({generic_flow(1'795'500'000'000, 3, 443), ipv4_flow(1, 2)}) +
                           v3_record({generic_flow(1'795'500'000'500, 4, 80), ipv4_flow(3, 4)});
  std::string packed(ZSTD_compressBound(body.size()), '\0');
  packed.resize(ZSTD_compress(packed.data(), packed.size(), body.data(), body.size(), 3));
  std::string lz4(LZ4_compressBound(static_cast<int>(body.size())), '\0');
  lz4.resize(LZ4_compress_default(body.data(), lz4.data(), static_cast<int>(body.size()),
                                  static_cast<int>(lz4.size())));
  for (const auto& [compression, data] :
       std::vector<std::pair<std::uint8_t, std::string>>{{0, body}, {3, lz4}, {4, packed}}) {
    // The second block is stored plain and flagged so (FLAG_BLOCK_UNCOMPRESSED), as later
    // nfdump releases may do in a compressed file.
    auto reader = NfcapdReader::from_bytes(
        file_header(2, compression) + block(2, data) + block(2, body, 3, 1), "z");
    ASSERT_TRUE(reader.has_value()) << reader.error().message;
    FlowBatch flows;
    while (reader->read_flows(flows, 100)) {
    }
    ASSERT_EQ(flows.size(), 4u) << int{compression};
    EXPECT_EQ(flows.get<FieldId::First>(3), 1'795'500'000'500);
    EXPECT_EQ(flows.get<FieldId::DstAddr>(3).to_string(), "0.0.0.4");
    EXPECT_EQ(reader->stats().skipped, 0u);
  }
}

TEST(NfcapdReader, RefusesWhatItCannotReadNamingTheFileAndTheFix) {
  auto layout1 = NfcapdReader::from_bytes(file_header(0, 0, 1), "old.nfcapd");
  ASSERT_FALSE(layout1.has_value());
  EXPECT_EQ(layout1.error().code, ErrorCode::Unsupported);
  EXPECT_NE(layout1.error().message.find("old.nfcapd: nfdump 1.6 file (layout version 1)"),
            std::string::npos)
      << layout1.error().message;
  EXPECT_NE(layout1.error().message.find("nfdump -r old.nfcapd -y -w NEW"), std::string::npos);

  auto v9 = NfcapdReader::from_bytes(file_header(0, 0, 9), "f");
  ASSERT_FALSE(v9.has_value());
  EXPECT_NE(v9.error().message.find("unknown nfdump file layout version 9"), std::string::npos);

  auto encrypted = NfcapdReader::from_bytes(file_header(0, 0, 2, 1), "f");
  ASSERT_FALSE(encrypted.has_value());
  EXPECT_NE(encrypted.error().message.find("encrypted"), std::string::npos);

  auto method = NfcapdReader::from_bytes(file_header(0, 7), "f");
  ASSERT_FALSE(method.has_value());
  EXPECT_NE(method.error().message.find("unknown compression method 7"), std::string::npos);

  std::string big = file_header(0);
  std::swap(big[0], big[1]);
  auto big_endian = NfcapdReader::from_bytes(big, "f");
  ASSERT_FALSE(big_endian.has_value());
  EXPECT_NE(big_endian.error().message.find("big-endian"), std::string::npos);

  auto csv = NfcapdReader::from_bytes("src_addr,dst_addr\n", "flows.csv");
  ASSERT_FALSE(csv.has_value());
  EXPECT_NE(csv.error().message.find("flows.csv: not an nfdump file"), std::string::npos);

  auto missing = NfcapdReader::open(kData / "no-such-file");
  ASSERT_FALSE(missing.has_value());
  EXPECT_NE(missing.error().message.find("no-such-file"), std::string::npos);
}

// A file cut at every length: an error (header) or the records before the cut and a
// "truncated_file" count; never a crash or more records than the whole file.
TEST(NfcapdReader, CutFilesGiveWhatIsBeforeTheCut) {
  for (const char* name : {"nfcapd-gen-v9-none", "nfcapd-gen-v9-lz4", "nfcapd-gen-v9-bz2"}) {
    auto whole = store::read_file(kData / name);
    ASSERT_TRUE(whole.has_value());
    auto full_reader = NfcapdReader::from_bytes(*whole, name);
    ASSERT_TRUE(full_reader.has_value());
    const std::size_t full = sessions_native(*full_reader).size();
    const std::size_t step = std::max<std::size_t>(1, whole->size() / 97);
    for (std::size_t len = 0; len < whole->size(); len += (len < 64 ? 1 : step)) {
      auto reader = NfcapdReader::from_bytes(whole->substr(0, len), name);
      if (len < 40) {
        ASSERT_FALSE(reader.has_value()) << len;
        continue;
      }
      ASSERT_TRUE(reader.has_value()) << len;
      const std::size_t got = sessions_native(*reader).size();
      EXPECT_LE(got, full);
      const auto& st = reader->stats();
      // The appendix (ident, statistics) follows the data: a cut there loses nothing.
      if (got < full) {
        EXPECT_EQ(st.skipped_by_reason.count("truncated_file"), 1u) << name << " cut at " << len;
      }
    }
  }
}

TEST(NfcapdReader, DamagedCompressedBlocksAreSkippedAndCounted) {
  for (const char* name : {"nfcapd-gen-v9-lz4", "nfcapd-gen-v9-lzo", "nfcapd-gen-v9-bz2"}) {
    auto whole = store::read_file(kData / name);
    ASSERT_TRUE(whole.has_value());
    std::string damaged = *whole;
    for (std::size_t i = 40 + 12 + 64; i < damaged.size() - 200; i += 97) damaged[i] ^= 0x5A;
    auto reader = NfcapdReader::from_bytes(damaged, name);
    ASSERT_TRUE(reader.has_value());
    const SessionBatch got = sessions_native(*reader);
    const auto& st = reader->stats();
    // Either the decompressor notices (a damaged block) or the records it produces do not
    // parse; LZO and LZ4 have no checksum, so damaged values may also pass as records.
    EXPECT_GT(st.skipped + got.size(), 0u) << name;
    if (st.skipped_by_reason.count("damaged_block") != 0) {
      ASSERT_FALSE(st.examples.empty());
      EXPECT_NE(st.examples[0].find(std::string(name) + ": block 1"), std::string::npos)
          << st.examples[0];
    }
  }
  // BZ2 has a checksum: a damaged block is always noticed.
  auto whole = store::read_file(kData / "nfcapd-gen-v9-bz2");
  ASSERT_TRUE(whole.has_value());
  std::string damaged = *whole;
  damaged[40 + 12 + 500] ^= 0x01;
  auto reader = NfcapdReader::from_bytes(damaged, "bz2");
  ASSERT_TRUE(reader.has_value());
  EXPECT_EQ(sessions_native(*reader).size(), 0u);
  // The block's record count: its 500 flows and nfcapd's exporter records.
  EXPECT_GE(reader->stats().skipped_by_reason.at("damaged_block"), 500u);
}

TEST(NfcapdReader, AFileStillBeingWrittenIsReported) {
  // nfcapd writes the block count into the header when it closes the file.
  const std::string good = v3_record({generic_flow(1'795'500'000'000, 3, 443), ipv4_flow(1, 2)});
  auto reader = NfcapdReader::from_bytes(file_header(0) + block(1, good), "nfcapd.current.42");
  ASSERT_TRUE(reader.has_value());
  EXPECT_EQ(sessions_native(*reader).size(), 0u);
  EXPECT_EQ(reader->stats().skipped_by_reason.count("unfinished_file"), 1u);
  ASSERT_EQ(reader->stats().examples.size(), 1u);
  EXPECT_NE(reader->stats().examples[0].find("still writing"), std::string::npos);
}

TEST(NfcapdReader, ImpossibleBlockHeaderStopsReading) {
  const std::string good = v3_record({generic_flow(1'795'500'000'000, 3, 443), ipv4_flow(1, 2)});
  std::string bad_header;
  put_le(bad_header, 0, 4);  // no records
  put_le(bad_header, 0, 4);  // of no bytes
  put_le(bad_header, 3, 4);
  auto reader = NfcapdReader::from_bytes(file_header(3) + block(1, good) + bad_header, "f");
  ASSERT_TRUE(reader.has_value());
  EXPECT_EQ(sessions_native(*reader).size(), 1u);
  EXPECT_EQ(reader->stats().skipped_by_reason.count("damaged_block"), 1u);
}

}  // namespace
}  // namespace flowscope::import
