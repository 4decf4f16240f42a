#include "server/flow_wal.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <variant>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "core/log.h"
#include "store/file_util.h"
#include "store/format.h"

namespace flowscope::server {
namespace {

constexpr char kMagic[8] = {'F', 'S', 'F', 'L', 'O', 'W', 'A', 'L'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kFileHeader = 16;
constexpr std::size_t kRecordHeader = 4 + 8 + 2 + 8 + 8;
constexpr char kCheckpointMagic[8] = {'F', 'S', 'S', 'H', 'C', 'K', 'P', 'T'};

template <typename T>
void put(std::string& out, T v) {
  char b[sizeof(T)];
  std::memcpy(b, &v, sizeof(T));
  out.append(b, sizeof(T));
}

// Bounds-checked reads over a payload (docs/conventions.md "Parsing wire formats"); `failed`
// on overrun.
struct Reader {
  const char* p;
  std::size_t left;
  bool failed = false;
  template <typename T>
  T get() {
    T v{};
    if (left < sizeof(T)) {
      failed = true;
      return v;
    }
    std::memcpy(&v, p, sizeof(T));
    p += sizeof(T);
    left -= sizeof(T);
    return v;
  }
  const char* take(std::size_t n) {
    if (left < n) {
      failed = true;
      return nullptr;
    }
    const char* at = p;
    p += n;
    left -= n;
    return at;
  }
};

template <typename C>
auto* value_bytes(C& col) {
  using Byte = std::conditional_t<std::is_const_v<C>, const char, char>;
  return std::visit(
      [](auto& v) -> Byte* {
        if constexpr (std::is_same_v<std::decay_t<decltype(v)>, StringColumn>) {
          return nullptr;
        } else {
          return reinterpret_cast<Byte*>(v.data());
        }
      },
      col.data());
}

void encode(const FlowBatch& flows, std::string& out) {
  const std::size_t rows = flows.size();
  put<std::uint32_t>(out, static_cast<std::uint32_t>(rows));
  const std::size_t count_at = out.size();
  put<std::uint16_t>(out, 0);
  std::uint16_t written = 0;
  const auto columns = flows.columns();
  for (std::size_t index = 0; index < columns.size(); ++index) {
    const Column& col = columns[index];
    const std::size_t present = col.valid_count(rows);
    if (present == 0) continue;
    ++written;
    put<std::uint16_t>(out, static_cast<std::uint16_t>(index));
    if (present == rows) {
      put<std::uint8_t>(out, 0);
    } else {
      put<std::uint8_t>(out, 2);
      const auto words = col.validity_words();
      out.append(reinterpret_cast<const char*>(words.data()), (rows + 63) / 64 * 8);
    }
    if (col.info().type == FieldType::String) {
      const StringColumn& s = col.strings();
      for (std::size_t row = 0; row < rows; ++row) {
        const std::string_view v = col.valid(row) ? s.get(row) : std::string_view();
        put<std::uint32_t>(out, static_cast<std::uint32_t>(v.size()));
        out.append(v);
      }
    } else {
      out.append(value_bytes(col), rows * type_width(col.info().type));
    }
  }
  std::memcpy(out.data() + count_at, &written, sizeof written);
}

Result<FlowBatch> decode(Reader r) {
  const auto rows = r.get<std::uint32_t>();
  const auto columns = r.get<std::uint16_t>();
  if (r.failed || rows > kMaxWalBatchRows) {
    return Error{ErrorCode::Corruption, "flow log record: bad header"};
  }
  FlowBatch b(rows);
  b.add_rows(rows);
  for (std::uint16_t c = 0; c < columns; ++c) {
    const auto index = r.get<std::uint16_t>();
    const auto validity = r.get<std::uint8_t>();
    if (r.failed || index >= FlowBatch::kColumns || (validity != 0 && validity != 2)) {
      return Error{ErrorCode::Corruption, "flow log record: bad column"};
    }
    Column& col = b.mutable_column(b.columns()[index].field());
    const auto words = col.validity_words();
    const std::size_t nwords = (rows + 63) / 64;
    if (validity == 0) {
      for (std::size_t row = 0; row < rows; ++row) col.mark_valid(row);
    } else {
      const char* bits = r.take(nwords * 8);
      if (bits == nullptr) return Error{ErrorCode::Corruption, "flow log record: short bitmap"};
      std::memcpy(words.data(), bits, nwords * 8);
    }
    if (col.info().type == FieldType::String) {
      for (std::size_t row = 0; row < rows; ++row) {
        const auto len = r.get<std::uint32_t>();
        const char* text = r.take(len);
        if (text == nullptr) return Error{ErrorCode::Corruption, "flow log record: short text"};
        if (col.valid(row)) col.strings().set(row, std::string_view(text, len));
      }
    } else {
      const std::size_t n = rows * type_width(col.info().type);
      const char* values = r.take(n);
      if (values == nullptr) return Error{ErrorCode::Corruption, "flow log record: short values"};
      std::memcpy(value_bytes(col), values, n);
    }
  }
  return b;
}

std::filesystem::path flows_dir(const std::filesystem::path& data_dir) {
  return data_dir / "flows";
}

// The log files of `dir` by first seq, ascending.
std::vector<std::pair<std::uint64_t, std::filesystem::path>> list_files(
    const std::filesystem::path& dir) {
  std::vector<std::pair<std::uint64_t, std::filesystem::path>> files;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() != ".fwal") continue;
    const std::string stem = entry.path().stem().string();
    char* end = nullptr;
    const std::uint64_t seq = std::strtoull(stem.c_str(), &end, 16);
    if (end == stem.c_str() || *end != 0) continue;
    files.emplace_back(seq, entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

bool write_all(int fd, const char* p, std::size_t n) {
  while (n > 0) {
    const ssize_t w = ::write(fd, p, n);
    if (w < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<FlowWal>> FlowWal::open(const std::filesystem::path& data_dir,
                                               DurationMs sync_interval, std::uint64_t min_seq,
                                               std::uint64_t file_bytes) {
  std::unique_ptr<FlowWal> w(new FlowWal());
  w->dir_ = flows_dir(data_dir);
  w->sync_interval_ = sync_interval;
  w->rotate_bytes_ = std::max<std::uint64_t>(file_bytes, 1);
  std::error_code ec;
  std::filesystem::create_directories(w->dir_, ec);
  if (ec) return store::io_error(w->dir_, "cannot create the flow log directory", ec.value());
  std::uint64_t last = 0;
  auto n = replay(data_dir, [&](Record& r) { last = std::max(last, r.seq); });
  if (!n) return n.error();
  w->files_ = list_files(w->dir_);
  if (!w->files_.empty()) last = std::max(last, w->files_.back().first);
  for (const auto& [first, path] : w->files_) {
    std::error_code size_ec;
    const auto size = std::filesystem::file_size(path, size_ec);
    if (!size_ec) w->closed_bytes_ += size;
  }
  w->next_seq_ = std::max(last + 1, min_seq);
  if (auto r = w->start_file(); !r) return r.error();
  if (sync_interval.count() > 0) w->sync_thread_ = std::thread([p = w.get()] { p->sync_loop(); });
  return w;
}

FlowWal::~FlowWal() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (sync_thread_.joinable()) sync_thread_.join();
  std::lock_guard lock(mutex_);
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
  }
}

// REQUIRES: mutex_ held (or no other thread yet).
Result<void> FlowWal::start_file() {
  if (fd_ >= 0) {
    ::fdatasync(fd_);
    ::close(fd_);
    closed_bytes_ += file_bytes_;
  }
  const auto path = dir_ / fmt::format("{:016x}.fwal", next_seq_);
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_APPEND, 0644);
  if (fd_ < 0) return store::io_error(path, "cannot create the flow log file", errno);
  std::string header(kMagic, 8);
  put<std::uint32_t>(header, kVersion);
  put<std::uint32_t>(header, 0);
  if (!write_all(fd_, header.data(), header.size())) {
    return store::io_error(path, "cannot write the flow log file", errno);
  }
  (void)store::fsync_dir(dir_);
  files_.emplace_back(next_seq_, path);
  file_bytes_ = header.size();
  return {};
}

Result<std::uint64_t> FlowWal::append(const FlowBatch& flows, std::uint16_t worker,
                                      std::int64_t watermark) {
  std::lock_guard lock(mutex_);
  if (file_bytes_ >= rotate_bytes_) {
    if (auto r = start_file(); !r) {
      ++stats_.write_errors;
      return r.error();
    }
  }
  const std::uint64_t seq = next_seq_++;
  buffer_.clear();
  buffer_.resize(kRecordHeader);
  encode(flows, buffer_);
  const auto size = static_cast<std::uint32_t>(buffer_.size() - kRecordHeader);
  char* h = buffer_.data();
  std::memcpy(h, &size, 4);
  std::memcpy(h + 4, &seq, 8);
  std::memcpy(h + 12, &worker, 2);
  std::memcpy(h + 14, &watermark, 8);
  // The checksum covers the header fields before it and the payload.
  std::string_view covered(h, 22);
  std::uint64_t sum =
      store::checksum(covered) ^ store::checksum(std::string_view(h + kRecordHeader, size));
  std::memcpy(h + 22, &sum, 8);
  if (!write_all(fd_, buffer_.data(), buffer_.size())) {
    ++stats_.write_errors;
    return store::io_error(files_.back().second, "cannot append to the flow log", errno);
  }
  file_bytes_ += buffer_.size();
  ++stats_.records;
  stats_.bytes += buffer_.size();
  if (sync_interval_.count() == 0) {
    ::fdatasync(fd_);
    ++stats_.syncs;
  } else {
    dirty_ = true;
  }
  return seq;
}

void FlowWal::sync() {
  std::lock_guard lock(mutex_);
  if (fd_ >= 0) ::fdatasync(fd_);
  dirty_ = false;
  ++stats_.syncs;
}

void FlowWal::sync_loop() {
  std::unique_lock lock(mutex_);
  while (!stop_) {
    cv_.wait_for(lock, sync_interval_, [&] { return stop_; });
    if (dirty_ && fd_ >= 0) {
      // fdatasync outside the lock would let appends go on meanwhile, but a rotation could
      // close the fd under it; the sync is short next to the interval.
      ::fdatasync(fd_);
      dirty_ = false;
      ++stats_.syncs;
    }
  }
}

void FlowWal::trim(std::uint64_t seq) {
  std::lock_guard lock(mutex_);
  // File i holds seqs [first_i, first_{i+1}); it can go when first_{i+1} <= seq.
  while (files_.size() >= 2 && files_[1].first <= seq) {
    std::error_code ec;
    const auto size = std::filesystem::file_size(files_.front().second, ec);
    if (!ec) closed_bytes_ -= std::min(closed_bytes_, static_cast<std::uint64_t>(size));
    std::filesystem::remove(files_.front().second, ec);
    files_.erase(files_.begin());
    ++stats_.files_deleted;
  }
}

std::uint64_t FlowWal::next_seq() const {
  std::lock_guard lock(mutex_);
  return next_seq_;
}

FlowWalStats FlowWal::stats() const {
  std::lock_guard lock(mutex_);
  FlowWalStats out = stats_;
  out.disk_bytes = closed_bytes_ + file_bytes_;
  return out;
}

Result<std::uint64_t> FlowWal::replay(const std::filesystem::path& data_dir,
                                      const std::function<void(Record&)>& f,
                                      std::uint64_t* dropped_bytes) {
  std::uint64_t records = 0;
  for (const auto& [first, path] : list_files(flows_dir(data_dir))) {
    auto text = store::read_file(path);
    if (!text) return text.error();
    const std::string& data = *text;
    if (data.size() < kFileHeader || std::memcmp(data.data(), kMagic, 8) != 0) {
      if (dropped_bytes != nullptr) *dropped_bytes += data.size();
      continue;
    }
    std::uint32_t version = 0;
    std::memcpy(&version, data.data() + 8, 4);
    if (version != kVersion) {
      return Error{ErrorCode::Corruption,
                   fmt::format("{}: flow log version {} is not supported (this flowscope reads "
                               "version {}); use the flowscope release that wrote it",
                               path.string(), version, kVersion)};
    }
    std::size_t at = kFileHeader;
    while (at + kRecordHeader <= data.size()) {
      const char* h = data.data() + at;
      std::uint32_t size = 0;
      std::uint64_t sum = 0;
      Record rec;
      std::memcpy(&size, h, 4);
      std::memcpy(&rec.seq, h + 4, 8);
      std::memcpy(&rec.worker, h + 12, 2);
      std::memcpy(&rec.watermark, h + 14, 8);
      std::memcpy(&sum, h + 22, 8);
      if (at + kRecordHeader + size > data.size()) break;  // torn tail
      const std::string_view payload(h + kRecordHeader, size);
      if ((store::checksum(std::string_view(h, 22)) ^ store::checksum(payload)) != sum) break;
      auto batch = decode(Reader{payload.data(), payload.size()});
      if (!batch) break;
      rec.flows = std::move(*batch);
      f(rec);
      ++records;
      at += kRecordHeader + size;
    }
    if (at < data.size()) {
      if (dropped_bytes != nullptr) *dropped_bytes += data.size() - at;
      logger("server")->warn("{}: flow log cut at byte {} of {} (a torn or damaged tail)",
                             path.string(), at, data.size());
    }
  }
  return records;
}

Result<void> write_checkpoint(const std::filesystem::path& data_dir, const ShardCheckpoint& c) {
  std::string out(kCheckpointMagic, 8);
  put<std::uint32_t>(out, c.shard);
  put<std::uint32_t>(out, c.shards);
  put<std::uint64_t>(out, c.consumed);
  put<std::uint64_t>(out, c.open.size());
  for (const session::OpenSession& s : c.open) {
    put<std::uint64_t>(out, s.key_hash);
    put<std::uint64_t>(out, s.first_position);
  }
  put<std::uint64_t>(out, store::checksum(out));
  return store::write_file_atomic(flows_dir(data_dir) / fmt::format("shard-{}.ckpt", c.shard), out);
}

std::vector<ShardCheckpoint> read_checkpoints(const std::filesystem::path& data_dir) {
  std::vector<ShardCheckpoint> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(flows_dir(data_dir), ec)) {
    if (entry.path().extension() != ".ckpt") continue;
    auto text = store::read_file(entry.path());
    const bool sized = text && text->size() >= 40;
    if (!sized || std::memcmp(text->data(), kCheckpointMagic, 8) != 0 ||
        store::checksum(std::string_view(*text).substr(0, text->size() - 8)) != [&] {
          std::uint64_t v = 0;
          std::memcpy(&v, text->data() + text->size() - 8, 8);
          return v;
        }()) {
      logger("server")->warn("{}: damaged checkpoint skipped (its shard replays the whole log)",
                             entry.path().string());
      continue;
    }
    Reader r{text->data() + 8, text->size() - 16};
    ShardCheckpoint c;
    c.shard = r.get<std::uint32_t>();
    c.shards = r.get<std::uint32_t>();
    c.consumed = r.get<std::uint64_t>();
    const auto n = r.get<std::uint64_t>();
    if (r.failed || n > r.left / 16) continue;
    c.open.resize(n);
    for (auto& s : c.open) {
      s.key_hash = r.get<std::uint64_t>();
      s.first_position = r.get<std::uint64_t>();
    }
    out.push_back(std::move(c));
  }
  std::sort(out.begin(), out.end(),
            [](const ShardCheckpoint& a, const ShardCheckpoint& b) { return a.shard < b.shard; });
  return out;
}

void remove_checkpoints_from(const std::filesystem::path& data_dir, std::uint32_t shards) {
  for (const ShardCheckpoint& c : read_checkpoints(data_dir)) {
    if (c.shard < shards) continue;
    std::error_code ec;
    std::filesystem::remove(flows_dir(data_dir) / fmt::format("shard-{}.ckpt", c.shard), ec);
  }
}

}  // namespace flowscope::server
