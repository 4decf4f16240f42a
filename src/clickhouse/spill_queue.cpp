#include "clickhouse/spill_queue.h"

#include <algorithm>
#include <cstring>
#include <system_error>

#include <fmt/format.h>

#include "store/file_util.h"
#include "store/format.h"

namespace flowscope::clickhouse {
namespace {

constexpr char kMagicText[8] = {'F', 'S', 'C', 'H', 'S', 'P', 'I', 'L'};
constexpr std::uint32_t kSpillVersion = 1;
constexpr std::size_t kHeaderBytes = 8 + 4 + 4 + 8 + 8 + 8 + 8 + 8 + 8;

template <typename T>
T read_le(std::string_view s, std::size_t at) {
  T v{};
  std::memcpy(&v, s.data() + at, sizeof(T));
  return v;
}

}  // namespace

std::string serialize_spill_block(const SpillBlock& block) {
  std::string out;
  out.reserve(kHeaderBytes + block.data.size());
  store::ByteWriter w(out);
  w.bytes(kMagicText, 8);
  w.u32(kSpillVersion);
  w.u32(block.shard);
  w.u64(block.first_seq);
  w.u64(block.last_seq);
  w.u64(block.rows);
  w.u64(static_cast<std::uint64_t>(block.day));
  w.u64(block.data.size());
  w.u64(store::checksum(block.data));
  w.bytes(block.data.data(), block.data.size());
  return out;
}

Result<SpillBlock> parse_spill_block(std::string_view file) {
  if (file.size() < kHeaderBytes) {
    return Error{ErrorCode::Truncated,
                 fmt::format("spill block is {} bytes, shorter than its {}-byte header",
                             file.size(), kHeaderBytes)};
  }
  if (std::memcmp(file.data(), kMagicText, 8) != 0) {
    return Error{ErrorCode::Corruption, "not a flowscope spill block (bad magic)"};
  }
  const auto version = read_le<std::uint32_t>(file, 8);
  if (version != kSpillVersion) {
    return Error{
        ErrorCode::Unsupported,
        fmt::format("spill block version {} (this flowscope reads {})", version, kSpillVersion)};
  }
  SpillBlock b;
  b.shard = read_le<std::uint32_t>(file, 12);
  b.first_seq = read_le<std::uint64_t>(file, 16);
  b.last_seq = read_le<std::uint64_t>(file, 24);
  b.rows = read_le<std::uint64_t>(file, 32);
  b.day = read_le<std::int64_t>(file, 40);
  const auto size = read_le<std::uint64_t>(file, 48);
  const auto sum = read_le<std::uint64_t>(file, 56);
  if (size != file.size() - kHeaderBytes) {
    return Error{ErrorCode::Truncated, fmt::format("spill block says {} payload bytes but has {}",
                                                   size, file.size() - kHeaderBytes)};
  }
  const std::string_view payload = file.substr(kHeaderBytes);
  if (store::checksum(payload) != sum) {
    return Error{ErrorCode::Corruption, "spill block payload fails its checksum"};
  }
  if (b.rows == 0 || b.last_seq < b.first_seq || b.last_seq - b.first_seq < b.rows - 1) {
    return Error{ErrorCode::Corruption, "spill block's row count does not fit its sequence range"};
  }
  b.data = std::string(payload);
  return b;
}

Result<SpillQueue> SpillQueue::open(std::filesystem::path dir, std::uint64_t max_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return Error{ErrorCode::Io, fmt::format("cannot create the spill directory {}: {}",
                                            dir.string(), ec.message())};
  }
  SpillQueue q;
  q.dir_ = dir;
  q.max_bytes_ = max_bytes;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    const auto name = entry.path().filename().string();
    if (!name.starts_with("blk-") || !name.ends_with(".fsq")) continue;
    auto data = store::read_file(entry.path());
    if (!data) return data.error();
    auto block = parse_spill_block(*data);
    if (!block) {
      return Error{block.error().code,
                   fmt::format("{}: {}; move it away to go on (its rows are not in ClickHouse)",
                               entry.path().string(), block.error().message)};
    }
    q.entries_.push_back(
        {entry.path(), block->first_seq, block->last_seq, block->rows, data->size()});
    q.bytes_ += data->size();
  }
  if (ec) {
    return Error{ErrorCode::Io,
                 fmt::format("cannot list the spill directory {}: {}", dir.string(), ec.message())};
  }
  std::sort(q.entries_.begin(), q.entries_.end(),
            [](const Entry& a, const Entry& b) { return a.first_seq < b.first_seq; });
  return q;
}

Result<void> SpillQueue::push(const SpillBlock& block) {
  const std::string file = serialize_spill_block(block);
  if (bytes_ + file.size() > max_bytes_) {
    return Error{ErrorCode::Io,
                 fmt::format("the spill queue {} is full ({} of {} bytes in {} blocks); the "
                             "shard has been failing for that long: bring it back, or raise "
                             "spill_max_bytes",
                             dir_.string(), bytes_, max_bytes_, entries_.size())};
  }
  // Blocks of one flush share first_seq ranges' order only by their first row; the day keeps
  // their names apart.
  const auto path = dir_ / fmt::format("blk-{:020}-{}.fsq", block.first_seq, block.day);
  if (auto w = store::write_file_atomic(path, file); !w) return w.error();
  entries_.push_back({path, block.first_seq, block.last_seq, block.rows, file.size()});
  bytes_ += file.size();
  return ok();
}

std::uint64_t SpillQueue::rows() const {
  std::uint64_t n = 0;
  for (const Entry& e : entries_) n += e.rows;
  return n;
}

std::uint64_t SpillQueue::end_seq() const {
  std::uint64_t end = 0;
  for (const Entry& e : entries_) end = std::max(end, e.last_seq + 1);
  return end;
}

Result<SpillBlock> SpillQueue::front() const {
  if (entries_.empty()) return Error{ErrorCode::NotFound, "the spill queue is empty"};
  auto data = store::read_file(entries_.front().path);
  if (!data) return data.error();
  auto block = parse_spill_block(*data);
  if (!block) {
    return Error{block.error().code,
                 fmt::format("{}: {}", entries_.front().path.string(), block.error().message)};
  }
  return block;
}

Result<void> SpillQueue::pop() {
  if (entries_.empty()) return ok();
  std::error_code ec;
  std::filesystem::remove(entries_.front().path, ec);
  if (ec) {
    return Error{ErrorCode::Io,
                 fmt::format("cannot remove {}: {}", entries_.front().path.string(), ec.message())};
  }
  bytes_ -= entries_.front().bytes;
  entries_.pop_front();
  return ok();
}

}  // namespace flowscope::clickhouse
