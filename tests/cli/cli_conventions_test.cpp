// The command line's conventions (docs/conventions.md "The command line", issue 22): one meaning
// per short letter across the subcommands (-d is the store directory wherever a subcommand takes
// a store), old letters are errors naming the new ones, FlowTraq's keep theirs under ftsq/ftstat;
// --json summaries (import, gen flows, capture, decode --stats, store retention); `import -` reads
// standard input; `import` of a missing file creates nothing; Ctrl-C (SIGINT to the child) ends
// import, query, gen flows, gen sessions and capture -r with exit 130 after they flushed what
// they own.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <unistd.h>

#include "cli/commands.h"
#include "cli/flowtraq_names.h"
#include "cli/short_flags.h"

#include "test_support.h"

namespace flowscope {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using testing::run_flowscope;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "flowscope-cli-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

// 30 sessions in three hours, as the store tests write them.
void write_sessions_csv(const fs::path& path) {
  std::ofstream out(path);
  out << "cln_addr,srv_addr,srv_port,start_time,cln_bytes\n";
  for (int hour = 0; hour < 3; ++hour) {
    for (int i = 0; i < 10; ++i) {
      out << "10.0.0." << i << ",192.0.2.1,443,2026-11-24T0" << hour << ":0" << i << ":00Z,100\n";
    }
  }
}

std::uint64_t stored_rows(const fs::path& data) {
  auto r = run_flowscope({"store", "stats", "-d", data.string(), "--json"});
  if (r.exit_code != 0) return 0;
  const auto stats = nlohmann::json::parse(r.out);
  std::uint64_t rows = 0;
  for (const auto& p : stats["partitions"]) rows += p["rows"].get<std::uint64_t>();
  return rows;
}

// The last non-empty line of `text`.
std::string last_line(const std::string& text) {
  std::istringstream in(text);
  std::string last;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty()) last = l;
  }
  return last;
}

// `flowscope ARGS` as a child whose standard input is a pipe (stdin_pipe) or /dev/null and whose
// standard output is a pipe left unread (stdout_pipe) or the file out; stderr goes to err.
class Child {
 public:
  Child(const std::vector<std::string>& args, const fs::path& dir, bool stdin_pipe,
        bool stdout_pipe = false)
      : out_(dir / "child.out"), err_(dir / "child.err") {
    int in[2] = {-1, -1};
    int out[2] = {-1, -1};
    if (stdin_pipe) {
      EXPECT_EQ(::pipe2(in, O_CLOEXEC), 0);
    }
    if (stdout_pipe) {
      EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
    }
    pid_ = ::fork();
    if (pid_ == 0) {
      const int null = ::open("/dev/null", O_RDONLY);
      ::dup2(stdin_pipe ? in[0] : null, 0);
      const int out_fd = ::open(out_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(stdout_pipe ? out[1] : out_fd, 1);
      const int err_fd = ::open(err_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(err_fd, 2);
      std::vector<std::string> copy = args;
      copy.insert(copy.begin(), FLOWSCOPE_BINARY);
      std::vector<char*> argv;
      for (std::string& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    if (stdin_pipe) {
      ::close(in[0]);
      stdin_ = in[1];
    }
    if (stdout_pipe) {
      ::close(out[1]);
      stdout_ = out[0];
    }
  }
  ~Child() {
    close_stdin();
    if (stdout_ >= 0) ::close(stdout_);
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  void write_stdin(const std::string& bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(stdin_, bytes.data() + done, bytes.size() - done);
      ASSERT_GT(n, 0);
      done += static_cast<std::size_t>(n);
    }
  }
  // True once the child has read everything written to its standard input (the pipe is empty).
  bool stdin_drained() const {
    int queued = 0;
    return ::ioctl(stdin_, FIONREAD, &queued) == 0 && queued == 0;
  }
  void close_stdin() {
    if (stdin_ >= 0) ::close(stdin_);
    stdin_ = -1;
  }
  // True once the child catches SIGINT (its handler is installed; /proc/PID/status SigCgt).
  bool catches_sigint() const {
    std::ifstream status("/proc/" + std::to_string(pid_) + "/status");
    for (std::string line; std::getline(status, line);) {
      if (line.rfind("SigCgt:", 0) == 0) {
        const unsigned long long mask = std::stoull(line.substr(7), nullptr, 16);
        return (mask & (1ull << (SIGINT - 1))) != 0;
      }
    }
    return false;
  }
  void interrupt() const { ::kill(pid_, SIGINT); }
  // Reads and discards the unread standard output up to its end.
  void drain_stdout() {
    char buf[1 << 16];
    while (::read(stdout_, buf, sizeof buf) > 0) {
    }
  }
  // The exit code; -1 when a signal ended it.
  int wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  std::string out() const { return slurp(out_); }
  std::string err() const { return slurp(err_); }

 private:
  fs::path out_, err_;
  pid_t pid_ = -1;
  int stdin_ = -1;
  int stdout_ = -1;
};

template <typename F>
bool wait_for(F done, std::chrono::milliseconds limit = 20s) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return done();
}

void collect(const CLI::App& app, const std::string& path,
             std::vector<std::pair<std::string, const CLI::App*>>& out) {
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
    const std::string name = path.empty() ? sub->get_name() : path + " " + sub->get_name();
    out.emplace_back(name, sub);
    collect(*sub, name, out);
  }
}

// -d is the store directory wherever it appears, and every option that names a store directory
// (--dir, --data-dir) is -d. The FlowTraq (ftsq -d) and tcpflow (-d debug level) command lines
// are parsed outside this tree and live only under those program names (docs/packaging.md).
TEST(CliConventions, DashDIsTheStoreDirectoryEverywhere) {
  CLI::App app{"flowscope", "flowscope"};
  cli::register_all(app);
  std::vector<std::pair<std::string, const CLI::App*>> commands;
  collect(app, "", commands);
  std::set<std::string> with_store;
  for (const auto& [name, cmd] : commands) {
    for (const CLI::Option* o : cmd->get_options()) {
      const auto& snames = o->get_snames();
      const auto& lnames = o->get_lnames();
      const bool dash_d = std::find(snames.begin(), snames.end(), "d") != snames.end();
      const bool store_dir = std::find(lnames.begin(), lnames.end(), "dir") != lnames.end() ||
                             std::find(lnames.begin(), lnames.end(), "data-dir") != lnames.end();
      if (dash_d) {
        EXPECT_TRUE(store_dir) << name << ": -d is " << o->get_name() << ", not the store";
      }
      if (store_dir) {
        EXPECT_TRUE(dash_d) << name << ": " << o->get_name() << " without -d";
        with_store.insert(name);
      }
    }
  }
  for (const char* name :
       {"import", "query", "stat", "export", "report volume", "report detail", "store stats",
        "store retention", "store config", "store check", "store repair", "ipinfo refresh",
        "ipinfo show", "gen sessions", "schedule history"}) {
    EXPECT_TRUE(with_store.count(name)) << name << " has no -d";
  }
}

// Letter -> (primary long name -> the commands that have it), over the whole `flowscope` tree.
// The moved letters (short_flags.h) are left out: they are errors, not meanings. tcpflow's and
// FlowTraq's letters are outside the tree: `flowscope tcpflow` has no CLI11 options and
// ftsq/ftstat/ftum rewrite theirs to long names (flowtraq_program_args).
std::map<std::string, std::map<std::string, std::set<std::string>>> short_letters() {
  CLI::App app{"flowscope", "flowscope"};
  cli::register_all(app);
  std::vector<std::pair<std::string, const CLI::App*>> commands{{"", &app}};
  collect(app, "", commands);
  std::map<std::string, std::map<std::string, std::set<std::string>>> letters;
  for (const auto& [name, cmd] : commands) {
    for (const CLI::Option* o : cmd->get_options()) {
      if (cli::is_moved_flag(*o)) continue;
      const auto& lnames = o->get_lnames();
      for (const std::string& s : o->get_snames()) {
        letters[s][lnames.empty() ? "(none)" : lnames.front()].insert(name);
      }
    }
  }
  return letters;
}

// A letter is one option everywhere: the same primary long name in every subcommand, and a long
// name beside every letter.
TEST(CliConventions, OneMeaningPerShortLetter) {
  const auto letters = short_letters();
  ASSERT_GT(letters.size(), 10u);
  for (const auto& [letter, meanings] : letters) {
    std::string seen;
    for (const auto& [long_name, commands] : meanings) {
      seen +=
          " --" + long_name + " (" + *commands.begin() + (commands.size() > 1 ? ", ..." : "") + ")";
    }
    EXPECT_EQ(meanings.size(), 1u) << "-" << letter << " means" << seen;
    EXPECT_FALSE(meanings.count("(none)")) << "-" << letter << " has no long name";
  }
  // The incumbents' letters (docs/packaging.md).
  const std::map<std::string, std::string> expected = {
      {"c", "limit"},     {"C", "config"},  {"d", "data-dir"}, {"f", "filter"},
      {"i", "interface"}, {"n", "top"},     {"O", "sort"},     {"o", "output"},
      {"r", "read"},      {"s", "snaplen"}, {"t", "time"},     {"w", "write"}};
  for (const auto& [letter, long_name] : expected) {
    ASSERT_TRUE(letters.count(letter)) << "-" << letter;
    EXPECT_TRUE(letters.at(letter).count(long_name)) << "-" << letter << " is not --" << long_name;
  }
}

// docs/packaging.md's table of letters is the tree's, row for row.
TEST(CliConventions, TheLetterTableIsTheOptionTree) {
  const std::string doc = slurp(fs::path(FLOWSCOPE_SOURCE_DIR) / "docs/packaging.md");
  std::map<std::string, std::string> table;
  std::istringstream in(doc);
  for (std::string line; std::getline(in, line);) {
    // | `-c` | `--limit` | ... (indented under its list item)
    line.erase(0, line.find_first_not_of(' '));
    if (line.rfind("| `-", 0) != 0 || line.size() < 6 || line[5] != '`') continue;
    const auto open = line.find("`--", 6);
    ASSERT_NE(open, std::string::npos) << line;
    table[line.substr(4, 1)] = line.substr(open + 3, line.find('`', open + 3) - open - 3);
  }
  std::map<std::string, std::string> tree;
  for (const auto& [letter, meanings] : short_letters()) {
    if (letter != "h") tree[letter] = meanings.begin()->first;  // -h is CLI11's --help
  }
  EXPECT_EQ(table, tree);
}

// An old letter whose meaning moved is a usage error naming the new spelling; it never does
// something else (`stat -w 5m` used to be the bucket: it must not write a file named 5m).
TEST(CliConventions, MovedLettersAreErrorsNamingTheNewSpelling) {
  TempDir dir;
  const std::string data = (dir.path() / "data").string();
  const std::string five_m = (dir.path() / "5m").string();
  struct Case {
    std::vector<std::string> args;
    std::string names;
  };
  const std::vector<Case> cases = {
      {{"stat", "-d", data, "-w", five_m}, "--bucket"},
      {{"stat", "-d", data, "-g", five_m}, "--graph"},
      {{"stat", "-d", data, "-c"}, "--csv"},
      {{"query", "-d", data, "-n", "5"}, "-c N (--limit)"},
      {{"query", "-d", data, "-s", "total_bytes"}, "-O FIELD (--sort)"},
      {{"query", "-d", data, "-c", "SRVPORT==80"}, "--csv"},
      {{"serve", "-c", five_m}, "-C FILE (--config)"},
      {{"serve", "-C", five_m, "-n", five_m}, "--next FILE"},
      {{"user", "list", "-c", five_m}, "-C FILE (--config)"},
      {{"schedule", "list", "-c", five_m}, "-C FILE (--config)"},
      {{"schedule", "history", "-c", five_m}, "-C FILE (--config)"},
      {{"schedule", "history", "-d", data, "-n", "3"}, "-c N (--limit)"},
  };
  for (const Case& c : cases) {
    const auto r = run_flowscope(c.args);
    std::string line;
    for (const auto& a : c.args) line += " " + a;
    EXPECT_EQ(r.exit_code, 2) << line << "\n" << r.err;
    EXPECT_NE(r.err.find(c.names), std::string::npos) << line << "\n" << r.err;
    EXPECT_EQ(r.out, "") << line;
  }
  for (const Case& c : std::vector<Case>{{{"stat", "-d", data, "-w", five_m}, "ftstat"},
                                         {{"query", "-d", data, "-n", "5"}, "ftsq"}}) {
    EXPECT_NE(run_flowscope(c.args).err.find(c.names), std::string::npos) << c.names;
  }
  EXPECT_FALSE(fs::exists(five_m));
  EXPECT_FALSE(fs::exists(data)) << "a usage error opened the store";
}

// The new letters do what the table says, and FlowTraq's still mean FlowTraq's things under
// its program names.
TEST(CliConventions, NewLettersWorkAndFlowtraqKeepsItsOwn) {
  TempDir dir;
  const fs::path csv = dir.path() / "a.csv";
  write_sessions_csv(csv);
  const std::string data = (dir.path() / "data").string();
  ASSERT_EQ(run_flowscope({"import", "--dir", data, csv.string()}).exit_code, 0);
  auto q = run_flowscope({"query", "--data-dir", data, "-t", "all", "-c", "4", "-O",
                          "cln_addr:desc", "--csv", "--fields", "cln_addr"});
  ASSERT_EQ(q.exit_code, 0) << q.err;
  EXPECT_EQ(q.out, "10.0.0.9\n10.0.0.9\n10.0.0.9\n10.0.0.8\n");
  auto s = run_flowscope({"stat", "-d", data, "-t", "all", "--grp", "host", "--cnt", "sessions",
                          "-n", "2", "--bucket", "1h", "--csv"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_NE(s.out.find(','), std::string::npos);

  using Args = std::vector<std::string>;
  EXPECT_EQ(cli::flowtraq_program_args(
                "ftstat", {"-d", "x", "-n", "5", "-w", "1h", "-g", "g.png", "-c", "--", "-c"}),
            (Args{"flowscope", "stat", "--flowtraq-cli", "-d", "x", "--top", "5", "--bucket", "1h",
                  "--graph", "g.png", "--csv", "--", "-c"}));
  EXPECT_EQ(cli::flowtraq_program_args("ftsq", {"-d", "x", "-n", "5", "-s", "bytes", "-c"}),
            (Args{"flowscope", "query", "--flowtraq-cli", "-d", "x", "--limit", "5", "--sort",
                  "bytes", "--csv"}));
  EXPECT_EQ(cli::flowtraq_program_args("ftum", {"add", "bob", "-c", "s.toml", "-g", "lab"}),
            (Args{"flowscope", "user", "add", "bob", "--config", "s.toml", "-g", "lab"}));
}

// Under --log-format json every line on standard error is one JSON object with a level and a
// message: the warnings, notes and errors the subcommands write themselves go through the
// logger as spdlog's lines do (docs/packaging.md "Logs"); the text format keeps their wording.
TEST(CliConventions, JsonLogFormatMakesEveryStderrLineAnObject) {
  TempDir dir;
  const fs::path csv = dir.path() / "a.csv";
  write_sessions_csv(csv);
  std::ofstream(csv, std::ios::app) << "10.0.0.1,192.0.2.1,70000,2026-11-24T00:00:00Z,1\n";
  const fs::path junk = dir.path() / "junk.bin";
  std::ofstream(junk, std::ios::binary) << std::string("\x01\x02\x03 not a flow file\n", 21);
  const std::string data = (dir.path() / "data").string();
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    std::set<std::string> levels;  // the levels the lines must include
    std::string text;              // a line of the text format, word for word
  };
  const std::vector<Case> cases = {
      // a file that cannot be imported beside one with a skipped record: error, then main's
      {{"import", "-d", data, csv.string(), junk.string()},
       1,
       {"error"},
       "flowscope: error: " + junk.string() + ": not a flow file"},
      // user's note that the server reloads the file
      {{"user", "add", "alice", "-p", "pw", "--users", (dir.path() / "users.json").string()},
       0,
       {"info"},
       (dir.path() / "users.json").string() + ": saved;"},
      // login's warning before the error
      {{"query", "-srv", "127.0.0.1:1", "--tls", "--tls-insecure", "-un", "a", "-up", "b"},
       1,
       {"warn", "error"},
       "warning: --tls-insecure: the server's certificate is not verified"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> json_args = {"--log-format", "json"};
    json_args.insert(json_args.end(), c.args.begin(), c.args.end());
    const auto r = run_flowscope(json_args);
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args[0] << "\n" << r.err;
    std::set<std::string> levels;
    std::istringstream lines(r.err);
    int count = 0;
    for (std::string line; std::getline(lines, line);) {
      if (line.empty()) continue;
      ++count;
      const auto j = nlohmann::json::parse(line, nullptr, false);
      ASSERT_TRUE(j.is_object()) << c.args[0] << ": not JSON: " << line;
      ASSERT_TRUE(j.contains("level") && j["level"].is_string()) << line;
      ASSERT_TRUE(j.contains("message") && j["message"].is_string()) << line;
      EXPECT_FALSE(j["message"].get<std::string>().empty()) << line;
      levels.insert(j["level"].get<std::string>());
    }
    EXPECT_GE(count, 1) << c.args[0];
    for (const std::string& level : c.levels) {
      EXPECT_TRUE(levels.count(level)) << c.args[0] << " logged no " << level << ":\n" << r.err;
    }
    if (c.args[0] == "user") fs::remove(dir.path() / "users.json");
    const auto text = run_flowscope(c.args);
    EXPECT_NE(text.err.find(c.text), std::string::npos) << text.err;
    EXPECT_EQ(text.err.find("{\""), std::string::npos) << text.err;
  }
}

TEST(CliConventions, ImportOfAMissingFileCreatesNothing) {
  TempDir dir;
  const fs::path data = dir.path() / "new-store";
  write_sessions_csv(dir.path() / "a.csv");
  auto r = run_flowscope(
      {"import", "-d", data.string(), (dir.path() / "a.csv").string(), "no-such.csv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no-such.csv: no such file"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("nothing imported"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(data)) << "the store directory was created";
  EXPECT_EQ(r.out, "");

  // An existing store is left as it was.
  ASSERT_EQ(
      run_flowscope({"import", "-d", data.string(), (dir.path() / "a.csv").string()}).exit_code, 0);
  r = run_flowscope({"import", "-d", data.string(), "no-such.csv"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(stored_rows(data), 30u);
}

TEST(CliConventions, ImportDashReadsStandardInputAndJsonSummarises) {
  TempDir dir;
  const fs::path csv = dir.path() / "a.csv";
  write_sessions_csv(csv);
  const fs::path data = dir.path() / "data";
  Child child({"import", "-d", data.string(), "--json", "-"}, dir.path(), true);
  child.write_stdin(slurp(csv) + "10.0.0.1,192.0.2.1,70000,2026-11-24T00:00:00Z,1\n");
  child.close_stdin();
  ASSERT_EQ(child.wait(), 0) << child.err();
  const auto j = nlohmann::json::parse(child.out());
  EXPECT_EQ(j["records"], 30);
  EXPECT_EQ(j["failed"], 0);
  EXPECT_EQ(j["interrupted"], false);
  ASSERT_EQ(j["files"].size(), 1u);
  EXPECT_EQ(j["files"][0]["file"], "-");
  EXPECT_EQ(j["files"][0]["records"], 30);
  EXPECT_EQ(j["files"][0]["skipped"], 1);
  EXPECT_EQ(j["files"][0]["skipped_by_reason"]["bad_value"], 1);
  // Messages name standard input "stdin", with the line number.
  EXPECT_NE(j["files"][0]["examples"][0].get<std::string>().find("stdin:32"), std::string::npos)
      << j.dump();
  EXPECT_EQ(stored_rows(data), 30u);

  auto twice = run_flowscope({"import", "-d", data.string(), "-", "-"});
  EXPECT_EQ(twice.exit_code, 2) << twice.err;
}

TEST(CliConventions, CtrlCEndsImportWithWhatItStored) {
  TempDir dir;
  const fs::path csv = dir.path() / "a.csv";
  write_sessions_csv(csv);
  const fs::path data = dir.path() / "data";
  // The file is imported, then the import waits on standard input: Ctrl-C there.
  Child child({"import", "-d", data.string(), csv.string(), "-"}, dir.path(), true);
  ASSERT_TRUE(wait_for([&] { return child.catches_sigint(); }));
  ASSERT_TRUE(wait_for([&] {
    return child.out().find("imported 30 records") != std::string::npos;
  })) << child.err();
  child.write_stdin(
      "cln_addr,srv_addr,srv_port,start_time,cln_bytes\n"
      "10.9.9.9,192.0.2.1,443,2026-11-24T00:00:00Z,1\n");
  child.interrupt();
  child.close_stdin();
  EXPECT_EQ(child.wait(), 130) << child.err();
  EXPECT_NE(child.err().find("interrupted (Ctrl-C); 30 records stored"), std::string::npos)
      << child.err();
  EXPECT_EQ(stored_rows(data), 30u);  // the first file's rows, committed
}

TEST(CliConventions, CtrlCEndsGenFlowsWithAWholePcap) {
  TempDir dir;
  // A collector that only receives.
  const int sock = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(sock, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string to = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  const fs::path pcap = dir.path() / "v9.pcap";
  Child child({"gen", "flows", "--format", "v9", "--seed", "1", "--rate", "2000", "--count",
               "100000000", "--to", to, "--pcap", pcap.string(), "--json"},
              dir.path(), false);
  ASSERT_TRUE(wait_for([&] { return child.catches_sigint(); }));
  pollfd p{sock, POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 20000), 1) << "no datagram from gen";
  ::close(sock);
  child.interrupt();
  EXPECT_EQ(child.wait(), 130) << child.err();
  const std::string err = child.err();
  EXPECT_NE(err.find("interrupted (Ctrl-C) after"), std::string::npos) << err;
  // The JSON summary (the line before the error) and the pcap agree: every flow is in it.
  std::istringstream lines(err);
  nlohmann::json summary;
  for (std::string l; std::getline(lines, l);) {
    if (!l.empty() && l[0] == '{') summary = nlohmann::json::parse(l);
  }
  ASSERT_TRUE(summary.is_object()) << err;
  EXPECT_EQ(summary["interrupted"], true);
  EXPECT_GT(summary["flows"].get<std::uint64_t>(), 0u);
  // The pcap's datagrams go to the collector's port, not a default flow port.
  auto decoded = run_flowscope({"decode", pcap.string(), "--port",
                                std::to_string(ntohs(addr.sin_port)), "--stats", "--json"});
  ASSERT_EQ(decoded.exit_code, 0) << decoded.err;
  const auto stats = nlohmann::json::parse(decoded.out);
  std::uint64_t records = 0;
  for (const auto& e : stats["exporters"]) {
    records += e["records"].get<std::uint64_t>();
    EXPECT_EQ(e["dropped"], 0) << e.dump();
  }
  EXPECT_EQ(records, summary["flows"].get<std::uint64_t>()) << stats.dump();
  EXPECT_EQ(stats["capture"]["undecodable"], 0);
  EXPECT_EQ(stats["capture"]["frames"], summary["datagrams"]);
}

TEST(CliConventions, CtrlCEndsCaptureReadWithTheSessionsWritten) {
  TempDir dir;
  const fs::path pcap = dir.path() / "v5.pcap";
  ASSERT_EQ(run_flowscope({"gen", "flows", "--format", "v5", "--seed", "3", "--exporters", "3",
                           "--count", "3000", "--pcap", pcap.string(), "-q"})
                .exit_code,
            0);
  auto whole = run_flowscope({"capture", "-r", pcap.string(), "--json"});
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const auto whole_summary = nlohmann::json::parse(last_line(whole.err));
  EXPECT_EQ(whole_summary["interrupted"], false);
  EXPECT_GE(whole_summary["sessions"]["end_of_input"].get<int>(), 1);

  // The same packets through a pipe that stays open: everything read, then Ctrl-C.
  Child child({"capture", "-r", "-", "--json"}, dir.path(), true);
  ASSERT_TRUE(wait_for([&] { return child.catches_sigint(); }));
  child.write_stdin(slurp(pcap));
  ASSERT_TRUE(wait_for([&] { return child.stdin_drained(); }));
  std::this_thread::sleep_for(300ms);
  child.interrupt();
  child.close_stdin();
  EXPECT_EQ(child.wait(), 130) << child.err();
  EXPECT_EQ(child.out(), whole.out) << "the open sessions are written on the way out";
  const auto summary = nlohmann::json::parse(
      last_line(child.err().substr(0, child.err().find("flowscope: error: interrupted"))));
  EXPECT_EQ(summary["interrupted"], true);
  EXPECT_EQ(summary["packets"], whole_summary["packets"]);
  EXPECT_EQ(summary["sessions"], whole_summary["sessions"]);
  EXPECT_NE(child.err().find("flowscope: error: interrupted; the " +
                             std::to_string(whole_summary["sessions_written"].get<int>()) +
                             " sessions metered so far are written"),
            std::string::npos)
      << child.err();
}

TEST(CliConventions, CtrlCEndsGenSessionsWithWhatItReported) {
  TempDir dir;
  const fs::path data = dir.path() / "data";
  // Ten years at 1000 sessions a second: it runs until Ctrl-C.
  Child child({"gen", "sessions", "-d", data.string(), "--duration", "3650d", "--rate", "1000",
               "--seed", "5"},
              dir.path(), false);
  ASSERT_TRUE(wait_for([&] { return child.catches_sigint(); }));
  ASSERT_TRUE(wait_for([&] { return fs::exists(data); }));
  std::this_thread::sleep_for(500ms);
  child.interrupt();
  EXPECT_EQ(child.wait(), 130) << child.err();
  const std::string err = child.err();
  const std::string marker = "flowscope: error: interrupted (Ctrl-C); ";
  const auto at = err.find(marker);
  ASSERT_NE(at, std::string::npos) << err;
  const std::uint64_t reported = std::stoull(err.substr(at + marker.size()));
  EXPECT_GT(reported, 0u) << err;
  EXPECT_NE(err.find("gen sessions: " + std::to_string(reported) + " sessions from"),
            std::string::npos)
      << err;
  EXPECT_NE(err.find("(interrupted)"), std::string::npos) << err;
  // The store holds exactly what it reported, and checks clean.
  EXPECT_EQ(stored_rows(data), reported);
  auto check = run_flowscope({"store", "check", "-d", data.string()});
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
}

TEST(CliConventions, CtrlCCancelsAQuery) {
  TempDir dir;
  const fs::path data = dir.path() / "data";
  auto made = run_flowscope({"gen", "sessions", "-d", data.string(), "--duration", "1h", "--rate",
                             "40", "--seed", "1", "-q"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  // Standard output is a pipe nobody reads yet: the query blocks writing, Ctrl-C, then read.
  Child child({"query", "-d", data.string(), "-t", "all", "--csv"}, dir.path(), false, true);
  ASSERT_TRUE(wait_for([&] { return child.catches_sigint(); }));
  std::this_thread::sleep_for(300ms);
  child.interrupt();
  child.drain_stdout();
  EXPECT_EQ(child.wait(), 130) << child.err();
  EXPECT_NE(child.err().find("query cancelled (Ctrl-C)"), std::string::npos) << child.err();
}

TEST(CliConventions, JsonSummaries) {
  TempDir dir;
  const fs::path csv = dir.path() / "a.csv";
  write_sessions_csv(csv);
  const std::string data = (dir.path() / "data").string();
  auto imp = run_flowscope({"import", "-d", data, "--json", csv.string()});
  ASSERT_EQ(imp.exit_code, 0) << imp.err;
  EXPECT_EQ(nlohmann::json::parse(imp.out)["files"][0]["records"], 30);

  auto ret = run_flowscope({"store", "retention", "-d", data, "--keep", "2h", "--now",
                            "2026-11-24T03:30:00Z", "--json"});
  ASSERT_EQ(ret.exit_code, 0) << ret.err;
  const auto r = nlohmann::json::parse(ret.out);
  EXPECT_EQ(r["dropped_partitions"], 1);
  EXPECT_EQ(r["level"], "raw");
  EXPECT_NE(r["cutoff"].get<std::string>().find("2026-11-24"), std::string::npos) << ret.out;

  const fs::path pcap = dir.path() / "ipfix.pcap";
  auto gen = run_flowscope({"gen", "flows", "--format", "ipfix", "--seed", "2", "--count", "500",
                            "--exporters", "2", "--pcap", pcap.string(), "--json"});
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  const auto g = nlohmann::json::parse(last_line(gen.err));
  EXPECT_EQ(g["flows"], 500);
  EXPECT_EQ(g["format"], "ipfix");
  EXPECT_EQ(g["exporters"], 2);
  EXPECT_EQ(g["interrupted"], false);

  auto dec = run_flowscope({"decode", pcap.string(), "--stats", "--json"});
  ASSERT_EQ(dec.exit_code, 0) << dec.err;
  const auto d = nlohmann::json::parse(dec.out);
  EXPECT_EQ(d["capture"]["flow_datagrams"], g["datagrams"]);
  ASSERT_EQ(d["exporters"].size(), 2u);
  EXPECT_EQ(d["exporters"][0]["records"].get<int>() + d["exporters"][1]["records"].get<int>(), 500);
  // Without --stats, --json is the records as JSON lines.
  auto lines = run_flowscope({"decode", pcap.string(), "--json"});
  ASSERT_EQ(lines.exit_code, 0) << lines.err;
  EXPECT_EQ(std::count(lines.out.begin(), lines.out.end(), '\n'), 500);
  EXPECT_TRUE(nlohmann::json::parse(lines.out.substr(0, lines.out.find('\n'))).is_object());

  auto cap = run_flowscope(
      {"capture", "-r", pcap.string(), "--json", "-w", (dir.path() / "s.csv").string()});
  ASSERT_EQ(cap.exit_code, 0) << cap.err;
  const auto c = nlohmann::json::parse(last_line(cap.err));
  EXPECT_EQ(c["packets"], g["datagrams"]);
  EXPECT_GE(c["sessions"]["total"].get<int>(), 2);  // one per exporter at least
}

}  // namespace
}  // namespace flowscope
