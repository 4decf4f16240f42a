// `flowscope serve` and `flowscope user` as processes: a config error exits 1 naming the line;
// a bad TLS key refuses to start naming the file and line; SIGHUP reloads (the new stitch window
// shows in /metrics); SIGTERM stores every open session and exits 0; under systemd's
// NOTIFY_SOCKET it sends READY, WATCHDOG, RELOADING and STOPPING; --log-format json writes one
// JSON object per line, text has no timestamps when stderr is the journal. The daemon binds free
// ports (0) on 127.0.0.1 and is stopped by its PID.
// GCC 12 with the sanitizers (make asan) warns -Wmaybe-uninitialized inside std::regex.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include "core/udp_sender.h"
#include "server/test_certs.h"
#include "store/embedded_store.h"

#include "test_support.h"

namespace flowscope::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
}

template <typename F>
bool wait_for(F done, std::chrono::milliseconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(20ms);
  }
  return done();
}

class ServeCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("flowscope-serve-cmd-" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    fs::remove_all(dir_);
  }
  std::string config(const std::string& window) const {
    return "[ingest]\nlisten = [\"127.0.0.1\"]\nnetflow_port = 0\nipfix_port = 0\nsflow_port = 0\n"
           "workers = 1\n[stitch]\nwindow = \"" +
           window +
           "\"\n[store]\ndir = \"data\"\ncommit_interval = \"200ms\"\n[query]\nport = 0\n"
           "[http]\nport = 0\n";
  }
  // `flowscope [GLOBAL...] serve -C serve.toml --ready-file ready.json`, stderr to serve.err,
  // with `env` ("NAME=value") added to the environment. journal: JOURNAL_STREAM names
  // serve.err, as systemd does for a unit whose stderr is the journal.
  void spawn(const std::vector<std::string>& global = {}, const std::vector<std::string>& env = {},
             bool journal = false) {
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string err = (dir_ / "serve.err").string();
      const int fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 2);
      for (const std::string& e : env) ::putenv(const_cast<char*>(e.c_str()));
      if (journal) {
        struct stat st {};
        ::fstat(2, &st);
        const std::string stream = std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
        ::setenv("JOURNAL_STREAM", stream.c_str(), 1);
      }
      std::vector<std::string> args = {FLOWSCOPE_BINARY};
      args.insert(args.end(), global.begin(), global.end());
      for (const char* a : {"serve", "-C"}) args.emplace_back(a);
      args.push_back((dir_ / "serve.toml").string());
      args.emplace_back("--ready-file");
      args.push_back((dir_ / "ready.json").string());
      std::vector<char*> argv;
      for (std::string& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  // SIGTERM, then the exit status (-1 unless it exited).
  int stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  bool wait_ready() {
    return wait_for([&] { return fs::exists(dir_ / "ready.json"); });
  }
  std::string metrics(std::uint16_t port) {
    httplib::Client http("127.0.0.1", port);
    http.set_connection_timeout(10);
    http.set_read_timeout(30);  // a sanitizer build of serve answers slowly
    auto r = http.Get("/metrics");
    return r ? r->body : std::string();
  }

  fs::path dir_;
  pid_t pid_ = -1;
};

TEST_F(ServeCommand, ConfigErrorExitsOneNamingTheLine) {
  write(dir_ / "serve.toml", "[store]\ndir = \"d\"\n[stitch]\nwindow = 60\n");
  auto r = testing::run_flowscope({"serve", "-C", (dir_ / "serve.toml").string(), "--check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("serve.toml:4: [stitch] window: must be a duration"), std::string::npos)
      << r.err;
  write(dir_ / "serve.toml", config("60s"));
  r = testing::run_flowscope({"serve", "-C", (dir_ / "serve.toml").string(), "--check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

TEST_F(ServeCommand, BadTlsKeyRefusesToStartNamingTheFile) {
  const testing::TestCert cert = testing::make_self_signed(dir_, "server");
  const testing::TestCert other = testing::make_self_signed(dir_, "other");
  const std::string base = config("60s");
  // Lines 1-13 are config(); [query] is line 11, so tls_cert is 12 and tls_key 13 below.
  const auto with_tls = [&](const std::string& key) {
    std::string text = base;
    text.replace(text.find("[query]\n"), 8,
                 "[query]\ntls_cert = \"" + cert.cert.string() + "\"\ntls_key = \"" + key + "\"\n");
    return text;
  };
  const int key_line = [&] {
    const std::string t = with_tls("x");
    return static_cast<int>(std::count(t.begin(), t.begin() + t.find("tls_key"), '\n')) + 1;
  }();
  write(dir_ / "serve.toml", with_tls("missing.key"));
  auto r = testing::run_flowscope({"serve", "-C", (dir_ / "serve.toml").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("serve.toml:" + std::to_string(key_line) + ": [query] tls_key"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("missing.key"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("cannot read the file"), std::string::npos) << r.err;

  write(dir_ / "serve.toml", with_tls(other.key.string()));
  r = testing::run_flowscope({"serve", "-C", (dir_ / "serve.toml").string(), "--check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("is not the private key of the certificate"), std::string::npos) << r.err;

  write(dir_ / "serve.toml", base + "tls_required = true\n");  // appended to [http]
  r = testing::run_flowscope({"serve", "-C", (dir_ / "serve.toml").string(), "--check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("[http]: unknown key \"tls_required\""), std::string::npos) << r.err;

  write(dir_ / "serve.toml", with_tls(cert.key.string()));
  r = testing::run_flowscope({"serve", "-C", (dir_ / "serve.toml").string(), "--check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// F15 item 8: what makes start fail makes --check fail, with the same message (the same
// Server::check runs in both).
TEST_F(ServeCommand, CheckRefusesWhatStartRefuses) {
  const std::string base = config("60s");
  const auto line_of = [](const std::string& text, const std::string& needle) {
    return std::to_string(std::count(text.begin(), text.begin() + text.find(needle), '\n') + 1);
  };
  const fs::path cfg = dir_ / "serve.toml";
  const auto expect_refused = [&](const std::string& text, const std::string& message) {
    write(cfg, text);
    auto check = testing::run_flowscope({"serve", "-C", cfg.string(), "--check"});
    EXPECT_EQ(check.exit_code, 1) << check.out;
    EXPECT_NE(check.err.find(message), std::string::npos) << check.err;
    auto start = testing::run_flowscope({"serve", "-C", cfg.string()});
    EXPECT_EQ(start.exit_code, 1) << start.out;
    EXPECT_NE(start.err.find(message), std::string::npos) << start.err;
  };

  std::string text = base + "[enrich]\nip_groups = \"missing.ini\"\n";
  expect_refused(text, "serve.toml:" + line_of(text, "ip_groups") + ": [enrich] ip_groups");

  write(dir_ / "groups.json", "{\"groups\": {\"lab\": [\"10.0.0.0/8\"]}}\n");
  text = base + "[enrich]\nip_groups = \"groups.json\"\n";
  expect_refused(text, "serve.toml:" + line_of(text, "ip_groups") + ": [enrich] ip_groups");

  write(dir_ / "afile", "x\n");
  text = base;
  text.replace(text.find("dir = \"data\""), 12, "dir = \"afile\"");
  expect_refused(text, "serve.toml:" + line_of(text, "dir =") + ": [store] dir");

  // Refused before anything binds, so the fixed port is never opened.
  text = base;
  text.replace(text.find("[query]\nport = 0"), 16, "[query]\nport = 19641");
  text.replace(text.find("[http]\nport = 0"), 15, "[http]\nport = 19641");
  const std::string http_port_line = std::to_string(std::stoi(line_of(text, "[http]")) + 1);
  expect_refused(text, "serve.toml:" + http_port_line +
                           ": [http] port 19641 is also the [query] "
                           "port");

  text = base;
  text.replace(text.find("window = \"60s\""), 14, "window = \"0s\"");
  write(cfg, text);
  auto r = testing::run_flowscope({"serve", "-C", cfg.string(), "--check"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("serve.toml:" + line_of(text, "window") +
                       ": [stitch] window: \"0s\" must be more than zero"),
            std::string::npos)
      << r.err;

  write(dir_ / "groups.ini", "[lab]\nnet = 10.0.0.0/8\n");
  write(cfg, base + "[enrich]\nip_groups = \"groups.ini\"\n");
  r = testing::run_flowscope({"serve", "-C", cfg.string(), "--check"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("serve.toml: ok"), std::string::npos) << r.out;
}

TEST_F(ServeCommand, SighupReloadsAndSigtermStoresEverything) {
  write(dir_ / "serve.toml", config("1h"));
  spawn();
  ASSERT_TRUE(wait_for([&] { return fs::exists(dir_ / "ready.json"); }))
      << slurp(dir_ / "serve.err");
  const auto ready = nlohmann::json::parse(slurp(dir_ / "ready.json"));
  const std::uint16_t http_port = ready["http_port"];
  const std::uint16_t netflow_port = ready["netflow_port"];
  EXPECT_TRUE(wait_for([&] {
    return metrics(http_port).find("flowscope_stitch_window_seconds 3600") != std::string::npos;
  })) << "metrics: "
      << metrics(http_port) << "\nserve's stderr: " << slurp(dir_ / "serve.err");

  write(dir_ / "serve.toml", config("45s"));
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(wait_for([&] {
    return metrics(http_port).find("flowscope_stitch_window_seconds 45") != std::string::npos;
  })) << metrics(http_port);
  EXPECT_NE(metrics(http_port).find("flowscope_config_generation 2"), std::string::npos);

  // Flows with `flowscope gen`, then SIGTERM: the open sessions are stored, exit 0.
  auto gen =
      testing::run_flowscope({"gen", "flows", "--to", "127.0.0.1:" + std::to_string(netflow_port),
                              "--count", "2000", "--rate", "0", "--seed", "1", "-q"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  ASSERT_TRUE(wait_for([&] {
    return metrics(http_port).find("flowscope_stitch_flows_total 2000") != std::string::npos;
  })) << metrics(http_port);
  ASSERT_EQ(::kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << slurp(dir_ / "serve.err");

  store::StoreOptions so;
  so.dir = dir_ / "data";
  so.read_only = true;
  auto st = store::EmbeddedStore::open(so);
  ASSERT_TRUE(st) << st.error().message;
  std::uint64_t rows = 0;
  ASSERT_TRUE((*st)->scan({}, [&](const SessionBatch& b) {
    rows += b.size();
    return true;
  }));
  EXPECT_GE(rows, 1000u);  // 2000 one-way flows, most of them two directions of a session
  EXPECT_LE(rows, 2000u);
}

TEST_F(ServeCommand, UserCommandEditsTheUserFile) {
  const std::string users = (dir_ / "users.json").string();
  auto r = testing::run_flowscope(
      {"user", "add", "alice", "-p", "pw1", "--role", "analyst", "--users", users});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_flowscope({"user", "groups", "add", "campus", "--users", users});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_flowscope({"user", "grant", "campus", "--ip-group", "10.0.0.0/8", "--exporter",
                              "192.0.2.1", "--users", users});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_flowscope({"user", "set-groups", "alice", "campus", "--users", users});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  r = testing::run_flowscope({"user", "list", "--json", "--users", users});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto list = nlohmann::json::parse(r.out);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["groups"][0], "campus");
  EXPECT_EQ(slurp(users).find("pw1"), std::string::npos);  // only the hash
  EXPECT_NE(slurp(users).find("$argon2id$"), std::string::npos);
  r = testing::run_flowscope({"user", "remove", "bob", "--users", users});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no user \"bob\""), std::string::npos);
  r = testing::run_flowscope({"user", "groups", "remove", "campus", "--users", users});
  EXPECT_EQ(r.exit_code, 1);  // alice is a member
  const std::string audit = slurp(dir_ / "audit.log");
  EXPECT_NE(audit.find("\"user_add\""), std::string::npos);
  EXPECT_NE(audit.find("\"grant\""), std::string::npos);
}

// systemd's end of sd_notify(3): an AF_UNIX datagram socket whose path is NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const fs::path& path) : path_(path) {
    fd_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof addr.sun_path, "%s", path.c_str());
    bound_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~NotifySocket() {
    ::close(fd_);
    fs::remove(path_);
  }
  NotifySocket(const NotifySocket&) = delete;
  NotifySocket& operator=(const NotifySocket&) = delete;
  bool bound() const { return bound_; }
  // Reads datagrams into received() until one of them has the line `state`; false after 20 s.
  bool wait_for_state(const std::string& state) {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 100) <= 0) continue;
      char buf[4096];
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) continue;
      received_.emplace_back(buf, static_cast<std::size_t>(n));
      if (has_line(received_.back(), state)) return true;
    }
    return false;
  }
  static bool has_line(const std::string& datagram, const std::string& line) {
    std::istringstream in(datagram);
    for (std::string l; std::getline(in, l);) {
      if (l == line) return true;
    }
    return false;
  }
  const std::vector<std::string>& received() const { return received_; }

 private:
  fs::path path_;
  int fd_ = -1;
  bool bound_ = false;
  std::vector<std::string> received_;
};

std::string joined(const std::vector<std::string>& datagrams) {
  std::string out;
  for (const std::string& d : datagrams) out += "[" + d + "] ";
  return out;
}

TEST_F(ServeCommand, NotifiesSystemdOfReadyWatchdogReloadAndStop) {
  write(dir_ / "serve.toml", config("60s"));
  NotifySocket systemd(dir_ / "notify.sock");
  ASSERT_TRUE(systemd.bound()) << std::strerror(errno);
  spawn({}, {"NOTIFY_SOCKET=" + (dir_ / "notify.sock").string(), "WATCHDOG_USEC=2000000"});
  // READY=1 once listening (the ready file is written just before it), with a STATUS line.
  ASSERT_TRUE(systemd.wait_for_state("READY=1")) << joined(systemd.received()) << "\n"
                                                 << slurp(dir_ / "serve.err");
  EXPECT_TRUE(wait_ready());
  EXPECT_TRUE(NotifySocket::has_line(systemd.received().front(), "READY=1"))
      << "the first datagram is READY: " << joined(systemd.received());
  EXPECT_NE(systemd.received().front().find("STATUS="), std::string::npos);
  // WATCHDOG=1 every second while WATCHDOG_USEC is set.
  ASSERT_TRUE(systemd.wait_for_state("WATCHDOG=1")) << joined(systemd.received());
  // SIGHUP: RELOADING=1 (with MONOTONIC_USEC, as systemd 253 wants), then READY=1 again.
  const std::size_t before_hup = systemd.received().size();
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(systemd.wait_for_state("RELOADING=1")) << joined(systemd.received());
  EXPECT_NE(systemd.received().back().find("MONOTONIC_USEC="), std::string::npos)
      << systemd.received().back();
  ASSERT_TRUE(systemd.wait_for_state("READY=1")) << joined(systemd.received());
  for (std::size_t i = 0; i < before_hup; ++i) {
    EXPECT_FALSE(NotifySocket::has_line(systemd.received()[i], "RELOADING=1"))
        << "RELOADING before the SIGHUP: " << joined(systemd.received());
  }
  // SIGTERM: STOPPING=1, then exit 0.
  ::kill(pid_, SIGTERM);
  ASSERT_TRUE(systemd.wait_for_state("STOPPING=1")) << joined(systemd.received());
  int status = 0;
  ASSERT_EQ(::waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << slurp(dir_ / "serve.err");
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) out.push_back(l);
  }
  return out;
}

TEST_F(ServeCommand, LogFormatJsonIsOneObjectPerLine) {
  write(dir_ / "serve.toml", config("60s"));
  spawn({"--log-format", "json", "--log-level", "info"});
  ASSERT_TRUE(wait_ready()) << slurp(dir_ / "serve.err");
  const auto ready = nlohmann::json::parse(slurp(dir_ / "ready.json"));
  ASSERT_EQ(::kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(wait_for([&] {
    return slurp(dir_ / "serve.err").find("applied (generation 2)") != std::string::npos;
  })) << slurp(dir_ / "serve.err");
  EXPECT_EQ(stop(), 0) << slurp(dir_ / "serve.err");

  const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)");
  const auto lines = lines_of(slurp(dir_ / "serve.err"));
  ASSERT_GE(lines.size(), 3u);
  bool started = false;
  bool reloading = false;
  for (const std::string& line : lines) {
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << "not JSON: " << line;
    ASSERT_TRUE(j.is_object()) << line;
    ASSERT_TRUE(j.contains("time") && j.contains("level") && j.contains("logger") &&
                j.contains("message"))
        << line;
    EXPECT_TRUE(std::regex_match(j["time"].get<std::string>(), rfc3339)) << line;
    EXPECT_TRUE(j["level"] == "info" || j["level"] == "warn" || j["level"] == "debug") << line;
    // The start-up line carries the bound ports as fields of their own.
    if (j.contains("netflow_port")) {
      started = true;
      EXPECT_EQ(j["logger"], "server");
      EXPECT_EQ(j["netflow_port"], ready["netflow_port"]) << line;
      EXPECT_EQ(j["http_port"], ready["http_port"]) << line;
      EXPECT_EQ(j["data_dir"], ready["data_dir"]) << line;
    }
    if (j["message"].get<std::string>().find("SIGHUP: reloading") != std::string::npos) {
      reloading = true;
      EXPECT_EQ(j["signal"], "SIGHUP") << line;
    }
  }
  EXPECT_TRUE(started) << slurp(dir_ / "serve.err");
  EXPECT_TRUE(reloading) << slurp(dir_ / "serve.err");

  // An error that ends the command is a JSON object too, with the exit code.
  auto r = testing::run_flowscope(
      {"--log-format", "json", "serve", "-C", (dir_ / "missing.toml").string()});
  EXPECT_EQ(r.exit_code, 1);
  const auto err_lines = lines_of(r.err);
  ASSERT_EQ(err_lines.size(), 1u) << r.err;
  const auto err = nlohmann::json::parse(err_lines[0]);
  EXPECT_EQ(err["level"], "error");
  EXPECT_EQ(err["exit_code"], 1);
  EXPECT_NE(err["message"].get<std::string>().find("missing.toml"), std::string::npos) << r.err;

  r = testing::run_flowscope({"--log-format", "xml", "fields"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("--log-format"), std::string::npos) << r.err;
}

TEST_F(ServeCommand, LogFormatTextHasNoTimestampsUnderTheJournal) {
  write(dir_ / "serve.toml", config("60s"));
  const std::regex stamped(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3} [a-z]+ \[[a-z_]+\] .*)");
  const std::regex bare(R"([a-z]+ \[[a-z_]+\] .*)");
  for (const bool journal : {false, true}) {
    SCOPED_TRACE(journal ? "under the journal" : "on a file");
    spawn({"--log-format", "text", "--log-level", "info"}, {}, journal);
    ASSERT_TRUE(wait_ready()) << slurp(dir_ / "serve.err");
    ASSERT_EQ(::kill(pid_, SIGHUP), 0);
    ASSERT_TRUE(wait_for([&] {
      return slurp(dir_ / "serve.err").find("applied (generation 2)") != std::string::npos;
    })) << slurp(dir_ / "serve.err");
    EXPECT_EQ(stop(), 0) << slurp(dir_ / "serve.err");
    const auto lines = lines_of(slurp(dir_ / "serve.err"));
    bool reload_line = false;
    bool started = false;
    for (const std::string& line : lines) {
      // The start-up line is the same in both (no level, no timestamp), as before.
      if (line.rfind("flowscope serve: NetFlow on UDP ", 0) == 0) {
        started = true;
        continue;
      }
      EXPECT_TRUE(std::regex_match(line, journal ? bare : stamped)) << line;
      if (line.find("SIGHUP: reloading") != std::string::npos) reload_line = true;
    }
    EXPECT_TRUE(reload_line) << slurp(dir_ / "serve.err");
    EXPECT_TRUE(started) << slurp(dir_ / "serve.err");
    EXPECT_FALSE(fs::exists(dir_ / "ready.json"));  // serve removes it on the way out
  }
}

TEST_F(ServeCommand, GrantRefusesUnknownIpGroupsAndEditsNameTheReload) {
  const std::string users = (dir_ / "grant-users.json").string();
  const std::string groups = (dir_ / "grant-groups.toml").string();
  std::ofstream(groups) << "[[group]]\nname = \"Campus\"\naddresses = [\"10.1.0.0/16\"]\n";
  auto r = testing::run_flowscope({"user", "add", "erin", "-p", "pw", "--users", users});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // add, passwd and remove say when a running server sees the change.
  EXPECT_NE(r.err.find("after its next reload"), std::string::npos) << r.err;
  r = testing::run_flowscope({"user", "passwd", "erin", "-p", "pw2", "--users", users});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("kill -HUP"), std::string::npos) << r.err;
  r = testing::run_flowscope({"user", "groups", "add", "lab", "--users", users});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string before = slurp(users);
  r = testing::run_flowscope(
      {"user", "grant", "lab", "--ip-group", "Campuss", "--groups", groups, "--users", users});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("unknown IP group \"Campuss\""), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("are: Campus"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(users), before);
  // Without a groups file a name cannot be checked: refused, the fix named.
  r = testing::run_flowscope({"user", "grant", "lab", "--ip-group", "Campus", "--users", users});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("--groups FILE"), std::string::npos) << r.err;
  EXPECT_EQ(slurp(users), before);
  r = testing::run_flowscope(
      {"user", "grant", "lab", "--ip-group", "Campus", "--groups", groups, "--users", users});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(slurp(users).find("Campus"), std::string::npos);
  r = testing::run_flowscope({"user", "remove", "erin", "--users", users});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("after its next reload"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace flowscope::server
