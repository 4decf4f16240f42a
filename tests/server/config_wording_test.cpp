// The four TOML loaders (server with its [[schedule]] jobs, probe, IP groups, traffic
// scenarios) read through one section reader (core/toml_section.h): a value of the wrong type
// and an unknown key read the same in every file, with FILE:LINE first.
// GCC 12 with the sanitizers (make asan) warns -Wmaybe-uninitialized inside std::regex.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <regex>
#include <string>

#include <gtest/gtest.h>

#include "capture/probe_config.h"
#include "enrich/ip_groups.h"
#include "server/server_config.h"

#include "gen/traffic_scenario.h"
#include "report/schedule.h"

namespace flowscope {
namespace {

template <typename R>
std::string error_of(const R& r) {
  return r ? std::string("(accepted)") : r.error().message;
}

struct Case {
  std::string what;
  std::string message;
  std::string pattern;  // the message must match it whole
};

TEST(ConfigWording, WrongTypeReadsTheSameInEveryLoader) {
  // FILE:LINE: [section] key: must be ...  ([[section]] for arrays of tables, none at the top).
  const Case cases[] = {
      {"server",
       error_of(server::parse_server_config("[store]\ndir = \"d\"\n[ingest]\nworkers = \"two\"\n",
                                            "s.toml")),
       R"(s\.toml:4: \[ingest\] workers: must be an integer from 0 to 256 \(0: one per core\))"},
      {"probe", error_of(capture::parse_probe_config("max_flows = \"many\"\n", "p.toml")),
       R"(p\.toml:1: max_flows: must be an integer from 1 to \d+)"},
      {"ip groups",
       error_of(enrich::IpGroups::from_toml("[[group]]\nname = \"a\"\nid = \"seven\"\n", "g.toml")),
       R"(g\.toml:3: \[\[group\]\] id: must be an integer from 0 to 4294967294 .*)"},
      {"scenario", error_of(gen::parse_scenario("[[udp]]\ncount = \"x\"\n", "t.toml")),
       R"(t\.toml:2: \[\[udp\]\] count: must be an integer from 1 to 1000000000)"},
      {"schedule",
       error_of(report::parse_schedule(
           "[[schedule]]\nname = \"a\"\nwhen = \"@daily\"\ncatch_up = \"yes\"\n", "s.toml")),
       R"(s\.toml:4: \[\[schedule\]\] catch_up: must be true or false \(no quotes\))"},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(std::regex_match(c.message, std::regex(c.pattern))) << c.what << ": " << c.message;
  }
}

TEST(ConfigWording, UnknownKeyReadsTheSameInEveryLoader) {
  // FILE:LINE: [section]: unknown key "x"; the keys are a, b, c
  const Case cases[] = {
      {"server",
       error_of(server::parse_server_config("[store]\ndir = \"d\"\nbogus = 1\n", "s.toml")),
       R"(s\.toml:3: \[store\]: unknown key "bogus"; the keys are dir, backend, .*)"},
      {"server top",
       error_of(server::parse_server_config("bogus = 1\n[store]\ndir = \"d\"\n", "s.toml")),
       R"(s\.toml:1: unknown key "bogus"; the keys are ingest, stitch, .*)"},
      {"probe", error_of(capture::parse_probe_config("name = \"x\"\nbogus = 1\n", "p.toml")),
       R"(p\.toml:2: unknown key "bogus"; the keys are name, interface, .*)"},
      {"ip groups",
       error_of(enrich::IpGroups::from_toml("[[group]]\nname = \"a\"\nbogus = 1\n", "g.toml")),
       R"(g\.toml:3: \[\[group\]\]: unknown key "bogus"; the keys are name, id, .*)"},
      {"scenario", error_of(gen::parse_scenario("[[udp]]\nbogus = 1\n", "t.toml")),
       R"(t\.toml:2: \[\[udp\]\]: unknown key "bogus"; the keys are name, port, .*)"},
      {"schedule",
       error_of(report::parse_schedule("[[schedule]]\nname = \"a\"\nbogus = 1\n", "s.toml")),
       R"(s\.toml:3: \[\[schedule\]\]: unknown key "bogus"; the keys are name, when, .*)"},
  };
  for (const Case& c : cases) {
    EXPECT_TRUE(std::regex_match(c.message, std::regex(c.pattern))) << c.what << ": " << c.message;
  }
}

}  // namespace
}  // namespace flowscope
