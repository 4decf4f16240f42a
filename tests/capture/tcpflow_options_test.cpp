// tcpflow's getopt-style command line.
#include "capture/tcpflow/tcpflow_options.h"

#include <gtest/gtest.h>

namespace flowscope::capture::tcpflow {
namespace {

TcpflowOptions parse(std::vector<std::string> args) {
  auto r = parse_tcpflow_args(args);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? *r : TcpflowOptions{};
}

TEST(TcpflowOptions, AttachedAndSeparateArgumentsAndBundles) {
  EXPECT_TRUE(parse({}).strip_nonprint);  // tcpflow strips console output by default
  EXPECT_FALSE(parse({"-B"}).strip_nonprint);
  auto o = parse({"-r", "a.pcap", "-ra2.pcap", "-o", "out", "-ehttp", "-cs", "-b100", "-Fk"});
  EXPECT_EQ(o.read_files, (std::vector<std::string>{"a.pcap", "a2.pcap"}));
  EXPECT_EQ(o.outdir, "out");
  EXPECT_TRUE(o.http);
  EXPECT_TRUE(o.post_processing);
  EXPECT_TRUE(o.console);
  EXPECT_TRUE(o.strip_nonprint);
  EXPECT_EQ(o.max_bytes, 100);
  EXPECT_EQ(o.filename_template, std::string("%K/") + kDefaultTemplate);
}

TEST(TcpflowOptions, TrailingWordsAreTheExpressionEvenAfterOptions) {
  auto o = parse({"-r", "x.pcap", "port", "80", "-o", "d", "and", "host", "1.2.3.4"});
  EXPECT_EQ(o.expression, "port 80 and host 1.2.3.4");
  EXPECT_EQ(o.outdir, "d");
  auto l = parse({"-o", "d", "-l", "a.pcap", "b.pcap"});
  EXPECT_EQ(l.read_files, (std::vector<std::string>{"a.pcap", "b.pcap"}));
  EXPECT_EQ(l.expression, "");
  auto dd = parse({"-r", "x", "--", "-weird"});
  EXPECT_EQ(dd.expression, "-weird");
}

TEST(TcpflowOptions, FilenameFlagsFollowTcpflow) {
  EXPECT_EQ(parse({"-Fc"}).filename_template, "%A.%a-%B.%b%V%v%C%C");
  EXPECT_EQ(parse({"-Ft"}).filename_template, std::string("%tT") + kDefaultTemplate);
  EXPECT_EQ(parse({"-FT"}).filename_template, std::string("%T") + kDefaultTemplate);
  EXPECT_EQ(parse({"-T", "%A/%a"}).filename_template, "%A/%a%C%c");
  EXPECT_EQ(parse({"-T%N%c"}).filename_template, "%N%c");
  auto m = parse({"-FXM"});
  EXPECT_FALSE(m.store);
  EXPECT_TRUE(m.md5);
}

// tcpflow applies -e/-E/-x in order after parsing; `all` skips python (it needs settings).
TEST(TcpflowOptions, ScannerCommandsApplyInOrder) {
  auto a = parse({"-a"});
  EXPECT_TRUE(a.http && a.md5 && a.netviz && a.tcpdemux);
  EXPECT_FALSE(a.python);
  auto e = parse({"-e", "all", "-x", "netviz"});
  EXPECT_TRUE(e.http && e.md5 && e.tcpdemux && e.post_processing);
  EXPECT_FALSE(e.netviz || e.python);
  auto only = parse({"-e", "md5", "-E", "http"});
  EXPECT_TRUE(only.http);
  EXPECT_FALSE(only.md5 || only.tcpdemux || only.netviz);
  EXPECT_TRUE(parse({"-x", "tcpdemux"}).scanner_error.empty());
  EXPECT_FALSE(parse({"-x", "tcpdemux"}).tcpdemux);
  EXPECT_EQ(parse({"-e", "nope"}).scanner_error.rfind("Invalid scanner name 'nope'", 0), 0u);
}

TEST(TcpflowOptions, SettingsAndLongOptions) {
  auto o = parse({"-S", "tcp_timeout=30", "-Senable_report=NO", "--verbose", "--help"});
  EXPECT_EQ(o.tcp_timeout, 30u);
  EXPECT_FALSE(o.enable_report);
  EXPECT_EQ(o.debug, 10);
  EXPECT_EQ(o.help, 1);
  EXPECT_EQ(parse({"-hh"}).help, 2);
}

TEST(TcpflowOptions, UsageErrorsNameTheOption) {
  auto a = parse_tcpflow_args({"-r"});
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("-r requires an argument"), std::string::npos);
  auto b = parse_tcpflow_args({"-Y"});
  ASSERT_FALSE(b);
  EXPECT_NE(b.error().message.find("-Y"), std::string::npos);
  EXPECT_FALSE(parse_tcpflow_args({"-S", "novalue"}));
  EXPECT_FALSE(parse_tcpflow_args({"-Fq"}));
  EXPECT_FALSE(parse_tcpflow_args({"-z", "/tmp"}));  // -z needs -U
}

}  // namespace
}  // namespace flowscope::capture::tcpflow
