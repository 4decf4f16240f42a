#pragma once
// Internal to flowscope_tcpflow: other modules use its public headers.
// Where `flowscope tcpflow` puts reassembled bytes: one file per stream, named by the filename
// template as tcpflow 1.6.1 names it (a connection counter is the first N for which
// O_CREAT|O_EXCL succeeds, so repeated 4-tuples and files already in the directory get c1, c2…),
// filled with the same bytes (holes read as zeros, overlaps last-writer-wins, the front shifted
// when earlier data arrives), mtime set to the flow's first packet, optional .findx companions,
// console printing for -c/-C/-D/-g/-s, and at the end of each flow the scanners (http, md5) and
// its DFXML <fileobject>.
//
// Performance: where tcpflow issues one lseek+write per segment and reopens files as its
// descriptor ring turns, we buffer each stream's contiguous bytes (up to kStreamBuffer, with a
// global budget of kTotalBuffer flushed oldest-first) and write them with one pwrite; a flushed
// buffer larger than kKeptCapacity is freed, so memory is bounded by the budget, not by the
// number of streams. Buffers do not hold descriptors: descriptors (at most max_fds, -f) are
// needed only to create a file and to flush, and stay open in an LRU, so with a small -f a file
// is reopened once per flush, not once per segment.
//
// Not thread-safe; driven by the TcpReassembler on the runner's thread.

#include <cstdint>
#include <cstdio>
#include <list>
#include <memory>
#include <string>
#include <unordered_set>
#include <vector>

#include "capture/tcp_reassembler.h"
#include "capture/tcpflow/dfxml_report.h"
#include "capture/tcpflow/python_scanner.h"
#include "capture/tcpflow/tcpflow_options.h"
#include "core/result.h"

namespace flowscope::capture::tcpflow {

// Expands a filename template (%A %a %B %b %E %e %T %t %V %v %C %c %# %N %K %M %G %%) for one
// stream and connection counter; an unknown %x is an error naming it.
Result<std::string> expand_template(const std::string& tpl, const TcpStream& s,
                                    std::uint32_t connection_count);

struct FlowOutputStats {
  std::uint64_t files_created = 0;
  std::uint64_t writes = 0;   // pwrite calls on flow files
  std::uint64_t reopens = 0;  // files reopened after an LRU eviction
  std::uint64_t open_errors = 0;
};

class FlowOutput final : public TcpStreamSink {
 public:
  static constexpr std::size_t kStreamBuffer = 128 * 1024;
  static constexpr std::size_t kTotalBuffer = 4 * 1024 * 1024;
  static constexpr std::size_t kKeptCapacity = 16 * 1024;  // a flushed buffer keeps at most this

  // `python` may be null (no -e python).
  FlowOutput(const TcpflowOptions& options, DfxmlReport* report, std::FILE* console,
             PythonScanner* python = nullptr);
  ~FlowOutput() override;
  FlowOutput(const FlowOutput&) = delete;
  FlowOutput& operator=(const FlowOutput&) = delete;

  void on_open(TcpStream& s) override;
  void on_store(TcpStream& s, std::uint64_t offset, std::span<const std::uint8_t> data,
                std::uint32_t length, TimeUs ts) override;
  void on_insert_front(TcpStream& s, std::uint64_t bytes) override;
  void on_print(TcpStream& s, std::span<const std::uint8_t> data) override;
  void on_close(TcpStream& s) override;
  bool saved_data_matches(std::size_t saved_slot, std::uint32_t offset,
                          std::span<const std::uint8_t> data) override;
  std::size_t save_slot(const TcpStream& s) override;
  void forget_saved(std::size_t saved_slot) override;

  std::size_t open_files() const { return lru_.size(); }
  std::size_t max_open_files() const { return max_open_seen_; }
  std::size_t buffered_bytes() const { return buffered_; }
  // Bytes the stream buffers hold from the allocator (capacity, not just content).
  std::size_t buffer_capacity() const;
  const FlowOutputStats& stats() const { return stats_; }

 private:
  struct File {
    std::string path;  // empty until the stream's first stored byte
    std::string console_name;
    int fd = -1;
    bool flushed = false;  // bytes of this file reached the disk (the buffer is not all of it)
    std::vector<std::uint8_t> buf;
    std::uint64_t buf_off = 0;
    std::string findx;  // .findx lines not yet appended
    bool findx_created = false;
    std::list<std::size_t>::iterator lru;
    bool in_lru = false;
    std::list<std::size_t>::iterator dirty;
    bool in_dirty = false;
    std::size_t slot = 0;
    PcapTime tstart;
  };

  void create_file(TcpStream& s, File& f);
  void make_room_for_fd();
  void register_fd(File& f);
  void release_fd(File& f);
  bool ensure_fd(File& f);
  void flush(File& f);
  void finish_file(File& f);
  void enforce_budget();
  std::string post_process(TcpStream& s, File& f);
  void write_console(File& f, const TcpStream& s, std::span<const std::uint8_t> data);

  const TcpflowOptions& options_;
  DfxmlReport* report_;
  std::FILE* console_;
  PythonScanner* python_;
  std::string prefix_;  // outdir + '/' unless outdir is "." or ""
  std::size_t max_fds_ = 0;
  std::vector<File> files_;
  std::vector<std::size_t> free_slots_;
  std::list<std::size_t> lru_;    // open descriptors, least recently used first
  std::list<std::size_t> dirty_;  // streams with buffered bytes, least recently written first
  std::size_t max_open_seen_ = 0;
  std::size_t buffered_ = 0;
  std::unordered_set<std::string> made_dirs_;
  std::vector<std::string> saved_paths_;
  std::vector<std::size_t> free_saved_;
  FlowOutputStats stats_;
};

}  // namespace flowscope::capture::tcpflow
