// Bad input must be counted and dropped, never crash, hang or invent records (issue F2 "Bad
// input"): the malformed corpus folder, and truncated and bit-flipped variants of every corpus
// capture generated here with a seeded RNG (reproducible; docs/conventions.md "Tests"). Run
// under ASan/UBSan in the asan build.
#include <random>

#include <gtest/gtest.h>

#include "decode/corpus_support.h"

namespace flowscope::testing {
namespace {

std::vector<std::filesystem::path> all_captures() {
  std::vector<std::filesystem::path> out;
  for (const char* folder : {"netflow", "ipfix", "sflow", "malformed"}) {
    for (auto& p : captures_in(corpus_dir() / folder)) out.push_back(p);
  }
  return out;
}

TEST(CorpusRobustness, MalformedCapturesDecodeWithoutCrash) {
  const auto dir = corpus_dir() / "malformed";
  if (!std::filesystem::is_directory(dir)) GTEST_SKIP() << "corpus not found at " << dir;
  for (const auto& capture : captures_in(dir)) {
    SCOPED_TRACE(capture.filename().string());
    DecodedCapture got = decode_capture(capture);
    // Every record that came out carries the basics.
    for (std::size_t row = 0; row < got.batch.size(); ++row) {
      ASSERT_TRUE(got.batch.is_set(FieldId::Exporter, row));
      ASSERT_TRUE(got.batch.is_set(FieldId::Version, row));
    }
  }
}

TEST(CorpusRobustness, DataBeforeTemplateIsRecoveredByTheBuffer) {
  const auto path = corpus_dir() / "malformed" / "derived_ipfix_data_before_template_mikrotik.pcap";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << "corpus not found at " << path;
  DecodedCapture buffered = decode_capture(path);
  decode::DecoderConfig single_pass;
  single_pass.engine.limits.pending_max_sets = 0;
  DecodedCapture dropped = decode_capture(path, single_pass);
  // tshark (single pass) finds 18 records; the buffer also recovers the first data packet.
  EXPECT_EQ(dropped.batch.size(), 18u);
  EXPECT_GT(buffered.batch.size(), dropped.batch.size());
  EXPECT_EQ(buffered.totals.sets_replayed, 1u);
  EXPECT_EQ(dropped.totals.error(decode::DecodeError::UnknownTemplate), 1u);
}

TEST(CorpusRobustness, TruncatedAndBitFlippedVariantsDecodeWithoutCrash) {
  const auto captures = all_captures();
  if (captures.empty()) GTEST_SKIP() << "corpus not found at " << corpus_dir();
  std::mt19937 rng(20240601);  // fixed seed: failures reproduce
  std::size_t variants = 0;
  for (const auto& capture : captures) {
    SCOPED_TRACE(capture.filename().string());
    const auto payloads = udp_payloads(capture);
    if (payloads.empty()) continue;
    // One decoder per capture keeps template state across variants, like a collector that
    // receives good and damaged packets from the same exporter.
    decode::FlowDecoder decoder;
    FlowBatch batch;
    (void)decode_payloads(payloads, decoder, batch);  // learn the templates
    for (int round = 0; round < 200; ++round) {
      std::vector<std::vector<std::byte>> mutated = payloads;
      for (auto& p : mutated) {
        if (p.empty()) continue;
        if (round % 2 == 0) {
          p.resize(std::uniform_int_distribution<std::size_t>(0, p.size() - 1)(rng));
        } else {
          const int flips = std::uniform_int_distribution<int>(1, 8)(rng);
          for (int flip = 0; flip < flips; ++flip) {
            const std::size_t at = std::uniform_int_distribution<std::size_t>(0, p.size() - 1)(rng);
            p[at] ^= static_cast<std::byte>(1u << std::uniform_int_distribution<int>(0, 7)(rng));
          }
        }
      }
      batch.clear();
      (void)decode_payloads(mutated, decoder, batch);
      ++variants;
    }
    // The decoder is still usable: the original packets decode as before.
    decode::FlowDecoder fresh;
    FlowBatch expected;
    const std::size_t want = decode_payloads(payloads, fresh, expected);
    batch.clear();
    EXPECT_GE(decode_payloads(payloads, decoder, batch), want > 0 ? 1u : 0u);
  }
  EXPECT_GT(variants, 0u);
}

}  // namespace
}  // namespace flowscope::testing
