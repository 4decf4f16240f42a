#pragma once
// Internal to flowscope_store: other modules use its public headers.
// The write-ahead log (docs/storage.md "WAL"), in the spirit of leveldb's log_format: a file
// header (magic, version, file number) then records, each [u32 length][u8 type][u64 sequence]
// [u64 XXH3 checksum of length, type, sequence and payload][payload]. Appends reach the kernel
// with one write(2) per record; sync() (fdatasync) makes them durable.
//
// Reading stops at the first record that is short or fails its checksum: a torn tail from a
// crash, or damage. What follows is cut, counted and reported, never mis-read.
//
// A WalWriter is used by one writer thread; sync() may be called from another thread at the
// same time (the store's sync thread) because write(2) and fdatasync(2) on one descriptor are
// safe together. Closing is the owner's job once no thread uses it.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"

namespace flowscope::store {

enum class WalRecordType : std::uint8_t { Batch = 1 };

class WalWriter {
 public:
  // Creates (truncating) the file and writes and syncs its header.
  static Result<std::unique_ptr<WalWriter>> create(const std::filesystem::path& path,
                                                   std::uint64_t file_number);
  ~WalWriter();
  WalWriter(const WalWriter&) = delete;
  WalWriter& operator=(const WalWriter&) = delete;

  Result<void> append(WalRecordType type, std::uint64_t sequence, std::string_view payload);
  Result<void> sync();
  const std::filesystem::path& path() const { return path_; }
  std::uint64_t file_number() const { return number_; }
  std::uint64_t bytes() const { return bytes_; }

 private:
  WalWriter(std::filesystem::path path, int fd, std::uint64_t number)
      : path_(std::move(path)), fd_(fd), number_(number) {}
  std::filesystem::path path_;
  int fd_;
  std::uint64_t number_;
  std::uint64_t bytes_ = 0;
  std::string buffer_;
};

struct WalReplayStats {
  std::uint64_t records = 0;
  std::uint64_t valid_bytes = 0;    // header and whole records
  std::uint64_t dropped_bytes = 0;  // the cut tail
  std::string drop_reason;          // why the tail was cut, "" when nothing was
};

// Calls `on_record` for each valid record in order. Fails on an unreadable file or a header of
// an unknown version (naming the file); a bad tail is not an error but is reported in the stats.
// When `on_record` fails, replay stops with that error.
Result<WalReplayStats> replay_wal(
    const std::filesystem::path& path,
    const std::function<Result<void>(std::uint64_t sequence, std::span<const std::byte> payload)>&
        on_record);

}  // namespace flowscope::store
