#pragma once
// Time partitions and levels of the store (docs/storage.md "Directory layout"): raw sessions in
// hourly partitions, rollups in daily ones, each a directory named after its start in UTC
// ("2026-11-24T05" hourly, "2026-11-24" daily). Retention drops whole directories.
// Pure functions: any thread.
// Internal to flowscope_store: other modules use its public headers.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace flowscope::store {

// Raw sessions and the three rollup levels.
enum class Level : std::uint8_t { Raw = 0, Minute = 1, Hour = 2, Day = 3 };
inline constexpr std::array<Level, 4> kLevels = {Level::Raw, Level::Minute, Level::Hour,
                                                 Level::Day};
inline constexpr std::int64_t kMinuteMs = 60'000;
inline constexpr std::int64_t kHourMs = 3'600'000;
inline constexpr std::int64_t kDayMs = 86'400'000;

// "raw", "1m", "1h", "1d": also the level's directory name.
std::string_view level_name(Level level);
std::optional<Level> parse_level(std::string_view name);
// Length of a partition of the level.
std::int64_t partition_span_ms(Level level);
// Length of a rollup bucket (0 for raw).
std::int64_t bucket_ms(Level level);

// Partitions cover 1970-01-01 to 9999-12-31: times outside (absent ones read as 0) are filed
// in the first or last partition. Only where a row is filed is clamped; its value is kept.
inline constexpr std::int64_t kLastPartitionTime = 253'402'300'799'999;
constexpr std::int64_t partition_time(std::int64_t t) {
  return t < 0 ? 0 : (t > kLastPartitionTime ? kLastPartitionTime : t);
}

// Rounds down to a multiple of `span` (also for times before 1970).
std::int64_t floor_to(std::int64_t t, std::int64_t span);
// The directory name of the partition that holds time `t`.
std::string partition_name(Level level, std::int64_t t);
// The start of a partition from its directory name; nullopt when the name is not one.
std::optional<std::int64_t> parse_partition_name(Level level, std::string_view name);

}  // namespace flowscope::store
