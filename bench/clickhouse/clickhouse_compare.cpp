// The ClickHouse backend against the embedded store on the same sessions (issue 20, run by
// bench/e2e/clickhouse_vs_embedded.sh from `make bench`): ingest rate into each, and the time
// of the same `stat` and `query` questions through each, as markdown table rows with ratios.
// Sessions come from gen's traffic model stitched like `serve` does, generated in slices so
// memory stays bounded; both backends get the identical slices.
//
// Usage: clickhouse_compare SESSIONS CLICKHOUSE_URL DATADIR
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "clickhouse/clickhouse_backend.h"
#include "core/time.h"
#include "query/executor.h"
#include "session/stitcher.h"
#include "store/embedded_store.h"

#include "gen/flow_model.h"

namespace {

using namespace flowscope;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "clickhouse_compare: %s\n", what.c_str());
  std::exit(1);
}

// Median of three runs of `fn` in seconds.
template <typename F>
double median3(F&& fn) {
  std::vector<double> t;
  for (int i = 0; i < 3; ++i) {
    const auto t0 = Clock::now();
    fn();
    t.push_back(seconds_since(t0));
  }
  std::sort(t.begin(), t.end());
  return t[1];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) die("usage: clickhouse_compare SESSIONS CLICKHOUSE_URL DATADIR");
  const std::size_t sessions = std::strtoull(argv[1], nullptr, 10);
  auto opts = clickhouse::parse_clickhouse_url(argv[2]);
  if (!opts) die(opts.error().message);
  const std::size_t shards = opts->shards.size();
  auto ch = clickhouse::ClickHouseBackend::open(std::move(*opts));
  if (!ch) die(ch.error().message);
  store::StoreOptions so;
  so.dir = argv[3];
  auto emb = store::EmbeddedStore::open(so);
  if (!emb) die(emb.error().message);

  // Generate in slices; time each backend's appends (and its final flush) separately.
  constexpr std::int64_t kStart = 1'767'225'600'000;  // 2026-01-01
  const std::int64_t span = 3 * 86'400'000LL;
  const std::int64_t step = std::max<std::int64_t>(1, span / static_cast<std::int64_t>(sessions));
  gen::FlowModel model(gen::FlowModelConfig{}, 42);
  session::Stitcher stitcher(session::StitcherConfig{});
  FlowBatch flows;
  SessionBatch out;
  double emb_s = 0, ch_s = 0;
  std::uint64_t rows = 0;
  auto deliver = [&](bool last) {
    if (last) stitcher.flush(out);
    if (out.size() < 200'000 && !last) return;
    auto t0 = Clock::now();
    if (auto r = (*emb)->append(out); !r) die(r.error().message);
    if (last) {
      if (auto r = (*emb)->flush(); !r) die(r.error().message);
    }
    emb_s += seconds_since(t0);
    t0 = Clock::now();
    if (auto r = (*ch)->append(out); !r) die(r.error().message);
    if (last) {
      if (auto r = (*ch)->flush(); !r) die(r.error().message);
    }
    ch_s += seconds_since(t0);
    rows += out.size();
    out.clear();
  };
  std::int64_t now = kStart;
  for (std::size_t i = 0; i < sessions; ++i) {
    now += step;
    model.add_session(time_from_ms(now), flows);
    if (flows.size() >= 8192) {
      stitcher.add(flows, out, time_from_ms(now));
      flows.clear();
      deliver(false);
    }
  }
  stitcher.add(flows, out, time_from_ms(now));
  deliver(true);

  std::printf(
      "| ClickHouse ingest (%zu shard%s, one host) | %.2fx the embedded store's rate | "
      "%llu sessions: embedded %.0f/s, ClickHouse %.0f/s (RowBinary, batches of 100k) |\n",
      shards, shards > 1 ? "s" : "", emb_s / ch_s, static_cast<unsigned long long>(rows),
      static_cast<double>(rows) / emb_s, static_cast<double>(rows) / ch_s);

  struct Question {
    const char* name;
    const char* group;
    const char* count;
    const char* filter;
    std::int64_t bucket_ms;
    // Every group back from ClickHouse, ranked here: the top N before it went to SQL
    // (top 0, then cut, as execute_stat did before store/ranked_aggregation.h).
    bool rank_here = false;
  };
  const Question questions[] = {
      {"top 10 hosts by bytes", "host", "bytes", "", 0},
      {"top 10 server ports by sessions", "srvport", "sessions", "", 0},
      {"top 10 pairs by bytes", "pair", "bytes", "", 0},
      {"top 10 pairs by bytes, every group sent and ranked here (before)", "pair", "bytes", "", 0,
       true},
      {"distinct server ports per host", "host", "uports", "", 0},
      {"hourly series of top 5 server ports", "srvport", "bytes", "", 3'600'000},
      {"top hosts, filter PROTO == tcp && SRVPORT == 443", "host", "bytes",
       "PROTO == tcp && SRVPORT == 443", 0},
  };
  for (const Question& q : questions) {
    query::StatSpec spec;
    auto g = query::parse_group_spec(q.group);
    if (!g) die(g.error().message);
    spec.group_by = *g;
    if (auto c = query::parse_count_spec(q.count, spec); !c) die(c.error().message);
    spec.where.filter = q.filter;
    spec.bucket_ms = q.bucket_ms;
    spec.top = q.bucket_ms > 0 ? 5 : 10;
    auto run = [&](const store::Backend& b) {
      query::StatSpec asked = spec;
      if (q.rank_here) asked.top = 0;
      auto r = query::execute_stat(b, asked);
      if (!r) die(r.error().message);
    };
    const double te = median3([&] { run(**emb); });
    const double tc = median3([&] { run(**ch); });
    std::printf(
        "| stat: %s | %.2fx the embedded time | embedded %.3f s, ClickHouse %.3f s "
        "(median of 3) |\n",
        q.name, tc / te, te, tc);
  }
  // Raw listings: the whole filter, the limit and the order go to ClickHouse as SQL (WHERE,
  // LIMIT, ORDER BY); "limit kept here" stops the scan from the sink instead, as before the
  // pushdown (every day's matches are read and sent, the engine cuts).
  struct Listing {
    const char* name;
    const char* filter;
    const char* sort;  // "" or a field, descending
    std::size_t limit;
    bool push_limit;
  };
  const Listing listings[] = {
      {"SRVPORT == 22, first 1000", "SRVPORT == 22", "", 1000, true},
      {"SRVPORT == 22, first 1000, limit kept here (before)", "SRVPORT == 22", "", 1000, false},
      {"SRVPORT == 22 || PROTO == udp, first 1000", "SRVPORT == 22 || PROTO == udp", "", 1000,
       true},
      {"top 20 sessions by total bytes, !(PROTO == tcp)", "!(PROTO == tcp)", "total_bytes", 20,
       true},
  };
  for (const Listing& l : listings) {
    query::QuerySpec spec;
    spec.where.filter = l.filter;
    spec.limit = l.push_limit ? l.limit : 0;
    if (*l.sort != 0) {
      auto k = query::parse_sort_key(std::string(l.sort) + ":desc");
      if (!k) die(k.error().message);
      spec.sort.push_back(*k);
    }
    auto run = [&](const store::Backend& b) {
      std::size_t got = 0;
      auto r = query::execute_query(b, spec, [&](const SessionBatch& batch) {
        got += batch.size();
        return got < l.limit;
      });
      if (!r) die(r.error().message);
    };
    const double te = median3([&] { run(**emb); });
    const double tc = median3([&] { run(**ch); });
    std::printf(
        "| query: %s | %.2fx the embedded time | embedded %.3f s, ClickHouse %.3f s "
        "(median of 3) |\n",
        l.name, tc / te, te, tc);
  }
  return 0;
}
