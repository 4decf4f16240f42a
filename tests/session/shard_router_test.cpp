// Sharded stitching (ShardRouter + one Stitcher per shard) must give exactly the sessions of one
// Stitcher over the same stream: on generated traffic built to hit the hard cases (both
// directions, port reuse after the window, records exactly at the window's edge, several
// exporters) and on the real captures of the shared corpus.
#include "session/shard_router.h"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "decode/corpus_support.h"
#include "session/stitcher.h"

#include "flow_builder.h"

namespace flowscope::session {
namespace {

using testing::add_flow;
using testing::FlowSpec;

// Every value of a session row but its id (ids are per shard), as text.
std::string row_text(const SessionBatch& b, std::size_t row) {
  std::string out;
  for (const Column& col : b.columns()) {
    if (col.field() == FieldId::SessionId) continue;
    out += col.info().name;
    out += '=';
    if (!col.valid(row)) {
      out += "-;";
      continue;
    }
    std::visit(
        [&](const auto& v) {
          using V = std::decay_t<decltype(v)>;
          if constexpr (std::is_same_v<V, StringColumn>) {
            out += v.get(row);
          } else if constexpr (std::is_same_v<V, std::vector<IpAddress>>) {
            out += v[row].to_string();
          } else if constexpr (std::is_same_v<V, std::vector<CountryCode>>) {
            out += v[row].view();
          } else {
            out += std::to_string(v[row]);
          }
        },
        col.data());
    out += ';';
  }
  return out;
}

std::vector<std::string> rows_of(const SessionBatch& b) {
  std::vector<std::string> rows;
  for (std::size_t r = 0; r < b.size(); ++r) rows.push_back(row_text(b, r));
  std::sort(rows.begin(), rows.end());
  return rows;
}

StitcherConfig config_with(DurationMs window) {
  StitcherConfig c;
  c.window = window;
  c.max_open = 1 << 20;  // no capacity evictions: those depend on the shard's size by design
  return c;
}

std::vector<std::string> stitch_single(const std::vector<FlowBatch>& batches,
                                       const StitcherConfig& config) {
  Stitcher s(config);
  SessionBatch out;
  for (const FlowBatch& b : batches) s.add(b, out);
  s.flush(out);
  return rows_of(out);
}

std::vector<std::string> stitch_sharded(const std::vector<FlowBatch>& batches,
                                        const StitcherConfig& config, std::size_t shards,
                                        std::size_t* busiest = nullptr) {
  std::vector<std::unique_ptr<Stitcher>> stitchers;
  for (std::size_t k = 0; k < shards; ++k) {
    StitcherConfig c = config;
    c.first_session_id = k + 1;
    c.session_id_stride = shards;
    stitchers.push_back(std::make_unique<Stitcher>(c));
  }
  ShardRouter router(shards);
  std::vector<ShardShare> shares;
  SessionBatch out;
  std::vector<std::uint64_t> ids;
  for (const FlowBatch& b : batches) {
    router.split(b, TimeMs{}, shares);
    for (std::size_t k = 0; k < shards; ++k) stitchers[k]->add(b, shares[k].selection(), out);
  }
  std::size_t most = 0;
  for (auto& s : stitchers) {
    most = std::max<std::size_t>(most, s->stats().records);
    s->flush(out);
  }
  if (busiest != nullptr) *busiest = most;
  // Ids stay unique across shards.
  for (std::size_t r = 0; r < out.size(); ++r) ids.push_back(out.get<FieldId::SessionId>(r));
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end()) << "duplicate session ids";
  return rows_of(out);
}

// Traffic with the cases sharding could get wrong. Times in ms; window 10 s.
std::vector<FlowBatch> generated(std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<FlowBatch> batches(40);
  std::int64_t t = 1'700'000'000'000;
  const char* exporters[] = {"192.0.2.1", "192.0.2.2", "192.0.2.3"};
  for (FlowBatch& b : batches) {
    for (int i = 0; i < 250; ++i) {
      t += rng() % 200;  // 40 batches x 250 x ~100 ms: several windows long
      const unsigned client = rng() % 60;
      const unsigned server = rng() % 6;
      // Few client ports: the same 5-tuple comes back after its session closed (port reuse).
      const auto cport = static_cast<std::uint16_t>(40000 + rng() % 4);
      const std::uint16_t sport = server < 3 ? 443 : 53;
      const std::uint8_t proto = sport == 443 ? 6 : 17;
      const std::string c = fmt::format("10.0.{}.{}", client / 250, client % 250 + 1);
      const std::string s = fmt::format("172.16.0.{}", server + 1);
      const std::int64_t first = t - static_cast<std::int64_t>(rng() % 3000);
      FlowSpec f{.src = c,
                 .sport = cport,
                 .dst = s,
                 .dport = sport,
                 .proto = proto,
                 .packets = 1 + rng() % 9,
                 .bytes = 60 + rng() % 1400,
                 .first = first,
                 .last = t,
                 .flags = static_cast<std::uint8_t>(proto == 6 ? 0x02 : 0),
                 .exporter = exporters[rng() % 3],
                 .version = 9};
      const unsigned kind = rng() % 4;
      if (kind == 0) {  // the answer only
        std::swap(f.src, f.dst);
        std::swap(f.sport, f.dport);
        f.flags = proto == 6 ? 0x12 : 0;
      }
      add_flow(b, f);
      if (kind == 1) {  // both directions in the same batch
        std::swap(f.src, f.dst);
        std::swap(f.sport, f.dport);
        f.flags = proto == 6 ? 0x12 : 0;
        add_flow(b, f);
      }
      if (kind == 2) {  // the same direction again exactly at the edge of the window
        f.first = f.last = t + 10'000 - (rng() % 2);
        add_flow(b, f);
      }
    }
  }
  return batches;
}

TEST(ShardRouter, ShardedStitchingEqualsOneStitcherOnGeneratedTraffic) {
  const StitcherConfig config = config_with(std::chrono::seconds(10));
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    const std::vector<FlowBatch> batches = generated(seed);
    const std::vector<std::string> single = stitch_single(batches, config);
    ASSERT_GT(single.size(), 1000u);
    for (std::size_t shards : {1u, 2u, 3u, 8u}) {
      std::size_t busiest = 0;
      const std::vector<std::string> sharded = stitch_sharded(batches, config, shards, &busiest);
      EXPECT_EQ(sharded.size(), single.size()) << "seed " << seed << ", " << shards << " shards";
      EXPECT_TRUE(sharded == single) << "seed " << seed << ", " << shards << " shards";
      if (sharded != single) {
        std::vector<std::string> only_single, only_sharded;
        std::set_difference(single.begin(), single.end(), sharded.begin(), sharded.end(),
                            std::back_inserter(only_single));
        std::set_difference(sharded.begin(), sharded.end(), single.begin(), single.end(),
                            std::back_inserter(only_sharded));
        for (std::size_t i = 0; i < 2 && i < only_single.size(); ++i)
          ADD_FAILURE() << "only in one stitcher: " << only_single[i];
        for (std::size_t i = 0; i < 4 && i < only_sharded.size(); ++i)
          ADD_FAILURE() << "only sharded: " << only_sharded[i];
        return;
      }
      if (shards > 1) {
        EXPECT_LT(busiest, 250u * 40u) << "every record went to one shard";
      }
    }
  }
}

TEST(ShardRouter, WithoutTheWatermarksShardsWouldSplitSessionsDifferently) {
  // The check above can fail: feeding each shard its rows without the stream's watermark
  // (each shard on its own clock) closes sessions at other points on the same traffic.
  const StitcherConfig config = config_with(std::chrono::seconds(10));
  const std::vector<FlowBatch> batches = generated(1);
  const std::vector<std::string> single = stitch_single(batches, config);
  std::vector<std::unique_ptr<Stitcher>> stitchers;
  for (int k = 0; k < 8; ++k) stitchers.push_back(std::make_unique<Stitcher>(config));
  ShardRouter router(8);
  std::vector<ShardShare> shares;
  SessionBatch out;
  for (const FlowBatch& b : batches) {
    router.split(b, TimeMs{}, shares);
    for (std::size_t k = 0; k < 8; ++k) stitchers[k]->add(b, {shares[k].rows, {}, 0}, out);
  }
  for (auto& s : stitchers) s->flush(out);
  EXPECT_NE(rows_of(out), single);
}

TEST(ShardRouter, ShardedStitchingEqualsOneStitcherOnTheCorpus) {
  const auto dir = testing::corpus_dir() / "netflow";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "corpus not found at " << dir;
  std::size_t captures = 0;
  for (const auto& path : testing::captures_in(dir)) {
    testing::DecodedCapture decoded = testing::decode_capture(path);
    if (decoded.batch.size() < 2) continue;
    ++captures;
    // Cut into batches of 97 rows, as receive workers hand them over.
    std::vector<FlowBatch> batches;
    for (std::size_t row = 0; row < decoded.batch.size(); row += 97) {
      std::vector<std::uint32_t> rows;
      for (std::size_t r = row; r < std::min(decoded.batch.size(), row + 97); ++r) {
        rows.push_back(static_cast<std::uint32_t>(r));
      }
      FlowBatch b;
      for (std::uint32_t r : rows) {
        const std::size_t out_row = b.add_row();
        for (const Column& col : decoded.batch.columns()) {
          if (!col.valid(r)) continue;
          Column& dst = b.mutable_column(col.field());
          std::visit(
              [&](const auto& v) {
                using V = std::decay_t<decltype(v)>;
                if constexpr (std::is_same_v<V, StringColumn>) {
                  dst.strings().set(out_row, v.get(r));
                } else {
                  std::get<V>(dst.data())[out_row] = v[r];
                }
              },
              col.data());
          dst.mark_valid(out_row);
        }
      }
      batches.push_back(std::move(b));
    }
    for (DurationMs window : {DurationMs(std::chrono::seconds(60)), DurationMs(1000)}) {
      const StitcherConfig config = config_with(window);
      const std::vector<std::string> single = stitch_single(batches, config);
      for (std::size_t shards : {2u, 5u}) {
        EXPECT_TRUE(stitch_sharded(batches, config, shards) == single)
            << path.filename() << ", window " << window.count() << " ms, " << shards << " shards";
      }
    }
  }
  EXPECT_GT(captures, 10u);
}

}  // namespace
}  // namespace flowscope::session
