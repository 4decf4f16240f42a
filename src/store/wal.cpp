#include "store/wal.h"

#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include "core/byte_reader.h"
#include "store/file_util.h"
#include "store/format.h"

namespace flowscope::store {
namespace {

constexpr std::size_t kWalHeaderSize = 24;  // magic, version, reserved, file number
constexpr std::size_t kRecordHeaderSize = 21;
// A record longer than this is taken as a damaged length field, not a huge batch.
constexpr std::uint32_t kMaxRecordBytes = 1u << 30;

std::uint64_t record_checksum(std::uint32_t length, std::uint8_t type, std::uint64_t sequence,
                              std::span<const std::byte> payload) {
  std::string head;
  ByteWriter w(head);
  w.u32(length);
  w.u8(type);
  w.u64(sequence);
  return checksum(as_bytes(head)) ^ (checksum(payload) * 0x9E3779B97F4A7C15ULL);
}

Result<void> write_all(int fd, const std::filesystem::path& path, std::string_view data) {
  std::size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error(path, "append to WAL", errno);
    }
    done += static_cast<std::size_t>(n);
  }
  return ok();
}

}  // namespace

Result<std::unique_ptr<WalWriter>> WalWriter::create(const std::filesystem::path& path,
                                                     std::uint64_t file_number) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return io_error(path, "create WAL", errno);
  std::unique_ptr<WalWriter> w(new WalWriter(path, fd, file_number));
  std::string header;
  ByteWriter bw(header);
  bw.u64(kWalMagic);
  bw.u32(kWalVersion);
  bw.u32(0);
  bw.u64(file_number);
  if (auto r = write_all(fd, path, header); !r) return r.error();
  if (auto r = w->sync(); !r) return r.error();
  if (auto r = fsync_dir(path.parent_path()); !r) return r.error();
  w->bytes_ = header.size();
  return w;
}

WalWriter::~WalWriter() { ::close(fd_); }

Result<void> WalWriter::append(WalRecordType type, std::uint64_t sequence,
                               std::string_view payload) {
  buffer_.clear();
  ByteWriter w(buffer_);
  const auto length = static_cast<std::uint32_t>(payload.size());
  w.u32(length);
  w.u8(static_cast<std::uint8_t>(type));
  w.u64(sequence);
  w.u64(record_checksum(length, static_cast<std::uint8_t>(type), sequence, as_bytes(payload)));
  buffer_ += payload;
  if (auto r = write_all(fd_, path_, buffer_); !r) {
    // A full disk or an I/O error may leave part of the record written: cut it, so the WAL
    // ends with whole records and a later append (once space is freed) follows them.
    if (::ftruncate(fd_, static_cast<off_t>(bytes_)) != 0) {
      return Error{r.error().code, r.error().message + "; the torn record could not be cut (" +
                                       std::strerror(errno) + "), it is cut at the next open"};
    }
    return r;
  }
  bytes_ += buffer_.size();
  return ok();
}

Result<void> WalWriter::sync() {
  if (::fdatasync(fd_) != 0) return io_error(path_, "sync WAL", errno);
  return ok();
}

Result<WalReplayStats> replay_wal(
    const std::filesystem::path& path,
    const std::function<Result<void>(std::uint64_t, std::span<const std::byte>)>& on_record) {
  auto data = read_file(path);
  if (!data) return data.error();
  WalReplayStats stats;
  ByteReader r(as_bytes(*data));
  if (data->size() < kWalHeaderSize) {
    // A crash between creating the file and syncing its header: nothing was acknowledged.
    stats.dropped_bytes = data->size();
    stats.drop_reason = "header incomplete";
    return stats;
  }
  if (r.u64le() != kWalMagic) {
    return Error{ErrorCode::Corruption,
                 fmt::format("{}: not a flowscope WAL (bad magic); move it out of the wal "
                             "directory",
                             path.string())};
  }
  const std::uint32_t version = r.u32le();
  if (version != kWalVersion) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("{}: WAL format version {} is not supported by this flowscope (it "
                             "reads version {}); replay it with the release that wrote it",
                             path.string(), version, kWalVersion)};
  }
  r.skip(12);
  stats.valid_bytes = kWalHeaderSize;
  while (!r.empty()) {
    if (!r.has(kRecordHeaderSize)) {
      stats.drop_reason = "torn record header";
      break;
    }
    const std::uint32_t length = r.u32le();
    const std::uint8_t type = r.u8();
    const std::uint64_t sequence = r.u64le();
    const std::uint64_t sum = r.u64le();
    if (length > kMaxRecordBytes || !r.has(length)) {
      stats.drop_reason = "torn record (shorter than its length)";
      break;
    }
    auto payload = r.bytes(length);
    if (record_checksum(length, type, sequence, payload) != sum) {
      stats.drop_reason = "record checksum mismatch";
      break;
    }
    if (type != static_cast<std::uint8_t>(WalRecordType::Batch)) {
      stats.drop_reason = fmt::format("unknown record type {}", type);
      break;
    }
    if (auto cb = on_record(sequence, payload); !cb) return cb.error();
    ++stats.records;
    stats.valid_bytes = r.offset();
  }
  stats.dropped_bytes = data->size() - stats.valid_bytes;
  return stats;
}

}  // namespace flowscope::store
