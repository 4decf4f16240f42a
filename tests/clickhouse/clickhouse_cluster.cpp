#include "clickhouse/clickhouse_cluster.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <random>

#include <fmt/format.h>

#include "core/time.h"
#include "session/stitcher.h"

#include "gen/flow_model.h"

namespace flowscope::clickhouse::testing {
namespace {

std::string source_dir() {
  const char* env = std::getenv("FLOWSCOPE_SOURCE_DIR");
  return env != nullptr ? env : FLOWSCOPE_SOURCE_DIR;
}

// Runs a command, returning its stdout and exit code.
std::string run(const std::string& cmd, int* code) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) {
    *code = -1;
    return out;
  }
  std::array<char, 4096> buf;
  std::size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = pclose(p);
  *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace

LocalCluster::LocalCluster(int shards) {
  std::random_device rd;
  dir_ = std::filesystem::temp_directory_path() / fmt::format("flowscope-ch-{:x}", rd());
  int code = 0;
  endpoints_ = run(fmt::format("{}/scripts/clickhouse-cluster.sh start {} {} 2>&1", source_dir(),
                               dir_.string(), shards),
                   &code);
  if (code == 77) {
    reason_ = "clickhouse-server is not installed (scripts/install-deps.sh --clickhouse)";
    return;
  }
  if (code != 0) {
    reason_ = "starting clickhouse-server failed: " + endpoints_;
    return;
  }
  // The last line holds the endpoints.
  if (auto nl = endpoints_.rfind('\n'); nl != std::string::npos) {
    endpoints_ = endpoints_.substr(nl + 1);
  }
  available_ = true;
}

LocalCluster::~LocalCluster() {
  if (std::filesystem::exists(dir_ / "shards")) script("stop", "");
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string LocalCluster::script(const std::string& command, const std::string& extra) const {
  int code = 0;
  return run(fmt::format("{}/scripts/clickhouse-cluster.sh {} {} {} 2>&1", source_dir(), command,
                         dir_.string(), extra),
             &code);
}

std::string LocalCluster::url(const std::string& database, const std::string& params) const {
  return fmt::format("clickhouse://{}/{}{}", endpoints_, database, params);
}

std::string LocalCluster::first_shard_url(const std::string& database) const {
  return fmt::format("clickhouse://{}/{}", endpoints_.substr(0, endpoints_.find(',')), database);
}

bool LocalCluster::stop_shard(int shard) {
  int code = 0;
  run(fmt::format("{}/scripts/clickhouse-cluster.sh stop {} {} 2>&1", source_dir(), dir_.string(),
                  shard),
      &code);
  return code == 0;
}

bool LocalCluster::restart_shard(int shard) {
  int code = 0;
  run(fmt::format("{}/scripts/clickhouse-cluster.sh restart {} {} 2>&1", source_dir(),
                  dir_.string(), shard),
      &code);
  return code == 0;
}

SessionBatch generated_sessions(std::size_t sessions, std::uint64_t seed, std::int64_t start_ms,
                                std::int64_t span_ms) {
  gen::FlowModel model(gen::FlowModelConfig{}, seed);
  session::Stitcher stitcher(session::StitcherConfig{});
  FlowBatch flows;
  SessionBatch out;
  const std::int64_t step = std::max<std::int64_t>(
      1, span_ms / static_cast<std::int64_t>(std::max<std::size_t>(sessions, 1)));
  std::int64_t now = start_ms;
  for (std::size_t i = 0; i < sessions; ++i) {
    now += step;
    model.add_session(time_from_ms(now), flows);
    if (flows.size() >= 4096) {
      stitcher.add(flows, out, time_from_ms(now));
      flows.clear();
    }
  }
  stitcher.add(flows, out, time_from_ms(now));
  stitcher.flush(out);
  return out;
}

}  // namespace flowscope::clickhouse::testing
