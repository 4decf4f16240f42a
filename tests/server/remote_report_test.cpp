// `flowscope report -srv` (docs/reports.md "Over a server"): a report built over the query
// protocol's typed answers (server/remote_report_source.h) has the same numbers as the same
// report built from the store itself, and the server applies the user's data permissions.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "query/typed_json.h"
#include "server/http_fixture.h"
#include "server/remote_report_source.h"
#include "store/embedded_store.h"

#include "report/report_model.h"
#include "report/volume_report.h"

namespace flowscope::server::testing {
namespace {

class RemoteReportTest : public HttpFixture {
 protected:
  Client connect(const std::string& user, const std::string& password) const {
    ClientOptions o;
    o.server = "127.0.0.1:" + std::to_string(server_->query_port());
    o.user = user;
    o.password = password;
    auto c = Client::connect(o);
    EXPECT_TRUE(c) << c.error().message;
    return std::move(*c);
  }

  report::VolumeOptions options(report::VolumeType type) const {
    report::VolumeOptions v;
    v.type = type;
    v.top = 5;
    v.threshold_bps = 0;
    v.begin_ms = kHttpNowMs - 86'400'000;
    v.end_ms = kHttpNowMs;
    return v;
  }

  // The report as JSON without the query notes' origin (-d or -srv), which differ by design.
  static std::string without_origin(nlohmann::json j, const std::string& origin) {
    std::string text = j.dump(1);
    for (std::size_t at; (at = text.find(origin)) != std::string::npos;) {
      text.replace(at, origin.size(), "ORIGIN");
    }
    return text;
  }
};

TEST_F(RemoteReportTest, SameNumbersAsFromTheStore) {
  store::StoreOptions so;
  so.dir = dir_ / "data";
  so.read_only = true;
  auto st = store::EmbeddedStore::open(so);
  ASSERT_TRUE(st) << st.error().message;
  for (auto type : {report::VolumeType::Manager, report::VolumeType::Operator,
                    report::VolumeType::Conversation}) {
    report::BackendSource local(**st, {}, "-d LOCAL");
    auto want = report::build_volume_report(local, options(type), groups_.get());
    ASSERT_TRUE(want) << want.error().message;
    RemoteReportSource remote(connect("admin", "adminpw"), "-srv REMOTE");
    auto got = report::build_volume_report(remote, options(type), groups_.get());
    ASSERT_TRUE(got) << got.error().message;
    const std::string w = without_origin(report::to_json(*want), "-d LOCAL");
    const std::string g = without_origin(report::to_json(*got), "-srv REMOTE");
    EXPECT_EQ(g, w) << report::volume_type_name(type);
    EXPECT_NE(w.find("ORIGIN"), std::string::npos);  // the notes name where numbers came from
    EXPECT_GT(w.size(), 2000u) << w;                 // tables with rows, not an empty shell
  }
}

TEST_F(RemoteReportTest, TheServerAppliesTheUsersPermissions) {
  RemoteReportSource admin(connect("admin", "adminpw"), "-srv A");
  RemoteReportSource bob(connect("bob", "bobpw"), "-srv B");
  query::StatSpec spec;
  spec.where.begin_ms = kHttpNowMs - 86'400'000;
  spec.where.end_ms = kHttpNowMs;
  auto all = admin.stat(spec);
  auto campus = bob.stat(spec);
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_TRUE(campus) << campus.error().message;
  EXPECT_GT(all->total.sessions, campus->total.sessions);
  EXPECT_GT(campus->total.sessions, 0u);
}

// The command line: `report volume -srv` writes the same JSON report as `report volume -d` on
// the server's store (the notes aside), and refuses -d with -srv.
TEST_F(RemoteReportTest, TheCommandOverASrvWritesTheSameReport) {
  const std::string srv = "127.0.0.1:" + std::to_string(server_->query_port());
  const std::vector<std::string> common = {
      "--type",   "operator",   "--start",  "2026-09-20",
      "--end",    "2026-09-21", "--groups", groups_file_.string(),
      "--format", "json",       "-q"};
  auto run = [&](std::vector<std::string> where, const std::string& out) {
    std::vector<std::string> args = {"report", "volume"};
    args.insert(args.end(), where.begin(), where.end());
    args.insert(args.end(), common.begin(), common.end());
    args.insert(args.end(), {"--out", (dir_ / out).string()});
    return flowscope::testing::run_flowscope(args);
  };
  auto remote = run({"-srv", srv, "-un", "admin", "-up", "adminpw"}, "remote");
  ASSERT_EQ(remote.exit_code, 0) << remote.err;
  auto local = run({"-d", (dir_ / "data").string()}, "local");
  ASSERT_EQ(local.exit_code, 0) << local.err;
  auto read = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    return nlohmann::json::parse(in, nullptr, false);
  };
  nlohmann::json r = read(dir_ / "remote" / "volume-operator.json");
  nlohmann::json l = read(dir_ / "local" / "volume-operator.json");
  ASSERT_FALSE(r.is_discarded());
  ASSERT_FALSE(l.is_discarded());
  r.erase("generated");  // the wall clock of each run
  l.erase("generated");
  EXPECT_EQ(without_origin(r, "-srv " + srv), without_origin(l, "-d " + (dir_ / "data").string()));
  EXPECT_NE(r.dump().find("-srv " + srv), std::string::npos);

  auto both = run({"-srv", srv, "-d", (dir_ / "data").string()}, "both");
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_NE(both.err.find("not both"), std::string::npos) << both.err;
  auto wrong = run({"-srv", srv, "-un", "admin", "-up", "nope"}, "wrong");
  EXPECT_NE(wrong.exit_code, 0);
}

TEST(TypedJson, StatResultsRoundTripAndBadAnswersAreNamed) {
  query::StatSpec spec;
  auto addr = query::parse_group_spec("CLNIP,SRVPORT");
  ASSERT_TRUE(addr) << addr.error().message;
  spec.group_by = *addr;
  query::StatResult r;
  r.group_by = spec.group_by;
  r.keys.add_rows(2);
  r.keys.set<FieldId::ClnAddr>(0, *IpAddress::parse("10.1.2.3"));
  r.keys.set<FieldId::ClnAddr>(1, *IpAddress::parse("2001:db8::1"));
  r.keys.set<FieldId::SrvPort>(0, 443);  // row 1's port absent
  r.rows = {{10, 10, 2, 1}, {5, 5, 1, 1}};
  r.others = {1, 1, 1, 1};
  r.other_groups = 3;
  r.total = {16, 16, 4, 3};
  r.total_groups = 5;
  const nlohmann::json j = query::typed_stat_result(r);
  EXPECT_EQ(j["keys"]["cln_addr"], nlohmann::json::array({"10.1.2.3", "2001:db8::1"}));
  EXPECT_EQ(j["keys"]["srv_port"], nlohmann::json::array({443, nullptr}));
  auto back = query::stat_result_from_typed(spec, j);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(query::typed_stat_result(*back), j);
  EXPECT_FALSE(back->keys.is_set(FieldId::SrvPort, 1));

  nlohmann::json bad = j;
  bad["keys"]["srv_port"][0] = "https";
  auto e = query::stat_result_from_typed(spec, bad);
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("srv_port"), std::string::npos) << e.error().message;
  bad = j;
  bad["keys"]["srv_port"][0] = 70000;
  EXPECT_FALSE(query::stat_result_from_typed(spec, bad));
  bad = j;
  bad["rows"][1] = nlohmann::json::array({1, 2});
  EXPECT_FALSE(query::stat_result_from_typed(spec, bad));
  bad = j;
  bad["keys"].erase("cln_addr");
  EXPECT_FALSE(query::stat_result_from_typed(spec, bad));
}

}  // namespace
}  // namespace flowscope::server::testing
