// FTP attribution on a real transfer (issue 5): tests/data/ftp/ftp_loopback.pcapng was recorded
// on loopback with Python's ftplib against a scripted server (tests/data/ftp/README.md): one
// control session on port 21 and four data connections, opened after PASV (227), PORT, EPSV
// (229) and EPRT. Every data session must carry the control session's id in ftp_ctrl_id, and
// the bytes of each transfer must be attributed to it.
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

namespace flowscope {
namespace {

TEST(FtpCapture, DataSessionsAreTaggedWithTheirControlSession) {
  const std::string file =
      std::string(FLOWSCOPE_SOURCE_DIR) + "/tests/data/ftp/ftp_loopback.pcapng";
  auto r = testing::run_flowscope({"capture", "-r", file, "--fields",
                                   "session_id,cln_port,srv_port,cln_bytes,srv_bytes,"
                                   "ftp_ctrl_id,tcp_outcome"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("ftp data tagged 4"), std::string::npos) << r.err;
  struct Row {
    std::uint64_t id, cln_bytes, srv_bytes;
    std::uint16_t cln_port, srv_port;
    std::string ctrl;
  };
  std::vector<Row> rows;
  std::istringstream in(r.out);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> v;
    std::stringstream cells(line);
    for (std::string c; std::getline(cells, c, ',');) v.push_back(c);
    if (line.back() == ',') v.emplace_back();
    ASSERT_EQ(v.size(), 7u) << line;
    EXPECT_EQ(v[6], "1") << "every connection of the recording was established: " << line;
    rows.push_back({std::stoull(v[0]), std::stoull(v[3]), std::stoull(v[4]),
                    static_cast<std::uint16_t>(std::stoul(v[1])),
                    static_cast<std::uint16_t>(std::stoul(v[2])), v[5]});
  }
  ASSERT_EQ(rows.size(), 5u);
  std::uint64_t control = 0;
  for (const Row& row : rows) {
    if (row.srv_port == 21) control = row.id;
  }
  ASSERT_NE(control, 0u);
  // Transfer sizes of the recording: RETR a.bin 100000 (PASV), RETR b.bin 5000 (PORT; the
  // server connects from port 20, so it is the TCP client), STOR c.bin 20000 (EPSV), RETR
  // d.bin 7000 (EPRT). Headers add less than 100 bytes per packet.
  std::map<std::string, std::uint64_t> expected = {
      {"pasv", 100000}, {"port", 5000}, {"epsv", 20000}, {"eprt", 7000}};
  int data_sessions = 0;
  for (const Row& row : rows) {
    if (row.id == control) {
      EXPECT_TRUE(row.ctrl.empty());
      continue;
    }
    ++data_sessions;
    EXPECT_EQ(row.ctrl, std::to_string(control)) << "session " << row.id;
    // Which transfer: the side that sent the file.
    const std::uint64_t sent = row.cln_port == 20              ? row.cln_bytes
                               : row.srv_bytes > row.cln_bytes ? row.srv_bytes
                                                               : row.cln_bytes;
    bool matched = false;
    for (auto it = expected.begin(); it != expected.end(); ++it) {
      if (sent >= it->second && sent < it->second + 1000) {
        expected.erase(it);
        matched = true;
        break;
      }
    }
    EXPECT_TRUE(matched) << "session " << row.id << " carried " << sent << " bytes";
  }
  EXPECT_EQ(data_sessions, 4);
  EXPECT_TRUE(expected.empty());
}

}  // namespace
}  // namespace flowscope
