#include "capture/tcpflow/flow_output.h"

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <ctime>

#include <fcntl.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <unistd.h>

#include "capture/tcpflow/http_scanner.h"

namespace flowscope::capture::tcpflow {
namespace {

std::string ip_for_name(const std::array<std::uint8_t, 16>& a, std::uint8_t family) {
  if (family == 6) return address_text(a, 6);
  return fmt::format("{:03d}.{:03d}.{:03d}.{:03d}", a[0], a[1], a[2], a[3]);
}

std::string mac_for_name(const std::array<std::uint8_t, 6>& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

void mkdirs_for(const std::string& path) {
  for (std::size_t slash = path.find('/', 1); slash != std::string::npos;
       slash = path.find('/', slash + 1)) {
    ::mkdir(path.substr(0, slash).c_str(), 0777);
  }
}

bool pwrite_all(int fd, const std::uint8_t* data, std::size_t n, std::uint64_t off) {
  while (n > 0) {
    const ssize_t w = ::pwrite(fd, data, n, static_cast<off_t>(off));
    if (w <= 0) {
      if (w < 0 && errno == EINTR) continue;
      return false;
    }
    data += w;
    n -= static_cast<std::size_t>(w);
    off += static_cast<std::uint64_t>(w);
  }
  return true;
}

void append_file(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0666);
  if (fd < 0) return;
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t w = ::write(fd, text.data() + done, text.size() - done);
    if (w <= 0) break;
    done += static_cast<std::size_t>(w);
  }
  ::close(fd);
}

// tcpflow's scanners come from bulk_extractor, which does not scan a buffer made of one repeated
// n-gram shorter than 10 bytes (all zeros, "xxxx", any buffer under 10 bytes): such streams get
// neither an MD5 nor HTTP bodies. Returns the n-gram size, 0 when the buffer is not one.
std::size_t repeating_ngram(std::span<const std::uint8_t> buf) {
  constexpr std::size_t kMaxNgram = 10;
  for (std::size_t ns = 1; ns < kMaxNgram; ++ns) {
    bool match = true;
    for (std::size_t i = ns; i < buf.size() && match; ++i) match = buf[i % ns] == buf[i];
    if (match) return ns;
  }
  return 0;
}

std::string md5_hex(std::span<const std::uint8_t> data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += fmt::format("{:02x}", md[i]);
  return hex;
}

}  // namespace

Result<std::string> expand_template(const std::string& tpl, const TcpStream& s,
                                    std::uint32_t connection_count) {
  std::string out;
  out.reserve(64);
  for (std::size_t i = 0; i < tpl.size(); ++i) {
    if (tpl[i] != '%') {
      out += tpl[i];
      continue;
    }
    if (i + 1 == tpl.size()) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("invalid filename template '{}': it cannot end with a %", tpl)};
    }
    const char c = tpl[++i];
    const std::int64_t sec = s.tstart_raw.sec;
    switch (c) {
      case 'A': out += ip_for_name(s.key.src, s.key.family); break;
      case 'a': out += fmt::format("{:05d}", s.key.sport); break;
      case 'B': out += ip_for_name(s.key.dst, s.key.family); break;
      case 'b': out += fmt::format("{:05d}", s.key.dport); break;
      case 'E': out += mac_for_name(s.mac_src); break;
      case 'e': out += mac_for_name(s.mac_dst); break;
      case 'N': out += fmt::format("{:03d}", static_cast<int>(s.id % 1000)); break;
      case 'K': out += fmt::format("{:03d}", static_cast<int>(s.id / 1000 % 1000)); break;
      case 'M': out += fmt::format("{:03d}", static_cast<int>(s.id / 1000000 % 1000)); break;
      case 'G': out += fmt::format("{:03d}", static_cast<int>(s.id / 1000000000 % 1000)); break;
      case 'T': {
        const std::time_t t = static_cast<std::time_t>(sec);
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[64];
        std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
        out += buf;
        break;
      }
      case 't': out += fmt::format("{}", sec); break;
      case 'V':
        if (s.vlan != -1) out += "--";
        break;
      case 'v':
        if (s.vlan != -1) out += fmt::format("{}", s.vlan);
        break;
      case 'C':
        if (connection_count > 0) out += 'c';
        break;
      case 'c':
        if (connection_count > 0) out += fmt::format("{}", connection_count);
        break;
      case '#': out += fmt::format("{}", connection_count); break;
      case '%': out += '%'; break;
      default:
        return Error{ErrorCode::InvalidArgument,
                     fmt::format("invalid filename template '{}': unknown character '{}' after %; "
                                 "see tcpflow -hh",
                                 tpl, c)};
    }
  }
  return out;
}

FlowOutput::FlowOutput(const TcpflowOptions& options, DfxmlReport* report, std::FILE* console,
                       PythonScanner* python)
    : options_(options), report_(report), console_(console), python_(python) {
  if (options.outdir != "." && !options.outdir.empty()) prefix_ = options.outdir + "/";
  rlimit lim{};
  std::size_t sys = 1024;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) {
    sys = static_cast<std::size_t>(lim.rlim_cur);
  }
  // Keep room for stdio, the pcap input, the report and the -w dump (tcpflow reserves 6).
  max_fds_ = sys > 16 ? sys - 16 : 4;
  if (options.max_fds > 0) max_fds_ = std::min<std::size_t>(max_fds_, options.max_fds);
  if (options.packet_index) max_fds_ = std::max<std::size_t>(1, max_fds_ / 2);
  if (max_fds_ == 0) max_fds_ = 1;
}

FlowOutput::~FlowOutput() {
  for (auto& f : files_) release_fd(f);
}

std::size_t FlowOutput::buffer_capacity() const {
  std::size_t total = 0;
  for (const auto& f : files_) total += f.buf.capacity();
  return total;
}

void FlowOutput::on_open(TcpStream& s) {
  std::size_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
    files_[slot] = File{};
  } else {
    slot = files_.size();
    files_.emplace_back();
  }
  files_[slot].tstart = s.tstart_raw;
  files_[slot].slot = slot;
  s.sink_slot = slot;
  if (options_.debug >= 5) {
    const std::string src = address_text(s.key.src, s.key.family);
    const std::string dst = address_text(s.key.dst, s.key.family);
    std::fprintf(stderr, "%s: new flow flow[%s:%d->%s:%d]. path:  next seq num (nsn):%d\n",
                 options_.program.c_str(), src.c_str(), s.key.sport, dst.c_str(), s.key.dport,
                 static_cast<int>(s.nsn));
  }
}

void FlowOutput::create_file(TcpStream& s, File& f) {
  for (std::uint32_t count = 0;; ++count) {
    auto name = expand_template(options_.filename_template, s, count);
    if (!name) {
      stats_.open_errors++;
      return;
    }
    make_room_for_fd();
    std::string path = prefix_ + *name;
    // Directories from the template (-T with '/', -Fk/-Fm/-Fg), each made once.
    if (const auto slash = name->rfind('/'); slash != std::string::npos) {
      const std::string dir = prefix_ + name->substr(0, slash);
      if (made_dirs_.insert(dir).second) mkdirs_for(path);
    }
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0666);
    if (options_.debug >= 2) {
      std::fprintf(stderr, "%s: retrying_open ::open(fn=%s,oflag=x%x,mask:x%x)=%d\n",
                   options_.program.c_str(), path.c_str(), O_RDWR | O_CREAT | O_EXCL, 0666, fd);
      if (fd < 0) {
        const int e = errno;
        std::fprintf(stderr, "%s: retrying_open ::open failed with errno=%d\n",
                     options_.program.c_str(), e);
        std::fprintf(stderr, "%s: retrying_open ::open failed with errno=%d (%s)\n",
                     options_.program.c_str(), e, std::strerror(e));
        errno = e;
      }
    }
    if (fd >= 0) {
      if (options_.debug >= 5) {
        std::fprintf(stderr, "%s: %s: created new file\n", options_.program.c_str(), path.c_str());
      }
      f.fd = fd;
      f.path = std::move(path);
      register_fd(f);
      stats_.files_created++;
      if (options_.packet_index) {
        const int ix = ::open((f.path + ".findx").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0666);
        if (ix >= 0) ::close(ix);
        f.findx_created = true;
      }
      return;
    }
    // A template without %c cannot make a new name (tcpflow 1.6.1 loops forever here).
    if (errno != EEXIST || count > 1000000) {
      stats_.open_errors++;
      if (count == 0 || errno != EEXIST) {
        std::fprintf(stderr, "tcpflow: %s: %s\n", path.c_str(), std::strerror(errno));
      }
      return;
    }
  }
}

void FlowOutput::make_room_for_fd() {
  while (lru_.size() >= max_fds_) release_fd(files_[lru_.front()]);
}

void FlowOutput::register_fd(File& f) {
  lru_.push_back(f.slot);
  f.lru = std::prev(lru_.end());
  f.in_lru = true;
  max_open_seen_ = std::max(max_open_seen_, lru_.size());
}

void FlowOutput::release_fd(File& f) {
  if (f.fd < 0) return;
  ::close(f.fd);
  f.fd = -1;
  if (f.in_lru) {
    lru_.erase(f.lru);
    f.in_lru = false;
  }
}

bool FlowOutput::ensure_fd(File& f) {
  if (f.fd >= 0) {
    lru_.splice(lru_.end(), lru_, f.lru);
    return true;
  }
  if (f.path.empty()) return false;
  make_room_for_fd();
  f.fd = ::open(f.path.c_str(), O_RDWR | O_CREAT, 0666);
  if (f.fd < 0) return false;
  stats_.reopens++;
  register_fd(f);
  return true;
}

void FlowOutput::flush(File& f) {
  if (!f.buf.empty()) {
    if (ensure_fd(f)) {
      pwrite_all(f.fd, f.buf.data(), f.buf.size(), f.buf_off);
      stats_.writes++;
      f.flushed = true;
    }
    buffered_ -= f.buf.size();
    f.buf.clear();
    // A flushed buffer's memory goes back to the allocator unless it is small: capacity kept by
    // idle streams is not counted in buffered_, and 48 streams holding 128-256 KiB each would
    // double the peak RSS that the budget is meant to bound.
    if (f.buf.capacity() > kKeptCapacity) std::vector<std::uint8_t>().swap(f.buf);
  }
  if (f.in_dirty) {
    dirty_.erase(f.dirty);
    f.in_dirty = false;
  }
  if (!f.findx.empty()) {
    append_file(f.path + ".findx", f.findx);
    f.findx.clear();
  }
}

void FlowOutput::finish_file(File& f) {
  flush(f);
  if (f.path.empty()) return;
  if (options_.debug >= 5) {
    std::fprintf(stderr, "%s: %s: closing file in tcpip::close_file\n", options_.program.c_str(),
                 f.path.c_str());
  }
  // As tcpflow: mtime and atime are the flow's first packet time (a microsecond field out of
  // range counts as 0). Set once at the end: earlier closes are followed by writes anyway.
  timespec times[2];
  times[0].tv_sec = static_cast<time_t>(f.tstart.sec);
  times[0].tv_nsec =
      f.tstart.usec >= 0 && f.tstart.usec < 1000000 ? static_cast<long>(f.tstart.usec) * 1000 : 0;
  times[1] = times[0];
  if (f.fd >= 0) {
    ::futimens(f.fd, times);
  } else {
    ::utimensat(AT_FDCWD, f.path.c_str(), times, 0);
  }
  release_fd(f);
}

void FlowOutput::enforce_budget() {
  // Flush the streams written longest ago until half the budget is free.
  while (buffered_ > kTotalBuffer / 2 && !dirty_.empty()) flush(files_[dirty_.front()]);
}

void FlowOutput::on_store(TcpStream& s, std::uint64_t offset, std::span<const std::uint8_t> data,
                          std::uint32_t length, TimeUs /*ts*/) {
  File& f = files_[s.sink_slot];
  std::uint64_t wlength = length;
  if (options_.max_bytes >= 0) {
    const auto max = static_cast<std::uint64_t>(options_.max_bytes);
    if (offset >= max) wlength = 0;
    if (offset < max && offset + length > max) wlength = max - offset;
  }
  // The file is created with the stream's first stored segment, even one cut to nothing by -b,
  // so connection counters are handed out in tcpflow's order.
  if (f.path.empty()) {
    create_file(s, f);
    if (f.path.empty()) return;
  }
  const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(data.size(), wlength));
  if (n > 0) {
    if (f.buf.empty()) {
      f.buf_off = offset;
      f.buf.assign(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
      buffered_ += n;
    } else if (offset >= f.buf_off && offset <= f.buf_off + f.buf.size()) {
      const std::size_t rel = static_cast<std::size_t>(offset - f.buf_off);
      if (rel + n > f.buf.size()) {
        buffered_ += rel + n - f.buf.size();
        f.buf.resize(rel + n);
      }
      std::memcpy(f.buf.data() + rel, data.data(), n);
    } else {
      flush(f);
      f.buf_off = offset;
      f.buf.assign(data.begin(), data.begin() + static_cast<std::ptrdiff_t>(n));
      buffered_ += n;
    }
  }
  if (options_.packet_index) {
    const std::int64_t sec = s.tlast_raw.sec;
    const std::int64_t usec = s.tlast_raw.usec;
    f.findx += fmt::format("{}|{}.{:06d}|{}\n", offset, sec, usec, wlength);
  }
  if (!f.buf.empty()) {
    if (!f.in_dirty) {
      dirty_.push_back(f.slot);
      f.dirty = std::prev(dirty_.end());
      f.in_dirty = true;
    } else {
      dirty_.splice(dirty_.end(), dirty_, f.dirty);
    }
  }
  if (f.buf.size() >= kStreamBuffer) flush(f);
  if (buffered_ > kTotalBuffer) enforce_budget();
}

void FlowOutput::on_insert_front(TcpStream& s, std::uint64_t bytes) {
  File& f = files_[s.sink_slot];
  flush(f);
  if (!ensure_fd(f)) return;
  // As tcpflow's shift_file: move [0, size) up by `bytes`; [0, bytes) keeps what was there.
  struct stat st {};
  if (::fstat(f.fd, &st) != 0 || st.st_size == 0) return;
  std::vector<std::uint8_t> all(static_cast<std::size_t>(st.st_size));
  const ssize_t got = ::pread(f.fd, all.data(), all.size(), 0);
  if (got != st.st_size) return;
  pwrite_all(f.fd, all.data(), all.size(), bytes);
  f.flushed = true;
}

void FlowOutput::write_console(File& f, const TcpStream& s, std::span<const std::uint8_t> data) {
  std::FILE* out = console_;
  if (options_.color) {
    std::fputs(s.dir == TcpDirection::ClientToServer ? "\033[0;34m" : "\033[0;31m", out);
  }
  if (!options_.suppress_header) {
    std::fprintf(out, "%s: ", f.console_name.c_str());
    if (options_.hex) std::fputc('\n', out);
  }
  if (options_.hex) {
    std::size_t max_spaces = 0;
    for (std::size_t i = 0; i < data.size(); i += 32) {
      std::string line = fmt::format("{:04x}: ", i);
      std::size_t spaces = line.size();
      for (std::size_t j = 0; j < 32 && i + j < data.size(); ++j) {
        line += fmt::format("{:02x}", data[i + j]);
        spaces += 2;
        if (j % 2 == 1) {
          line += ' ';
          spaces += 1;
        }
      }
      if (spaces > max_spaces) max_spaces = spaces;
      for (; spaces < max_spaces; ++spaces) line += ' ';
      line += ' ';
      for (std::size_t j = 0; j < 32 && i + j < data.size(); ++j) {
        const unsigned char ch = data[i + j];
        line += (ch >= ' ' && ch <= '~') ? static_cast<char>(ch) : '.';
      }
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), out);
    }
  } else if (options_.strip_nonprint) {
    std::string text(data.size(), '.');
    for (std::size_t i = 0; i < data.size(); ++i) {
      const unsigned char ch = data[i];
      if (std::isprint(ch) || ch == '\n' || ch == '\r') text[i] = static_cast<char>(ch);
    }
    std::fwrite(text.data(), 1, text.size(), out);
  } else {
    std::fwrite(data.data(), 1, data.size(), out);
  }
  if (options_.color) std::fputs("\033[0m", out);
  if (!options_.no_newline) std::fputc('\n', out);
}

void FlowOutput::on_print(TcpStream& s, std::span<const std::uint8_t> data) {
  File& f = files_[s.sink_slot];
  std::size_t length = data.size();
  if (options_.max_bytes >= 0) {
    const auto max = static_cast<std::uint64_t>(options_.max_bytes);
    if (s.last_byte > max) return;
    if (length > max - s.last_byte) {
      length = static_cast<std::size_t>(max - s.last_byte);
      if (length == 0) return;
    }
  }
  if (f.console_name.empty()) {
    auto name = expand_template(options_.filename_template, s, 0);
    // tcpflow prints the name with the output directory, as the file would be called.
    f.console_name = name ? prefix_ + *name : std::string();
  }
  write_console(f, s, data.first(length));
  s.last_byte += length;
}

std::string FlowOutput::post_process(TcpStream& s, File& f) {
  (void)s;
  std::string extra;
  bool want_http = options_.http;
  bool want_md5 = options_.md5;
  bool want_python = python_ != nullptr;
  if (!want_http && !want_md5 && !want_python) return extra;
  std::span<const std::uint8_t> content;
  void* map = MAP_FAILED;
  std::size_t map_len = 0;
  if (!f.flushed && f.buf_off == 0) {
    content = f.buf;
  } else {
    flush(f);
    int fd = f.fd >= 0 ? f.fd : ::open(f.path.c_str(), O_RDONLY);
    struct stat st {};
    if (fd >= 0 && ::fstat(fd, &st) == 0 && st.st_size > 0) {
      map_len = static_cast<std::size_t>(st.st_size);
      map = ::mmap(nullptr, map_len, PROT_READ, MAP_PRIVATE, fd, 0);
      if (map != MAP_FAILED) content = {static_cast<const std::uint8_t*>(map), map_len};
    }
    if (fd >= 0 && fd != f.fd) ::close(fd);
  }
  if (repeating_ngram(content) > 0) {
    want_md5 = false;
    want_http = false;
    want_python = false;
  }
  if (want_md5) extra += fmt::format("<hashdigest type='MD5'>{}</hashdigest>", md5_hex(content));
  if (want_http && looks_like_http_response(content)) {
    const auto bodies = scan_http_stream(content, f.path, options_.gzip_decompress);
    extra += "\n    <byte_runs>\n";
    for (const auto& b : bodies) {
      extra += fmt::format(
          "     <byte_run file_offset='{}'><fileobject><filename>{}</filename><filesize>{}"
          "</filesize></fileobject></byte_run>\n",
          b.stream_offset, xml_escape(b.path), b.size);
    }
    extra += "    </byte_runs>";
  }
  // Scanner order as tcpflow's: md5, http, then python.
  if (want_python) extra += python_->scan(content);
  if (map != MAP_FAILED) ::munmap(map, map_len);
  return extra;
}

void FlowOutput::on_close(TcpStream& s) {
  File& f = files_[s.sink_slot];
  std::string extra;
  if (!f.path.empty() && options_.post_processing && s.last_byte > 0) extra = post_process(s, f);
  finish_file(f);
  if (report_ != nullptr) {
    report_->add_flow(s, options_.console ? f.console_name : f.path, extra);
  }
  // Keep the path for saved_data_matches (save_slot is called next).
  free_slots_.push_back(s.sink_slot);
}

std::size_t FlowOutput::save_slot(const TcpStream& s) {
  std::string path = files_[s.sink_slot].path;
  if (!free_saved_.empty()) {
    const std::size_t slot = free_saved_.back();
    free_saved_.pop_back();
    saved_paths_[slot] = std::move(path);
    return slot;
  }
  saved_paths_.push_back(std::move(path));
  return saved_paths_.size() - 1;
}

void FlowOutput::forget_saved(std::size_t saved_slot) {
  if (saved_slot >= saved_paths_.size()) return;
  saved_paths_[saved_slot].clear();
  free_saved_.push_back(saved_slot);
}

bool FlowOutput::saved_data_matches(std::size_t saved_slot, std::uint32_t offset,
                                    std::span<const std::uint8_t> data) {
  if (saved_slot >= saved_paths_.size() || saved_paths_[saved_slot].empty()) return false;
  const int fd = ::open(saved_paths_[saved_slot].c_str(), O_RDONLY);
  if (fd < 0) return false;
  std::vector<std::uint8_t> buf(data.size());
  const ssize_t got = ::pread(fd, buf.data(), buf.size(), offset);
  ::close(fd);
  return got == static_cast<ssize_t>(data.size()) &&
         std::memcmp(buf.data(), data.data(), data.size()) == 0;
}

}  // namespace flowscope::capture::tcpflow
