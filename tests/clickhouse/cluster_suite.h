#pragma once
// The GoogleTest fixture of the ClickHouse suites: one local two-shard cluster per suite
// (clickhouse_cluster.h), started before the suite's first test and stopped after its last;
// every test skips, with the reason, when clickhouse-server is absent. `Suite` is the deriving
// fixture (each suite gets a cluster of its own).

#include <gtest/gtest.h>

#include "clickhouse/clickhouse_cluster.h"

namespace flowscope::clickhouse::testing {

template <class Suite>
class ClusterSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { cluster_ = new LocalCluster(2); }
  static void TearDownTestSuite() {
    delete cluster_;
    cluster_ = nullptr;
  }
  void SetUp() override {
    if (!cluster_->available()) GTEST_SKIP() << "SKIPPED: " << cluster_->skip_reason();
  }
  static inline LocalCluster* cluster_ = nullptr;
};

}  // namespace flowscope::clickhouse::testing
