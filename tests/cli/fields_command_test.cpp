// `flowscope fields`, run as a user would: the binary of this build, its stdout and exit code.
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/field_registry.h"

#include "test_support.h"

namespace flowscope {
namespace {

using testing::run_flowscope;

TEST(FieldsCommand, JsonListsEveryFieldWithItsComparators) {
  auto r = run_flowscope({"fields", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto fields = nlohmann::json::parse(r.out);
  ASSERT_EQ(fields.size(), kFieldCount);
  std::set<std::string> filters;
  for (const auto& f : fields) {
    std::string filter = f.at("filter");
    if (!filter.empty()) {
      filters.insert(filter);
      EXPECT_FALSE(f.at("comparators").empty()) << filter;
    }
    EXPECT_TRUE(f.contains("type"));
    EXPECT_TRUE(f.contains("description"));
  }
  for (const char* keyword :
       {"SRVIP",   "CLNIP",     "ADDR",    "SRVPORT", "CLNPORT", "PORT",    "PROTO",
        "CLNPKTS", "SRVPKTS",   "PACKETS", "TOTPKTS", "CLNBYTS", "SRVBYTS", "BYTES",
        "TOTBYTS", "TTIME",     "TOS",     "CLNCC",   "SRVCC",   "INIF",    "OUTIF",
        "IFACE",   "INVLAN",    "OUTVLAN", "VLAN",    "CLNAS",   "SRVAS",   "ASN",
        "ASAEVT",  "ASAEXTEVT", "FLAGS",   "EXPIP",   "EXPV"}) {
    EXPECT_TRUE(filters.count(keyword)) << keyword;
  }
  auto totbyts = std::find_if(fields.begin(), fields.end(),
                              [](const auto& f) { return f.at("filter") == "TOTBYTS"; });
  ASSERT_NE(totbyts, fields.end());
  EXPECT_EQ(totbyts->at("kind"), "sum");
  EXPECT_EQ(totbyts->at("definition"), "CLNBYTS + SRVBYTS");
  EXPECT_EQ(totbyts->at("comparators"), nlohmann::json::parse(R"(["==","!=","<","<=",">",">="])"));
}

TEST(FieldsCommand, JsonMatchesGolden) {
  auto r = run_flowscope({"fields", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string diff = testing::check_golden("cli/fields.json", r.out);
  EXPECT_EQ(diff, "");
}

TEST(FieldsCommand, TableFiltersByKind) {
  auto r = run_flowscope({"fields", "--kind", "flow"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("FILTER", 0), 0u);
  EXPECT_NE(r.out.find("src_addr"), std::string::npos);
  EXPECT_EQ(r.out.find("cln_addr"), std::string::npos);
  auto s = run_flowscope({"fields", "--kind", "session", "--filterable"});
  EXPECT_NE(s.out.find("CLNIP"), std::string::npos);
  EXPECT_NE(s.out.find("[CLNIP or SRVIP]"), std::string::npos);
  EXPECT_EQ(s.out.find("src_addr"), std::string::npos);
}

TEST(FieldsCommand, UsageErrorsExitWithTwo) {
  auto r = run_flowscope({"fields", "--kind", "packets"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("--kind"), std::string::npos) << r.err;
  auto none = run_flowscope({});
  EXPECT_EQ(none.exit_code, 2);
  auto unknown = run_flowscope({"frobnicate"});
  EXPECT_EQ(unknown.exit_code, 2);
}

TEST(FieldsCommand, HelpHasExamplesAndVersionPrints) {
  auto help = run_flowscope({"fields", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("Examples:"), std::string::npos);
  auto top = run_flowscope({"--help"});
  EXPECT_EQ(top.exit_code, 0);
  EXPECT_NE(top.out.find("Examples:"), std::string::npos);
  auto version = run_flowscope({"--version"});
  EXPECT_EQ(version.exit_code, 0);
  EXPECT_EQ(version.out.rfind("flowscope ", 0), 0u) << version.out;
  auto bad_level = run_flowscope({"--log-level", "loud", "fields"});
  EXPECT_EQ(bad_level.exit_code, 2);
  EXPECT_NE(bad_level.err.find("unknown log level"), std::string::npos) << bad_level.err;
}

}  // namespace
}  // namespace flowscope
