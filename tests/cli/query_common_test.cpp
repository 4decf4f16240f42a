// The CLI plumbing of query and stat: FlowTraq's single-dash options, and Ctrl-C cancelling a
// running query through the SIGINT handler.
#include "cli/query_common.h"

#include <csignal>

#include <gtest/gtest.h>

#include "store/embedded_store.h"
#include "store/store_test_support.h"

namespace flowscope::cli {
namespace {

std::vector<std::string> rewrite(std::vector<std::string> args) {
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  return flowtraq_style_args(static_cast<int>(argv.size()), argv.data());
}

TEST(FlowTraqStyleArgs, RewritesOnlyAfterQueryAndStat) {
  EXPECT_EQ(
      rewrite({"flowscope", "stat", "-grp", "host", "-cnt", "bytes", "-snd", "-c+", "-gx", "640"}),
      (std::vector<std::string>{"flowscope", "stat", "--grp", "host", "--cnt", "bytes", "--snd",
                                "--csv-header", "--gx", "640"}));
  EXPECT_EQ(rewrite({"flowscope", "query", "-rcv", "--", "-grp"}),
            (std::vector<std::string>{"flowscope", "query", "--rcv", "--", "-grp"}));
  EXPECT_EQ(rewrite({"flowscope", "decode", "-grp"}),
            (std::vector<std::string>{"flowscope", "decode", "-grp"}));
}

TEST(CancelOnInterrupt, SigintCancelsTheRunningQuery) {
  store::testing::TempDir dir;
  store::StoreOptions opt;
  opt.dir = dir.path();
  auto s = store::EmbeddedStore::open(opt);
  ASSERT_TRUE(s.has_value());
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE((*s)->append(store::testing::make_sessions(i * 1000, 1000, 1795478400000)));
  }
  query::ExecOptions exec;
  int batches = 0;
  exec.progress = [&](const query::QueryProgress&) {
    if (++batches == 1) std::raise(SIGINT);  // as a user pressing Ctrl-C mid-query
  };
  {
    CancelOnInterrupt guard(exec.cancel);
    auto r = query::execute_query(
        **s, query::QuerySpec{}, [](const SessionBatch&) { return true; }, exec);
    ASSERT_FALSE(r.has_value());
    EXPECT_TRUE(query::is_cancelled(r.error()));
  }
  EXPECT_EQ(batches, 1);
  struct sigaction now {};
  ASSERT_EQ(sigaction(SIGINT, nullptr, &now), 0);
  EXPECT_EQ(now.sa_handler, SIG_DFL) << "the handler is restored";
}

}  // namespace
}  // namespace flowscope::cli
