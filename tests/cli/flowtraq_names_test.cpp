// FlowTraq's program names: ftsq/ftstat/ftum command lines map onto flowscope's, CSV headers use
// the registry's filter keywords, and -us is bare (create a key) or takes a key (use it).
#include "cli/flowtraq_names.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "cli/server_login.h"

namespace flowscope::cli {
namespace {

using Args = std::vector<std::string>;

TEST(FlowtraqNames, ProgramFromArgv0) {
  EXPECT_EQ(flowtraq_program("/usr/bin/ftsq"), "ftsq");
  EXPECT_EQ(flowtraq_program("ftstat"), "ftstat");
  EXPECT_EQ(flowtraq_program("./bin/ftum"), "ftum");
  EXPECT_EQ(flowtraq_program("flowscope"), std::nullopt);
  EXPECT_EQ(flowtraq_program("ftsqx"), std::nullopt);
}

TEST(FlowtraqNames, CommandLines) {
  EXPECT_EQ(flowtraq_program_args("ftsq", {"-srv", "h", "-t", "1h"}),
            (Args{"flowscope", "query", "--flowtraq-cli", "-srv", "h", "-t", "1h"}));
  // The manual: "log in to a FlowTraq Server (or accept the default, localhost)".
  EXPECT_EQ(flowtraq_program_args("ftstat", {"-un", "a", "-grp", "host"}),
            (Args{"flowscope", "stat", "--flowtraq-cli", "--srv", "localhost", "-un", "a", "-grp",
                  "host"}));
  EXPECT_EQ(flowtraq_program_args("ftsq", {"-d", "data"}),
            (Args{"flowscope", "query", "--flowtraq-cli", "-d", "data"}));
  EXPECT_EQ(flowtraq_program_args("ftum", {"-un", "U", "-up", "P", "-us"}),
            (Args{"flowscope", "user", "key", "--flowtraq-cli", "--srv", "localhost", "-un", "U",
                  "-up", "P", "-us"}));
  EXPECT_EQ(flowtraq_program_args("ftum", {"add", "bob", "-p", "x"}),
            (Args{"flowscope", "user", "add", "bob", "-p", "x"}));
}

TEST(FlowtraqNames, SessionKeyBareOrGiven) {
  const std::string key(64, 'a');
  EXPECT_EQ(translate_flowtraq_options({"ftum", "-un", "U", "-up", "P", "-us"}),
            (Args{"ftum", "--un", "U", "--up", "P", "--request-key"}));
  EXPECT_EQ(translate_flowtraq_options({"ftsq", "-un", "U", "-up", "P", "-us", "SRVPORT==80"}),
            (Args{"ftsq", "--un", "U", "--up", "P", "--request-key", "SRVPORT==80"}));
  EXPECT_EQ(translate_flowtraq_options({"ftstat", "-us", key, "-grp", "host"}),
            (Args{"ftstat", "--key", key, "-grp", "host"}));
}

TEST(FlowtraqNames, CsvHeaderKeywords) {
  EXPECT_EQ(flowtraq_header("start_time,cln_addr,srv_port,total_bytes,duration"),
            "STARTTIME,CLNIP,SRVPORT,TOTBYTS,TTIME");
  EXPECT_EQ(flowtraq_header("rank,cln_addr/24,bytes_sent\r"), "RANK,CLNIP/24,BYTES_SENT\r");
  std::ostringstream out;
  auto buf = make_header_keyword_buf(out.rdbuf());
  std::ostream os(buf.get());
  os << "cln_addr,srv_addr\n10.0.0.1,cln_addr\n";
  os.flush();
  EXPECT_EQ(out.str(), "CLNIP,SRVIP\n10.0.0.1,cln_addr\n");
}

TEST(FlowtraqNames, PasswordFromFileOrEnvironment) {
  ServerLogin login;
  login.user = "alice";
  const std::string file = ::testing::TempDir() + "/flowtraq_pw";
  { std::ofstream(file) << "s3cret\n"; }
  login.password_file = file;
  EXPECT_EQ(login_password(login), "s3cret");
  login.password_file.clear();
  ::setenv("FLOWSCOPE_PASSWORD", "fromenv", 1);
  EXPECT_EQ(login_password(login), "fromenv");
  login.password = "argv";
  EXPECT_EQ(login_password(login), "argv");
  ::unsetenv("FLOWSCOPE_PASSWORD");
}

}  // namespace
}  // namespace flowscope::cli
