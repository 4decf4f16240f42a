#include "import/flowtools_writer.h"

#include <cerrno>
#include <cstring>
#include <vector>

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>
#include <zlib.h>

#include "core/log.h"
#include "store/file_util.h"

namespace flowscope::import {

using store::io_error;

struct FlowtoolsWriter::State {
  std::string name;
  int fd = -1;
  bool own_fd = false;
  FlowtoolsHeader header;
  FlowtoolsWriteOptions options;
  const FtLayout* layout = nullptr;
  std::uint64_t written = 0;
  bool zlib_open = false;
  bool closed = false;
  z_stream zs{};
  std::vector<std::byte> record;  // one encoded record
  std::string pending;            // bytes not yet written to fd
  char zbuf[1 << 16];

  Result<void> flush_pending() {
    std::size_t done = 0;
    while (done < pending.size()) {
      const ssize_t n = ::write(fd, pending.data() + done, pending.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return io_error(name, "cannot write", errno);
      done += static_cast<std::size_t>(n);
    }
    pending.clear();
    return ok();
  }

  // Runs deflate over the input set in zs with `flush`, moving its output to `pending`.
  Result<void> deflate_with(int flush) {
    int rc = Z_OK;
    do {
      zs.next_out = reinterpret_cast<Bytef*>(zbuf);
      zs.avail_out = sizeof zbuf;
      rc = deflate(&zs, flush);
      if (rc == Z_STREAM_ERROR) {
        return Error{ErrorCode::Io, fmt::format("{}: zlib deflate failed", name)};
      }
      pending.append(zbuf, sizeof zbuf - zs.avail_out);
    } while (zs.avail_out == 0 || (flush == Z_FINISH && rc != Z_STREAM_END));
    return ok();
  }
};

FlowtoolsWriter::FlowtoolsWriter(std::unique_ptr<State> state) : state_(std::move(state)) {}
FlowtoolsWriter::FlowtoolsWriter(FlowtoolsWriter&&) noexcept = default;
FlowtoolsWriter& FlowtoolsWriter::operator=(FlowtoolsWriter&&) noexcept = default;

FlowtoolsWriter::~FlowtoolsWriter() {
  if (!state_ || state_->closed) return;
  if (auto r = close(); !r) logger("store")->error("{}", r.error().message);
}

Result<FlowtoolsWriter> FlowtoolsWriter::create(const std::filesystem::path& path,
                                                FlowtoolsHeader header,
                                                const FlowtoolsWriteOptions& options) {
  if (options.z_level < 0 || options.z_level > 9) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("zlib level {} is out of range; use 0 (none) to 9", options.z_level)};
  }
  auto layout = find_ft_layout(header.version, header.agg_method);
  if (!layout) return layout.error();
  auto s = std::make_unique<State>();
  s->layout = *layout;
  s->options = options;
  if (options.z_level > 0) {
    header.flags |= kFtFlagCompress;
  } else {
    header.flags &= ~kFtFlagCompress;
  }
  s->header = std::move(header);
  if (path == "-") {
    s->name = "standard output";
    s->fd = STDOUT_FILENO;
  } else {
    s->name = path.string();
    s->fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (s->fd < 0) return io_error(path, "cannot create", errno);
    s->own_fd = true;
  }
  if (options.z_level > 0) {
    if (deflateInit(&s->zs, options.z_level) != Z_OK) {
      if (s->own_fd) ::close(s->fd);
      return Error{ErrorCode::Io, "zlib: cannot initialise deflate"};
    }
    s->zlib_open = true;
  }
  s->record.resize(s->layout->record_size);
  s->pending = encode_ft_header(s->header);
  auto flushed = s->flush_pending();
  FlowtoolsWriter writer(std::move(s));
  if (!flushed) return flushed.error();
  return writer;
}

Result<void> FlowtoolsWriter::write(const FtRecord& record) {
  State& s = *state_;
  if (s.closed) return Error{ErrorCode::InvalidArgument, fmt::format("{}: closed", s.name)};
  encode_ft_record(*s.layout, s.header.big_endian, record, s.record);
  ++s.written;
  if (s.zlib_open) {
    s.zs.next_in = reinterpret_cast<Bytef*>(s.record.data());
    s.zs.avail_in = static_cast<uInt>(s.record.size());
    if (auto r = s.deflate_with(Z_NO_FLUSH); !r) return r;
  } else {
    s.pending.append(reinterpret_cast<const char*>(s.record.data()), s.record.size());
  }
  if (s.pending.size() >= (1u << 16)) return s.flush_pending();
  return ok();
}

Result<void> FlowtoolsWriter::close() {
  State& s = *state_;
  if (s.closed) return ok();
  s.closed = true;
  Result<void> result = ok();
  if (s.zlib_open) {
    s.zs.next_in = nullptr;
    s.zs.avail_in = 0;
    result = s.deflate_with(Z_FINISH);
    deflateEnd(&s.zs);
    s.zlib_open = false;
  }
  if (result) result = s.flush_pending();
  if (result && s.options.update_flow_count && s.header.flow_count &&
      ::lseek(s.fd, 0, SEEK_CUR) >= 0) {
    s.header.flow_count = static_cast<std::uint32_t>(s.written);
    const std::string bytes = encode_ft_header(s.header);
    if (::pwrite(s.fd, bytes.data(), bytes.size(), 0) != static_cast<ssize_t>(bytes.size())) {
      result = io_error(s.name, "cannot rewrite the header of", errno);
    }
  }
  if (s.own_fd && ::close(s.fd) != 0 && result) result = io_error(s.name, "cannot close", errno);
  return result;
}

const FlowtoolsHeader& FlowtoolsWriter::header() const { return state_->header; }
const FtLayout& FlowtoolsWriter::layout() const { return *state_->layout; }
std::uint64_t FlowtoolsWriter::records_written() const { return state_->written; }

}  // namespace flowscope::import
