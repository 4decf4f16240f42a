// SnmpPoller against a real agent: Debian's snmpd, started by the test on 127.0.0.1 on a free
// port (no configuration but a read-only community), stopped by PID. Linux numbers the loopback
// interface 1 and calls it "lo".
#include "enrich/snmp_poller.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include "test_support.h"

namespace flowscope::enrich {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const char* const kSnmpd = "/usr/sbin/snmpd";

using testing::free_udp_port;

class Snmpd {
 public:
  Snmpd() {
    dir_ = fs::temp_directory_path() / ("flowscope_snmpd_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "snmpd.conf") << "rocommunity flowscope-test 127.0.0.1\n";
    port_ = free_udp_port();
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string conf = (dir_ / "snmpd.conf").string();
      const std::string endpoint = "udp:127.0.0.1:" + std::to_string(port_);
      ::setenv("MIBS", "", 1);
      // (A child about to exec: nothing to do if a redirection fails; _FORTIFY_SOURCE wants
      // the results read.)
      if (std::freopen("/dev/null", "w", stdout) == nullptr) ::_exit(126);
      if (std::freopen((dir_ / "snmpd.log").c_str(), "w", stderr) == nullptr) ::_exit(126);
      ::execl(kSnmpd, "snmpd", "-f", "-Le", "-C", "-c", conf.c_str(), endpoint.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
  }
  ~Snmpd() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      ::waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }
  std::string agent() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  fs::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
};

TEST(SnmpPoller, NamesTheAgentsInterfacesAndWinsOverOptionsData) {
  if (::access(kSnmpd, X_OK) != 0) GTEST_SKIP() << "snmpd is not installed (apt-get install snmpd)";
  Snmpd agent;
  const IpAddress exporter = *IpAddress::parse("192.0.2.7");
  InterfaceTable table;
  std::vector<InterfaceUpdate> announced{
      {exporter, 1, {"from-options", "", 0, InterfaceSource::OptionsData, {}}}};
  table.update(announced);

  SnmpConfig config;
  config.targets = {SnmpTarget{exporter, agent.agent(), "flowscope-test"}};
  config.timeout = 300ms;
  auto poller = SnmpPoller::create(config, table);
  ASSERT_TRUE(poller) << poller.error().message;
  // snmpd needs a moment to bind; poll until it answers.
  std::size_t changed = 0;
  for (int attempt = 0; attempt < 30 && changed == 0; ++attempt) {
    changed = (*poller)->poll_once();
    if (changed == 0) std::this_thread::sleep_for(100ms);
  }
  ASSERT_GT(changed, 0u) << (*poller)->stats().last_error;
  const InterfaceInfo* lo = table.snapshot()->find(exporter, 1);
  ASSERT_NE(lo, nullptr);
  EXPECT_EQ(lo->name, "lo");  // SNMP replaced what options data said
  EXPECT_EQ(lo->source, InterfaceSource::Snmp);
  EXPECT_GT(lo->speed_bps, 0u);
  EXPECT_GE((*poller)->stats().interfaces, 1u);
  // Options data no longer overrides it.
  EXPECT_EQ(table.update(announced), 0u);
}

TEST(SnmpPoller, SilentAgentIsCountedAndNamed) {
  InterfaceTable table;
  SnmpConfig config;
  const std::string agent = "127.0.0.1:" + std::to_string(free_udp_port());
  config.targets = {SnmpTarget{*IpAddress::parse("192.0.2.9"), agent, "public"}};
  config.timeout = 200ms;
  config.retries = 0;
  auto poller = SnmpPoller::create(config, table);
  ASSERT_TRUE(poller);
  EXPECT_EQ((*poller)->poll_once(), 0u);
  const SnmpStats s = (*poller)->stats();
  EXPECT_EQ(s.polls, 1u);
  EXPECT_EQ(s.failures, 1u);
  EXPECT_NE(s.last_error.find(agent), std::string::npos) << s.last_error;
  EXPECT_EQ(table.snapshot()->size(), 0u);
}

TEST(SnmpPoller, PeriodicThreadStopsWithThePoller) {
  InterfaceTable table;
  SnmpConfig config;
  config.targets = {SnmpTarget{*IpAddress::parse("192.0.2.9"),
                               "127.0.0.1:" + std::to_string(free_udp_port()), "public"}};
  config.timeout = 100ms;
  config.retries = 0;
  config.interval = std::chrono::seconds(3600);
  auto poller = SnmpPoller::create(config, table);
  ASSERT_TRUE(poller);
  (*poller)->start();
  for (int i = 0; i < 50 && (*poller)->stats().polls == 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ((*poller)->stats().polls, 1u);  // the first poll at once, the next in an hour
  poller->reset();                          // joins without waiting for the hour
}

}  // namespace
}  // namespace flowscope::enrich
