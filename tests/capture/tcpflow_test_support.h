#pragma once
// Helpers for the tcpflow tests: running our tcpflow in-process or another binary (Debian's
// tcpflow) with a deadline, manifests of an output directory (file,bytes,md5 as the corpus truth
// files), and the per-flow part of a DFXML report.

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace flowscope::testing {

// Debian's tcpflow 1.6.1, which the parity tests compare with (they skip when it is absent).
inline const std::string kTcpflow = "/usr/bin/tcpflow";

// This build's tcpflow drop-in (bin/tcpflow, the flowscope-tcpflow executable).
std::string our_tcpflow();

// The source tree: $FLOWSCOPE_SOURCE_DIR, else the one this test binary was built from.
std::filesystem::path source_dir();

// An HTTP/1.1 response: status line, headers, blank line, body.
std::string http_response(const std::string& status, const std::vector<std::string>& headers,
                          const std::string& body = "");
// A 200 with a Content-Type and a Content-Length body.
std::string http_ok(const std::string& body, const std::string& type = "text/plain");

// A whole file's bytes ("" when it cannot be read).
std::string slurp(const std::filesystem::path& path);

// A fresh directory flowscope-tcpflow-<pid>-<name> under the temp directory, removed at the end
// unless FLOWSCOPE_KEEP_TEST_OUTPUT is set (to look at what both tools wrote).
class TempDir {
 public:
  explicit TempDir(const std::string& name);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& s) const { return path_ / s; }

 private:
  std::filesystem::path path_;
};

// The corpus root: $FLOWSCOPE_CORPUS, else tests/data/corpus in the source tree.
std::filesystem::path tcp_corpus_dir();

// Runs `flowscope tcpflow ARGS` in this process; returns its exit code. Standard output goes to
// `stdout_path` (/dev/null when empty).
int run_our_tcpflow(const std::vector<std::string>& args, const std::string& stdout_path = "");

// Runs `binary ARGS` with stdin on /dev/null, stdout to `stdout_path` and stderr to
// `stderr_path` (/dev/null when empty), killed after `timeout_s`. Returns the exit code, or -1
// when it had to be killed.
int run_binary(const std::string& binary, const std::vector<std::string>& args, int timeout_s,
               const std::string& stdout_path = "", const std::string& stderr_path = "");

// "file,bytes,md5" lines, sorted by name (C locale), of every file under `dir` except
// report.xml, with a header line, as the corpus's tcp_truth.sh writes them.
std::string manifest(const std::filesystem::path& dir);

struct DfxmlFlow {
  std::string filesize;
  std::map<std::string, std::string> attrs;  // of <tcpflow .../>
  std::vector<std::string> byte_runs;        // "offset name size", names without directories
  std::string md5;                           // <hashdigest type='MD5'>, "" when absent
  bool operator==(const DfxmlFlow&) const = default;
};
// Flows of a report keyed by file name without directory; flows without a file are keyed
// "#<n>:<src>.<sport>-<dst>.<dport>" in order of appearance per key.
std::map<std::string, DfxmlFlow> dfxml_flows(const std::filesystem::path& report);
// Whether the text ends with a closed </dfxml> element (the document is complete).
bool dfxml_closed(const std::filesystem::path& report);

// Human-readable differences between two flow maps ("" when equal).
std::string describe_differences(const std::map<std::string, DfxmlFlow>& expected,
                                 const std::map<std::string, DfxmlFlow>& actual);

}  // namespace flowscope::testing
