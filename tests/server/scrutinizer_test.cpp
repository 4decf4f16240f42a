// Scrutinizer compatibility (/fcgi/scrut_fcgi.fcgi, docs/http.md "Scrutinizer"): the report_api
// example of Scrutinizer's documentation (a host2host report of IP group 16800023 for the last
// hour) sent as its URL; every report type x direction x filter kind compared with `flowscope
// stat` on the same store (the expected group fields, side and filter are written here, from
// docs/http.md, not taken from the server); graphs against the table; report_start,
// get_known_objects, status topInterfaces and user_api round trips; bad tokens and bad input.
#include <set>

#include "server/scrutinizer_report.h"

#include "http_fixture.h"

namespace flowscope::server::testing {
namespace {

constexpr const char* kFcgi = "/fcgi/scrut_fcgi.fcgi";

// What each report is in `flowscope stat` terms (docs/http.md), inbound and outbound.
struct Expected {
  const char* type;
  const char* inbound;
  const char* outbound;
  bool outbound_receives;  // no client/server field to swap: the server's side is -rcv
};
const Expected kReports[] = {
    {"host2host", "cln_addr,srv_addr", "srv_addr,cln_addr", false},
    {"conversations", "cln_addr,srv_addr,srv_port,proto", "srv_addr,cln_addr,srv_port,proto",
     false},
    {"conversationsApp", "cln_addr,srv_addr,application", "srv_addr,cln_addr,application", false},
    {"applications", "application", "application", true},
    {"srcHosts", "cln_addr", "srv_addr", false},
    {"dstHosts", "srv_addr", "cln_addr", false},
    {"country2country", "cln_country,srv_country", "srv_country,cln_country", false},
    {"ipGroupGroup", "cln_group,srv_group", "srv_group,cln_group", false},
    {"tos", "tos", "tos", true},
    {"interfaces", "exporter,in_if", "exporter,out_if", false},
};

// One filter of each kind, and the FlowTraq filter that selects the same sessions (written
// here for inbound: src = client; outbound swaps CLN and SRV).
struct FilterCase {
  const char* name;
  nlohmann::json filters;
  const char* inbound;
  const char* outbound;
};
std::vector<FilterCase> filter_cases() {
  return {
      {"none", nlohmann::json::object(), "", ""},
      {"sdfDips",
       {{"sdfDips_0", "in_C0000201_ALL"}, {"sdfDips_1", "in_C0000202_C0000202-2"}},
       "EXPIP == 192.0.2.1 || (EXPIP == 192.0.2.2 && IFACE == 2)",
       "EXPIP == 192.0.2.1 || (EXPIP == 192.0.2.2 && IFACE == 2)"},
      {"sdfIPGroups",
       {{"sdfIPGroups_0", "in_16800023_src"}, {"sdfIPGroups_1", "in_16800030_dst"}},
       "CLNGRP == 16800023 || CLNGRP == 16800024 || SRVGRP == 16800030",
       "SRVGRP == 16800023 || SRVGRP == 16800024 || CLNGRP == 16800030"},
      {"sdfIps",
       {{"sdfIps_0", "in_10.1.0.0/16_Both"}, {"sdfIPGroups_0", "in_16800030_both"}},
       "(ADDR == 10.1.0.0/16) && (GROUP == 16800030)",
       "(ADDR == 10.1.0.0/16) && (GROUP == 16800030)"},
  };
}

class Scrutinizer : public HttpFixture {
 protected:
  std::string custom_window() const {
    return fmt::format("{}..{}", kHttpNowMs / 1000 - 5400, kHttpNowMs / 1000 - 600);
  }
  nlohmann::json rpt(const std::string& type, const std::string& dir,
                     const nlohmann::json& filters) const {
    return {{"reportTypeLang", type},
            {"reportDirections", {{"selected", dir}}},
            {"times",
             {{"dateRange", "Custom"},
              {"start", std::to_string(kHttpNowMs / 1000 - 5400)},
              {"end", std::to_string(kHttpNowMs / 1000 - 600)},
              {"clientTimezone", "America/New_York"}}},
            {"orderBy", "sum_octetdeltacount"},
            {"filters", filters},
            {"dataGranularity", {{"selected", "auto"}}}};
  }
  static nlohmann::json wanted(const std::string& dir, std::size_t rows, const char* graph) {
    return {{dir,
             {{"graph", graph},
              {"table", {{"query_limit", {{"offset", 0}, {"max_num_rows", rows}}}}}}}};
  }
  HttpReply report(const nlohmann::json& rpt_json, const nlohmann::json& data,
                   const std::string& token) const {
    return get(std::string(kFcgi) + "?" +
               query_string({{"rm", "report_api"},
                             {"action", "get"},
                             {"rpt_json", rpt_json.dump()},
                             {"data_requested", data.dump()},
                             {"authToken", token}}));
  }
  // A group id in a CLI row is its name in a report's label.
  std::string label_of(const std::string& field, const nlohmann::json& value) const {
    if (value.is_null()) return "";
    std::string text = value.is_string() ? value.get<std::string>() : value.dump();
    if ((field == "cln_group" || field == "srv_group") && !text.empty()) {
      if (const auto* g = groups_->group(static_cast<std::uint32_t>(std::stoul(text)))) {
        return g->name;
      }
    }
    return text;
  }
  // The report's table rows equal the CLI's rows: keys, bytes, packets, sessions.
  void expect_same(const nlohmann::json& table, const std::vector<nlohmann::json>& cli,
                   const std::string& group, const std::string& what) const {
    std::vector<std::string> fields;
    std::istringstream split(group);
    for (std::string f; std::getline(split, f, ',');) fields.push_back(f);
    std::vector<nlohmann::json> rows;
    for (const auto& l : cli) {
      if (!l.contains("others") && !l.contains("total")) rows.push_back(l);
    }
    ASSERT_EQ(table["rows"].size(), rows.size()) << what;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& cells = table["rows"][i];
      for (std::size_t k = 0; k < fields.size(); ++k) {
        const std::string expected =
            rows[i].contains(fields[k]) ? label_of(fields[k], rows[i][fields[k]]) : "";
        EXPECT_EQ(cells[1 + k]["label"], expected) << what << " row " << i << " " << fields[k];
      }
      EXPECT_EQ(cells[fields.size() + 2]["rawValue"], rows[i]["bytes"]) << what << " row " << i;
      EXPECT_EQ(cells[fields.size() + 3]["rawValue"], rows[i]["packets"]) << what;
      EXPECT_EQ(cells[fields.size() + 4]["rawValue"], rows[i]["sessions"]) << what;
    }
    for (const auto& l : cli) {
      if (l.value("total", false)) {
        EXPECT_EQ(table["total_rows"], l["groups"]) << what;
        EXPECT_EQ(table["footer"]["total"][fields.size() + 2]["rawValue"], l["bytes"]) << what;
      }
    }
  }
};

// Scrutinizer's documented example (docs: "Reporting API"): host2host, inbound, all exporters,
// one IP group, the last hour, 10 rows with graphs; sent as a GET URL, as its docs write it.
TEST_F(Scrutinizer, TheDocumentedExampleUrlAnswersTheHostPairsOfTheIpGroup) {
  const std::string url =
      std::string(kFcgi) + "?rm=report_api&action=get&rpt_json=" +
      url_encode(R"({"reportTypeLang":"host2host","reportDirections":{"selected":"inbound"},)"
                 R"("times":{"dateRange":"LastHour","clientTimezone":"America/New_York"},)"
                 R"("orderBy":"sum_octetdeltacount","filters":{"sdfDips_0":"in_GROUP_ALL",)"
                 R"("sdfIPGroups_0":"in_16800023_both"},"dataGranularity":{"selected":"auto"}})") +
      "&data_requested=" +
      url_encode(R"({"inbound":{"graph":"all","table":{"query_limit":{"offset":0,)"
                 R"("max_num_rows":10}}}})") +
      "&authToken=" + tokens_["admin"];
  const HttpReply r = get(url);
  ASSERT_EQ(r.status, 200);
  ASSERT_FALSE(r.json.contains("err")) << r.body;
  const auto& table = r.json["report"]["table"]["inbound"];
  ASSERT_GT(table["rows"].size(), 0u);
  // LastHour is the last 60 whole minutes (1-minute granularity): 13:13..14:13 at 14:13:20.
  const std::int64_t minute_end = kHttpNowMs / 1000 / 60 * 60;
  const auto cli = cli_stat({"-t", fmt::format("{}..{}", minute_end - 3600, minute_end), "-grp",
                             "cln_addr,srv_addr", "-cnt", "bytes", "-snd", "-n", "10",
                             "GROUP == 16800023 || GROUP == 16800024"});
  expect_same(table, cli, "cln_addr,srv_addr", "seed example");
  // Every pair touches the group (Campus, Physics nested in it).
  const Cidr campus = *Cidr::parse("10.1.0.0/16");
  for (const auto& row : table["rows"]) {
    const auto a = IpAddress::parse(row[1]["label"].get<std::string>());
    const auto b = IpAddress::parse(row[2]["label"].get<std::string>());
    ASSERT_TRUE(a && b);
    EXPECT_TRUE(campus.contains(*a) || campus.contains(*b)) << row.dump();
  }
  EXPECT_EQ(r.json["report_object"]["dataGranularity"]["used"], 1);
  EXPECT_EQ(r.json["report_object"]["times"]["start"], minute_end - 3600);
  EXPECT_EQ(r.json["report_object"]["times"]["end"], minute_end);
}

TEST_F(Scrutinizer, EveryReportTypeDirectionAndFilterKindIsFlowscopeStat) {
  std::size_t compared = 0;
  std::size_t non_empty = 0;
  for (const Expected& e : kReports) {
    for (const std::string dir : {"inbound", "outbound"}) {
      for (const FilterCase& f : filter_cases()) {
        const std::string what = fmt::format("{} {} {}", e.type, dir, f.name);
        const HttpReply r =
            report(rpt(e.type, dir, f.filters), wanted(dir, 1000, "none"), tokens_["admin"]);
        ASSERT_EQ(r.status, 200) << what;
        ASSERT_FALSE(r.json.contains("err")) << what << ": " << r.body;
        const bool out = dir == "outbound";
        const std::string group = out ? e.outbound : e.inbound;
        std::vector<std::string> args = {"-t",
                                         custom_window(),
                                         "-grp",
                                         group,
                                         "-cnt",
                                         "bytes",
                                         out && e.outbound_receives ? "-rcv" : "-snd",
                                         "-n",
                                         "1000"};
        const std::string filter = out ? f.outbound : f.inbound;
        if (!filter.empty()) args.push_back(filter);
        const auto cli = cli_stat(args);
        ASSERT_TRUE(r.json["report"]["table"].contains(dir)) << what << ": " << r.body;
        expect_same(r.json["report"]["table"][dir], cli, group, what);
        ++compared;
        if (!r.json["report"]["table"][dir]["rows"].empty()) ++non_empty;
      }
    }
  }
  EXPECT_EQ(compared, std::size(kReports) * 2 * filter_cases().size());
  EXPECT_EQ(non_empty, compared);  // every comparison had rows to compare
}

TEST_F(Scrutinizer, PostFormsMultipartAndGetAgreeAndGraphsFollowTheTable) {
  const nlohmann::json r = rpt("srcHosts", "inbound", {{"sdfDips_0", "in_GROUP_ALL"}});
  const nlohmann::json d = wanted("inbound", 5, "all");
  const HttpReply by_get = report(r, d, tokens_["admin"]);
  const std::vector<std::pair<std::string, std::string>> form = {{"rm", "report_api"},
                                                                 {"action", "get"},
                                                                 {"rpt_json", r.dump()},
                                                                 {"data_requested", d.dump()},
                                                                 {"authToken", tokens_["admin"]}};
  const HttpReply by_form = post_form(kFcgi, form);
  const HttpReply by_multipart = post_multipart(kFcgi, form);
  ASSERT_FALSE(by_get.json.contains("err")) << by_get.body;
  EXPECT_EQ(by_form.json, by_get.json);
  EXPECT_EQ(by_multipart.json, by_get.json);
  // jQuery-style nested parameters for data_requested.
  auto nested = form;
  nested.erase(nested.begin() + 3);
  for (const auto& [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"data_requested[inbound][graph]", "all"},
           {"data_requested[inbound][table][query_limit][offset]", "0"},
           {"data_requested[inbound][table][query_limit][max_num_rows]", "5"}}) {
    nested.emplace_back(k, v);
  }
  EXPECT_EQ(post_form(kFcgi, nested).json, by_get.json);

  const auto& pie = by_get.json["report"]["graph"]["pie"]["inbound"];
  const auto& series = by_get.json["report"]["graph"]["timeseries"]["inbound"];
  const auto& table = by_get.json["report"]["table"]["inbound"];
  ASSERT_EQ(pie.size(), 6u);  // 5 rows and "Other"
  ASSERT_EQ(series.size(), pie.size());
  EXPECT_EQ(pie.back()["label"], "Other");
  std::uint64_t pie_total = 0;
  for (std::size_t i = 0; i < pie.size(); ++i) {
    std::uint64_t sum = 0;
    for (const auto& p : series[i]) {
      EXPECT_EQ(p[0].get<std::int64_t>() % 60, 0);  // 1-minute buckets, epoch seconds
      sum += p[1].get<std::uint64_t>();
    }
    EXPECT_EQ(sum, pie[i]["value"].get<std::uint64_t>()) << pie[i]["label"];
    if (i < 5) {
      EXPECT_EQ(pie[i]["label"], table["rows"][i][1]["label"]);
    }
    pie_total += pie[i]["value"].get<std::uint64_t>();
  }
  EXPECT_EQ(pie_total, table["footer"]["total"][3]["rawValue"].get<std::uint64_t>());
}

TEST_F(Scrutinizer, ReportStartKnownObjectsAndTopInterfacesServeTheGrafanaDataSource) {
  const nlohmann::json data = {{"parse", true},
                               {"reportDirections", {{"selected", "inbound"}}},
                               {"reportTypeLang", "host2host"},
                               {"times",
                                {{"dateRange", "Custom"},
                                 {"start", std::to_string(kHttpNowMs / 1000 - 3600)},
                                 {"end", std::to_string(kHttpNowMs / 1000)},
                                 {"clientTimezone", "America/New_York"}}},
                               {"filters", {{"sdfDips_0", "in_GROUP_ALL"}}},
                               {"dataGranularity", {{"selected", "auto"}}}};
  const HttpReply start = get(
      std::string(kFcgi) + "?" +
      query_string(
          {{"rm", "report_start"}, {"report_data", data.dump()}, {"authToken", tokens_["admin"]}}));
  ASSERT_EQ(start.json["report_object"]["dataGranularity"]["used"], 1) << start.body;
  nlohmann::json week = data;
  week["times"] = {{"dateRange", "LastSevenDays"}};
  const HttpReply start7 = get(
      std::string(kFcgi) + "?" +
      query_string(
          {{"rm", "report_start"}, {"report_data", week.dump()}, {"authToken", tokens_["admin"]}}));
  EXPECT_EQ(start7.json["report_object"]["dataGranularity"]["used"], 60) << start7.body;

  const HttpReply devices =
      get(std::string(kFcgi) + "?rm=get_known_objects&type=devices&authToken=" + tokens_["admin"]);
  ASSERT_TRUE(devices.json.is_array()) << devices.body;
  std::set<std::string> ips;
  for (const auto& d : devices.json) ips.insert(d["ip"].get<std::string>());
  EXPECT_EQ(ips, (std::set<std::string>{"192.0.2.1", "192.0.2.2"}));
  const HttpReply groups = get(
      std::string(kFcgi) + "?rm=get_known_objects&type=deviceGroups&authToken=" + tokens_["admin"]);
  ASSERT_TRUE(groups.json.is_array());
  EXPECT_EQ(groups.json[0]["id"], "ALL");

  // As the data source asks for interfaces, then runs a report on one of them.
  const nlohmann::json state = {
      {"client_time_zone", "America/New_York"},
      {"search", {{{"column", "exporter_search"}, {"value", "192.0.2.2"}, {"comparison", "like"}}}},
      {"query_limit", {{"offset", 0}, {"max_num_rows", 50}}}};
  const HttpReply status = get(std::string(kFcgi) + "?" +
                               query_string({{"rm", "status"},
                                             {"action", "get"},
                                             {"view", "topInterfaces"},
                                             {"session_state", state.dump()},
                                             {"authToken", tokens_["admin"]}}));
  ASSERT_TRUE(status.json.contains("rows")) << status.body;
  std::set<std::string> indexes;
  for (const auto& row : status.json["rows"]) {
    indexes.insert(row[5]["filterDrag"]["searchStr"].get<std::string>());
    EXPECT_EQ(row[1]["label"], "192.0.2.2");
  }
  // 192.0.2.2 exports the sessions with i % 3 != 0: in_if 2 and 3, out_if 10 and 11.
  EXPECT_EQ(indexes, (std::set<std::string>{"2", "3", "10", "11"}));
  const HttpReply on_iface =
      report(rpt("host2host", "inbound", {{"sdfDips_0", "in_192.0.2.2_192.0.2.2-2"}}),
             wanted("inbound", 100, "none"), tokens_["admin"]);
  ASSERT_FALSE(on_iface.json.contains("err")) << on_iface.body;
  const auto cli = cli_stat({"-t", custom_window(), "-grp", "cln_addr,srv_addr", "-snd", "-n",
                             "100", "EXPIP == 192.0.2.2 && IFACE == 2"});
  expect_same(on_iface.json["report"]["table"]["inbound"], cli, "cln_addr,srv_addr", "iface");
}

TEST_F(Scrutinizer, UserApiRoundTripsAndItsGroupsRestrictReports) {
  auto call = [&](const std::string& action, const nlohmann::json& j) {
    return post_form(kFcgi, {{"rm", "user_api"},
                             {"action", action},
                             {"json", j.dump()},
                             {"authToken", tokens_["admin"]}});
  };
  const HttpReply g = call(
      "createUsergroup",
      {{"usergroups",
        {{{"name", "netops"}, {"template_usergroup", 2}, {"users", nlohmann::json::array()}}}}});
  ASSERT_TRUE(g.json.contains("data")) << g.body;
  const int gid = g.json["data"][0]["id"];
  EXPECT_GE(gid, 3);
  const HttpReply u = call(
      "createUser", {{"users", {{{"name", "erin"}, {"pass", "erinpw"}, {"membership", {gid}}}}}});
  ASSERT_TRUE(u.json.contains("data")) << u.body;
  EXPECT_EQ(u.json["data"][0]["name"], "erin");
  const HttpReply tok = post_json("/api/v1/admin/tokens", {{"user", "erin"}}, tokens_["admin"]);
  const std::string erin = tok.json["token"];
  const nlohmann::json all = rpt("host2host", "inbound", {{"sdfDips_0", "in_GROUP_ALL"}});
  // A group made here sees nothing until it is granted something.
  const HttpReply none = report(all, wanted("inbound", 1000, "none"), erin);
  ASSERT_FALSE(none.json.contains("err")) << none.body;
  EXPECT_EQ(none.json["report"]["table"]["inbound"]["rows"].size(), 0u);
  const HttpReply p = call(
      "permissions",
      {{"permissions",
        {{"add", {{{"usergroup_id", gid}, {"permission_type", "group"}, {"seccode", "16800030"}}}},
         {"remove", nlohmann::json::array()}}}});
  ASSERT_EQ(p.json["data"]["errors"].size(), 0u) << p.body;
  const HttpReply dmz = report(all, wanted("inbound", 1000, "none"), erin);
  const auto cli = cli_stat({"-t", custom_window(), "-grp", "cln_addr,srv_addr", "-snd", "-n",
                             "1000", "GROUP == 16800030"});
  expect_same(dmz.json["report"]["table"]["inbound"], cli, "cln_addr,srv_addr", "granted DMZ");
  ASSERT_GT(dmz.json["report"]["table"]["inbound"]["rows"].size(), 0u);
  // Device permission: exporter 192.0.2.1 in hex, ANDed with the IP group.
  call("permissions", {{"permissions",
                        {{"add",
                          {{{"usergroup_name", "netops"},
                            {"permission_type", "device"},
                            {"seccode", "C0000201"}}}}}}});
  const HttpReply both = report(all, wanted("inbound", 1000, "none"), erin);
  const auto cli2 = cli_stat({"-t", custom_window(), "-grp", "cln_addr,srv_addr", "-snd", "-n",
                              "1000", "GROUP == 16800030 && EXPIP == 192.0.2.1"});
  expect_same(both.json["report"]["table"]["inbound"], cli2, "cln_addr,srv_addr", "DMZ+device");
  // Membership, rename, deletion.
  EXPECT_EQ(call("membership",
                 {{"membership", {{"remove", {{{"user_name", "erin"}, {"usergroup_id", gid}}}}}}})
                .json["data"]["errors"]
                .size(),
            0u);
  EXPECT_EQ(report(all, wanted("inbound", 10, "none"), erin)
                .json["report"]["table"]["inbound"]["rows"]
                .size(),
            0u);
  const HttpReply renamed = call("changeUsername", {{"user_name", "erin"}, {"new_name", "erin2"}});
  EXPECT_TRUE(renamed.json.contains("data")) << renamed.body;
  EXPECT_TRUE(server_->auth().users()->find("erin2"));
  const HttpReply del = call("delUsers", {{"delUsers", {"erin2", 9999}}});
  EXPECT_EQ(del.json["data"][0], "Deleting user named 'erin2' (1 matched)");
  EXPECT_EQ(del.json["data"][1], "Deleting user id 9999 (0 matched)");
  // Its token went with it.
  EXPECT_EQ(report(all, wanted("inbound", 10, "none"), erin).json["details"], "invalidToken");
  EXPECT_TRUE(call("delUsergroups", {{"delUsergroups", {gid}}}).json.contains("data"));
  EXPECT_FALSE(server_->auth().users()->find_group("netops"));
  // Membership in group 1 (Administrators) is the admin role; 2 (Guests) alone read-only.
  call("createUser", {{"users",
                       {{{"name", "root2"}, {"pass", "pw"}, {"membership", {1}}},
                        {{"name", "guest"}, {"pass", "pw"}, {"membership", {2}}}}}});
  EXPECT_EQ(server_->auth().users()->find("root2")->role, Role::Admin);
  EXPECT_EQ(server_->auth().users()->find("guest")->role, Role::ReadOnly);
  // Only admins may.
  const HttpReply denied = post_form(kFcgi, {{"rm", "user_api"},
                                             {"action", "createUser"},
                                             {"json", R"({"users":[]})"},
                                             {"authToken", tokens_["bob"]}});
  EXPECT_TRUE(denied.json.contains("err"));
}

TEST_F(Scrutinizer, BadTokensAndBadInputAnswerErrAndChangeNothing) {
  const nlohmann::json ok = rpt("host2host", "inbound", nlohmann::json::object());
  const HttpReply bad = report(ok, wanted("inbound", 10, "none"), "0123456789abcdef");
  EXPECT_EQ(bad.status, 200);
  EXPECT_EQ(bad.json["details"], "invalidToken");
  EXPECT_TRUE(bad.json.contains("err"));
  EXPECT_EQ(report(ok, wanted("inbound", 10, "none"), "fst_deadbeef_00").json["details"],
            "invalidToken");
  EXPECT_EQ(get(std::string(kFcgi) + "?rm=report_api").json["details"], "invalidToken");

  const std::string users_before = server_->auth().users()->users().size() == 4 ? "4" : "?";
  auto err_of = [&](const std::vector<std::pair<std::string, std::string>>& p) {
    auto all = p;
    all.emplace_back("authToken", tokens_["admin"]);
    const HttpReply r = get(std::string(kFcgi) + "?" + query_string(all));
    EXPECT_EQ(r.status, 200);
    return r.json.value("err", std::string());
  };
  EXPECT_NE(err_of({{"rm", "report_api"}, {"rpt_json", "{\"reportTypeLang\": "}})
                .find("rpt_json is not valid JSON"),
            std::string::npos);
  EXPECT_NE(err_of({{"rm", "report_api"}, {"rpt_json", R"({"reportTypeLang":"topTalkersOfMars"})"}})
                .find("host2host"),
            std::string::npos);
  auto with = [&](nlohmann::json filters) {
    return err_of(
        {{"rm", "report_api"}, {"rpt_json", rpt("host2host", "inbound", filters).dump()}});
  };
  EXPECT_NE(with({{"sdfIps_0", "in_10.0.0.300_src"}}).find("10.0.0.300"), std::string::npos);
  EXPECT_NE(with({{"sdfIPGroups_0", "in_77_src"}}).find("no IP group 77"), std::string::npos);
  EXPECT_NE(with({{"sdfDips_0", "in_XYZ_ALL"}}).find("hex"), std::string::npos);
  EXPECT_NE(with({{"sdfPorts_0", "in_53-17"}}).find("not supported"), std::string::npos);
  const std::string past =
      err_of({{"rm", "report_api"},
              {"rpt_json", ok.dump()},
              {"data_requested",
               R"({"inbound":{"table":{"query_limit":{"offset":5000,"max_num_rows":10}}}})"}});
  EXPECT_NE(past.find("past the end"), std::string::npos) << past;
  const std::string huge =
      err_of({{"rm", "report_api"},
              {"rpt_json", ok.dump()},
              {"data_requested",
               R"({"inbound":{"table":{"query_limit":{"offset":0,"max_num_rows":1000000000}}}})"}});
  EXPECT_NE(huge.find("max_num_rows"), std::string::npos) << huge;
  EXPECT_NE(err_of({{"rm", "nonsense"}}).find("not supported"), std::string::npos);
  EXPECT_NE(
      err_of({{"rm", "report_api"}, {"rpt_json", R"({"reportTypeLang":"host2host","orderBy":{}})"}})
          .find("orderBy must be a string"),
      std::string::npos);
  EXPECT_NE(err_of({{"rm", "user_api"},
                    {"action", "createUser"},
                    {"json", R"({"users":[{"name":"x","pass":"y","membership":[77]}]})"}})
                .find("no usergroup 77"),
            std::string::npos);
  EXPECT_EQ(server_->auth().users()->find("x"), nullptr);  // one request, all or nothing
  EXPECT_NE(
      err_of({{"rm", "user_api"},
              {"action", "permissions"},
              {"json", R"({"permissions":{"add":[{"usergroup_id":3,"permission_type":{}}]}})"}})
          .find("wrong type"),
      std::string::npos);
  EXPECT_NE(err_of({{"rm", "report_api"},
                    {"rpt_json",
                     R"({"reportTypeLang":"host2host","times":{"dateRange":"NextTuesday"}})"}})
                .find("LastHour"),
            std::string::npos);
  EXPECT_EQ(users_before, server_->auth().users()->users().size() == 4 ? "4" : "?");
  const HttpReply still = report(ok, wanted("inbound", 3, "none"), tokens_["admin"]);
  EXPECT_EQ(still.json["report"]["table"]["inbound"]["rows"].size(), 3u) << still.body;
}

// bbp (bytes, bits, percent) and rateTotal (total, rate) change the value column only.
TEST_F(Scrutinizer, UnitsAndRatesShapeTheValueColumn) {
  auto value_of = [&](const char* bbp, const char* rate) {
    nlohmann::json r = rpt("srcHosts", "inbound", nlohmann::json::object());
    r["bbp"] = {{"selected", bbp}};
    r["rateTotal"] = {{"selected", rate}};
    const HttpReply a = report(r, wanted("inbound", 1000, "none"), tokens_["admin"]);
    EXPECT_FALSE(a.json.contains("err")) << a.body;
    std::vector<double> values;
    std::vector<std::uint64_t> bytes;
    for (const auto& row : a.json["report"]["table"]["inbound"]["rows"]) {
      values.push_back(std::stod(row[2]["label"].get<std::string>()));
      bytes.push_back(row[3]["rawValue"].get<std::uint64_t>());
    }
    return std::pair{values, bytes};
  };
  const auto [plain, bytes] = value_of("bytes", "total");
  ASSERT_GT(plain.size(), 3u);
  const auto [bits, b2] = value_of("bits", "total");
  const auto [percent, b3] = value_of("percent", "total");
  const auto [rate, b4] = value_of("bytes", "rate");
  double percent_sum = 0;
  const double seconds = 5400 - 600;
  for (std::size_t i = 0; i < plain.size(); ++i) {
    EXPECT_DOUBLE_EQ(plain[i], static_cast<double>(bytes[i]));
    EXPECT_DOUBLE_EQ(bits[i], 8.0 * static_cast<double>(bytes[i]));
    EXPECT_NEAR(rate[i], static_cast<double>(bytes[i]) / seconds, 1e-3);
    percent_sum += percent[i];
  }
  EXPECT_NEAR(percent_sum, 100.0, 1e-6);  // every source host is a row: they make the whole
  EXPECT_EQ(b2, bytes);
  EXPECT_EQ(b3, bytes);
  EXPECT_EQ(b4, bytes);
}

// examples/scrutinizer_report.py (urllib only, a POST form as Plixer's examples send) against
// this server: its table is the report's.
TEST_F(Scrutinizer, ThePythonExamplePrintsTheReportTable) {
  if (flowscope::testing::run_shell("command -v python3").empty()) {
    GTEST_SKIP() << "python3 not found";
  }
  const std::string script =
      (std::filesystem::path(FLOWSCOPE_SOURCE_DIR) / "examples" / "scrutinizer_report.py").string();
  const std::string out = flowscope::testing::run_shell(fmt::format(
      "python3 {} --url http://127.0.0.1:{} --token {} --range Custom --start {} --end {} "
      "--ip-group 16800023 -n 5 2>&1; echo exit=$?",
      script, server_->http_port(), tokens_["admin"], kHttpNowMs / 1000 - 5400,
      kHttpNowMs / 1000 - 600));
  EXPECT_NE(out.find("exit=0"), std::string::npos) << out;
  const auto cli = cli_stat({"-t", custom_window(), "-grp", "cln_addr,srv_addr", "-snd", "-n", "5",
                             "GROUP == 16800023 || GROUP == 16800024"});
  std::size_t checked = 0;
  std::istringstream lines(out);
  std::string header;
  std::getline(lines, header);
  EXPECT_EQ(header.rfind("Rank", 0), 0u) << out;
  for (const auto& row : cli) {
    if (row.contains("others") || row.contains("total")) continue;
    std::string line;
    ASSERT_TRUE(std::getline(lines, line)) << out;
    std::istringstream cells(line);
    std::string rank, cln, srv;
    cells >> rank >> cln >> srv;
    EXPECT_EQ(rank, std::to_string(checked + 1));
    EXPECT_EQ(cln, row["cln_addr"].get<std::string>()) << line;
    EXPECT_EQ(srv, row["srv_addr"].get<std::string>()) << line;
    ++checked;
  }
  EXPECT_EQ(checked, 5u);
  // A bad token: the error and exit status 1.
  const std::string bad = flowscope::testing::run_shell(
      fmt::format("python3 {} --url http://127.0.0.1:{} --token nope 2>&1; echo exit=$?", script,
                  server_->http_port()));
  EXPECT_NE(bad.find("invalidToken"), std::string::npos) << bad;
  EXPECT_NE(bad.find("exit=1"), std::string::npos) << bad;
}

TEST_F(Scrutinizer, DateRangesFollowTheClientTimeZone) {
  // 2026-09-21T14:13:20Z is 10:13:20 in New York (EDT, UTC-4).
  const TimeMs now = time_from_ms(kHttpNowMs);
  auto window = [&](const char* range, const char* zone) {
    auto tz = TimeZoneRef::named(zone);
    EXPECT_TRUE(tz);
    auto w = report_window({{"dateRange", range}}, now, *tz);
    EXPECT_TRUE(w) << range;
    return std::pair{to_ms(w->begin) / 1000, to_ms(w->end) / 1000};
  };
  const std::int64_t ny_midnight = 1'789'963'200;  // 2026-09-21T04:00:00Z
  EXPECT_EQ(window("Today", "America/New_York"), std::pair(ny_midnight, kHttpNowMs / 1000));
  EXPECT_EQ(window("Yesterday", "America/New_York"), std::pair(ny_midnight - 86400, ny_midnight));
  EXPECT_EQ(window("Today", "UTC").first, 1'789'948'800);  // 2026-09-21T00:00Z
  EXPECT_EQ(window("LastFullHour", "UTC"),
            (std::pair<std::int64_t, std::int64_t>(1'789'999'200 - 3600, 1'789'999'200)));
  EXPECT_EQ(window("ThisWeek", "UTC").first, 1'789'948'800);  // a Monday
  EXPECT_EQ(window("LastWeek", "UTC"),
            (std::pair<std::int64_t, std::int64_t>(1'789'948'800 - 7 * 86400, 1'789'948'800)));
  EXPECT_EQ(window("ThisMonth", "UTC").first, 1'788'220'800);  // 2026-09-01
  EXPECT_EQ(window("LastMonth", "UTC"),
            (std::pair<std::int64_t, std::int64_t>(1'785'542'400, 1'788'220'800)));
  EXPECT_EQ(window("LastYear", "UTC"),
            (std::pair<std::int64_t, std::int64_t>(1'735'689'600, 1'767'225'600)));
  EXPECT_EQ(window("LastHour", "UTC"), std::pair(kHttpNowMs / 1000 - 3600, kHttpNowMs / 1000));
}

}  // namespace
}  // namespace flowscope::server::testing
