// -e python: a user function sees each stream and its answer lands in the DFXML report.
// Skipped when flowscope was built without -DFLOWSCOPE_TCPFLOW_PYTHON=ON.
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <unistd.h>

#include "capture/tcpflow/python_scanner.h"
#include "capture/tcpflow_test_support.h"

namespace flowscope::testing {
namespace {

namespace fs = std::filesystem;

TEST(TcpflowPython, FunctionResultsAreWrittenIntoTheReport) {
  if (!capture::tcpflow::PythonScanner::available()) {
    GTEST_SKIP()
        << "built without the python scanner (apt-get install pybind11-dev python3-dev; not in "
           "sanitizer builds)";
  }
  const fs::path capture = tcp_corpus_dir() / "tcp" / "tf_test1.pcap";
  if (!fs::exists(capture)) GTEST_SKIP() << "corpus not found at " << capture;
  const fs::path dir =
      fs::temp_directory_path() / ("flowscope-tcpflow-py-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "plugins");
  std::ofstream(dir / "plugins" / "sizes.py")
      << "def describe(data):\n"
         "    if data.startswith('GET'):\n"
         "        return None\n"
         "    return '%d bytes <%s>' % (len(data), data[:8])\n";
  const fs::path out = dir / "out";
  ASSERT_EQ(run_our_tcpflow({"-r", capture.string(), "-o", out.string(), "-e", "python", "-S",
                             "py_path=" + (dir / "plugins").string(), "-S", "py_module=sizes", "-S",
                             "py_function=describe"}),
            0);
  std::stringstream ss;
  ss << std::ifstream(out / "report.xml").rdbuf();
  const std::string report = ss.str();
  // The two server streams (2792 and 136 bytes) answer; the GET streams return None.
  EXPECT_NE(report.find("function=\"describe\">2792 bytes &lt;HTTP/1.1&gt;</tcpflow:result>"),
            std::string::npos);
  EXPECT_NE(report.find(">136 bytes &lt;HTTP/1.1&gt;</tcpflow:result>"), std::string::npos);
  EXPECT_EQ(report.find("655 bytes"), std::string::npos);
  EXPECT_NE(report.find("xmlns:tcpflow="), std::string::npos);
  EXPECT_TRUE(dfxml_closed(out / "report.xml"));
  // A module that does not exist is an error before any packet is read.
  EXPECT_EQ(run_our_tcpflow({"-r", capture.string(), "-o", (dir / "bad").string(), "-e", "python",
                             "-S", "py_module=no_such_module", "-S", "py_function=f"}),
            1);
  fs::remove_all(dir);
}

}  // namespace
}  // namespace flowscope::testing
