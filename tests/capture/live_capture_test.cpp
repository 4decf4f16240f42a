// Live capture (`flowscope capture -i lo`): UDP request/reply pairs between two sockets on
// 127.0.0.1, captured through a BPF filter on their port, stop after -c 6 packets, and come out
// as one two-sided session. Needs CAP_NET_RAW: skipped when the capture cannot be opened.
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <poll.h>
#include <unistd.h>

#include "test_support.h"

namespace flowscope {
namespace {

int bound_udp_socket(std::uint16_t& port) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  port = ntohs(a.sin_port);
  return fd;
}

bool receive(int fd, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char buf[64];
  return ::recv(fd, buf, sizeof buf, 0) > 0;
}

TEST(LiveCapture, LoopbackUdpExchangeIsOneSession) {
  std::uint16_t server_port = 0, client_port = 0;
  const int server = bound_udp_socket(server_port);
  const int client = bound_udp_socket(client_port);
  sockaddr_in to_server{};
  to_server.sin_family = AF_INET;
  to_server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to_server.sin_port = htons(server_port);
  sockaddr_in to_client = to_server;
  to_client.sin_port = htons(client_port);

  std::atomic<bool> done{false};
  testing::CommandResult result;
  std::thread capture([&] {
    result = testing::run_flowscope(
        {"capture", "-i", "lo", "-c", "6", "--fields",
         "proto,cln_port,srv_port,cln_packets,srv_packets,cln_bytes,srv_bytes,sides", "udp", "port",
         std::to_string(server_port)});
    done = true;
  });
  // Request/reply pairs until the capture has its 6 packets (it opens the interface in its own
  // time: earlier pairs are not seen). Each exchange waits on the sockets, not on a timer.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  int exchanges = 0;
  while (!done && std::chrono::steady_clock::now() < deadline) {
    ::sendto(client, "ping", 4, 0, reinterpret_cast<sockaddr*>(&to_server), sizeof to_server);
    if (receive(server, 100)) {
      ::sendto(server, "pong!", 5, 0, reinterpret_cast<sockaddr*>(&to_client), sizeof to_client);
      receive(client, 100);
    }
    ++exchanges;
  }
  // No permission makes the capture exit at once; not finishing means it never saw 6 packets.
  EXPECT_TRUE(done) << "capture did not finish after " << exchanges << " exchanges";
  capture.join();
  ::close(server);
  ::close(client);
  if (result.exit_code != 0 && (result.err.find("permission") != std::string::npos ||
                                result.err.find("Operation not permitted") != std::string::npos)) {
    GTEST_SKIP() << "no permission to capture on lo: " << result.err;
  }
  ASSERT_EQ(result.exit_code, 0) << result.err;
  std::istringstream in(result.out);
  std::string line;
  std::getline(in, line);
  ASSERT_TRUE(std::getline(in, line)) << result.out << result.err;
  std::vector<std::string> v;
  std::stringstream cells(line);
  for (std::string c; std::getline(cells, c, ',');) v.push_back(c);
  ASSERT_EQ(v.size(), 8u) << line;
  EXPECT_EQ(v[0], "udp");
  EXPECT_EQ(std::stoul(v[3]) + std::stoul(v[4]), 6u) << line;
  EXPECT_EQ(v[7], "2") << "both directions seen: " << line;
  const std::uint64_t bytes = std::stoull(v[5]) + std::stoull(v[6]);
  EXPECT_GE(bytes, 6u * (20 + 8 + 4));
  EXPECT_LE(bytes, 6u * (20 + 8 + 5));
  EXPECT_FALSE(std::getline(in, line)) << "one session only: " << line;
}

}  // namespace
}  // namespace flowscope
