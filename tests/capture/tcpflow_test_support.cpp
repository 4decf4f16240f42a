// GCC 12 at -O1 with the sanitizers (make asan) reports -Wmaybe-uninitialized inside
// libstdc++'s std::regex, which this file uses; a false positive that Release does not show.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
#include "capture/tcpflow_test_support.h"

#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <signal.h>
#include <unistd.h>

#include "capture/tcpflow/tcpflow_options.h"
#include "capture/tcpflow/tcpflow_run.h"

namespace flowscope::testing {
namespace fs = std::filesystem;
namespace {

std::string md5_of(const std::string& data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

std::string base_name(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string our_tcpflow() {
  return (fs::path(FLOWSCOPE_BINARY).parent_path() / "tcpflow").string();
}

fs::path source_dir() {
  const char* s = std::getenv("FLOWSCOPE_SOURCE_DIR");
  return s != nullptr ? fs::path(s) : fs::path(FLOWSCOPE_SOURCE_DIR);
}

std::string http_response(const std::string& status, const std::vector<std::string>& headers,
                          const std::string& body) {
  std::string r = "HTTP/1.1 " + status + "\r\n";
  for (const auto& h : headers) r += h + "\r\n";
  return r + "\r\n" + body;
}

std::string http_ok(const std::string& body, const std::string& type) {
  return http_response(
      "200 OK", {"Content-Type: " + type, "Content-Length: " + std::to_string(body.size())}, body);
}

TempDir::TempDir(const std::string& name)
    : path_(fs::temp_directory_path() /
            ("flowscope-tcpflow-" + std::to_string(::getpid()) + "-" + name)) {
  fs::remove_all(path_);
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  if (std::getenv("FLOWSCOPE_KEEP_TEST_OUTPUT") == nullptr) fs::remove_all(path_, ec);
}

fs::path tcp_corpus_dir() {
  if (const char* env = std::getenv("FLOWSCOPE_CORPUS")) return env;
  return fs::path(FLOWSCOPE_SOURCE_DIR) / "tests" / "data" / "corpus";
}

int run_our_tcpflow(const std::vector<std::string>& args, const std::string& stdout_path) {
  auto options = capture::tcpflow::parse_tcpflow_args(args);
  if (!options) return 2;
  std::FILE* null_out = std::fopen(stdout_path.empty() ? "/dev/null" : stdout_path.c_str(), "w");
  const int rc = capture::tcpflow::run_tcpflow(*options, "tcpflow (test)", null_out, stderr);
  std::fclose(null_out);
  return rc;
}

int run_binary(const std::string& binary, const std::vector<std::string>& args, int timeout_s,
               const std::string& stdout_path, const std::string& stderr_path) {
  const pid_t pid = fork();
  if (pid == 0) {
    const int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    const int out = stdout_path.empty()
                        ? devnull
                        : open(stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(out, 1);
    const int err = stderr_path.empty()
                        ? devnull
                        : open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(err, 2);
    std::vector<std::string> copy = args;
    std::vector<char*> argv;
    std::string b = binary;
    argv.push_back(b.data());
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  int status = 0;
  while (true) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::string manifest(const fs::path& dir) {
  std::vector<std::string> names;
  if (fs::exists(dir)) {
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      const std::string rel = fs::relative(e.path(), dir).string();
      if (rel == "report.xml") continue;
      names.push_back(rel);
    }
  }
  std::sort(names.begin(), names.end());
  std::string out = "file,bytes,md5\n";
  for (const auto& n : names) {
    const std::string data = slurp(dir / n);
    out += fmt::format("{},{},{}\n", n, data.size(), md5_of(data));
  }
  return out;
}

std::map<std::string, DfxmlFlow> dfxml_flows(const fs::path& report) {
  const std::string text = slurp(report);
  std::map<std::string, DfxmlFlow> flows;
  static const std::regex attr_re("([a-z_]+)='([^']*)'");
  static const std::regex run_re(
      "<byte_run file_offset='([0-9]+)'><fileobject><filename>([^<]*)</filename><filesize>([0-9]+)"
      "</filesize>");
  std::map<std::string, int> anon_count;
  std::size_t at = 0;
  while ((at = text.find("<fileobject>\n", at)) != std::string::npos) {
    const std::size_t end = text.find("\n    </fileobject>", at);
    if (end == std::string::npos) break;
    const std::string block = text.substr(at, end - at);
    at = end;
    DfxmlFlow f;
    std::string name;
    if (auto p = block.find("<filename>"); p != std::string::npos && p < block.find("<tcpflow ")) {
      name = base_name(block.substr(p + 10, block.find("</filename>", p) - p - 10));
    }
    if (auto p = block.find("<filesize>"); p != std::string::npos) {
      f.filesize = block.substr(p + 10, block.find("</filesize>", p) - p - 10);
    }
    const auto t = block.find("<tcpflow ");
    if (t == std::string::npos) continue;
    const std::string tag = block.substr(t, block.find("/>", t) - t);
    for (std::sregex_iterator it(tag.begin(), tag.end(), attr_re), e; it != e; ++it) {
      f.attrs[(*it)[1]] = (*it)[2];
    }
    for (std::sregex_iterator it(block.begin(), block.end(), run_re), e; it != e; ++it) {
      f.byte_runs.push_back(
          fmt::format("{} {} {}", (*it)[1].str(), base_name((*it)[2]), (*it)[3].str()));
    }
    if (auto p = block.find("<hashdigest type='MD5'>"); p != std::string::npos) {
      f.md5 = block.substr(p + 23, 32);
    }
    if (name.empty()) {
      const std::string key = fmt::format("{}.{}-{}.{}", f.attrs["src_ipn"], f.attrs["srcport"],
                                          f.attrs["dst_ipn"], f.attrs["dstport"]);
      name = fmt::format("#{}:{}", anon_count[key]++, key);
    }
    flows[name] = f;
  }
  return flows;
}

bool dfxml_closed(const fs::path& report) {
  const std::string text = slurp(report);
  return text.size() >= 9 && text.rfind("</dfxml>\n") == text.size() - 9 &&
         text.find("  </configuration>\n  <summary />") != std::string::npos;
}

std::string describe_differences(const std::map<std::string, DfxmlFlow>& expected,
                                 const std::map<std::string, DfxmlFlow>& actual) {
  std::string out;
  auto show = [](const DfxmlFlow& f) {
    std::string s = "size=" + f.filesize;
    for (const auto& [k, v] : f.attrs) s += fmt::format(" {}={}", k, v);
    for (const auto& r : f.byte_runs) s += " run[" + r + "]";
    if (!f.md5.empty()) s += " md5=" + f.md5;
    return s;
  };
  for (const auto& [name, f] : expected) {
    auto it = actual.find(name);
    if (it == actual.end()) {
      out += fmt::format("missing {}\n", name);
    } else if (!(it->second == f)) {
      out += fmt::format("{}\n  expected {}\n  actual   {}\n", name, show(f), show(it->second));
    }
  }
  for (const auto& [name, f] : actual) {
    if (!expected.count(name)) out += fmt::format("unexpected {}: {}\n", name, show(f));
  }
  return out;
}

}  // namespace flowscope::testing
