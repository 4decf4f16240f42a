#pragma once
// POSIX file helpers for the store: whole-file atomic writes (tmp, fsync, rename, fsync of the
// directory) and errors that name the file and say what to do. Free functions; any thread.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.h"

namespace flowscope::store {

// "cannot write /data/raw/...: No space left on device; free space or move the data directory"
Error io_error(const std::filesystem::path& path, std::string_view what, int err);

// Writes `data` to `path` so that a crash leaves either the old file or the new one.
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view data);

// Makes a directory entry (a create, a rename, a delete) durable.
Result<void> fsync_dir(const std::filesystem::path& dir);

Result<std::string> read_file(const std::filesystem::path& path);

}  // namespace flowscope::store
