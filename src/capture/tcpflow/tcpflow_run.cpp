#include "capture/tcpflow/tcpflow_run.h"

#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <pcap/pcap.h>

#include "capture/tcp_reassembler.h"
#include "capture/tcpflow/dfxml_report.h"
#include "capture/tcpflow/flow_output.h"
#include "capture/tcpflow/frame_decoder.h"
#include "capture/tcpflow/python_scanner.h"

namespace flowscope::capture::tcpflow {
namespace {

// Set by the signal handler, read by the packet loop: the one piece of process-wide state, as a
// signal handler can reach nothing else safely.
volatile std::sig_atomic_t g_stop = 0;

extern "C" void on_tcpflow_stop_signal(int) { g_stop = 1; }

struct PcapCloser {
  void operator()(pcap_t* p) const {
    if (p != nullptr) pcap_close(p);
  }
};
struct FileCloser {
  void operator()(std::FILE* f) const {
    if (f != nullptr) std::fclose(f);
  }
};

// -w output as tcpflow writes it: a classic pcap whose header carries the input's DLT value as
// pcap_datalink() returns it (12 for raw IP, where libpcap's own dumper would write LINKTYPE 101).
std::FILE* open_unprocessed(const std::string& path, pcap_t* pd) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return nullptr;
  const std::uint32_t header[6] = {0xa1b2c3d4,
                                   0x00040002,
                                   0,
                                   0,
                                   static_cast<std::uint32_t>(pcap_snapshot(pd)),
                                   static_cast<std::uint32_t>(pcap_datalink(pd))};
  std::fwrite(header, sizeof header, 1, f);
  return f;
}
using PcapHandle = std::unique_ptr<pcap_t, PcapCloser>;

class SignalScope {
 public:
  SignalScope() {
    g_stop = 0;
    struct sigaction sa {};
    sa.sa_handler = on_tcpflow_stop_signal;
    sigemptyset(&sa.sa_mask);
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &sa, &old_[i]);
  }
  ~SignalScope() {
    for (int i = 0; i < 3; ++i) sigaction(kSignals[i], &old_[i], nullptr);
  }
  SignalScope(const SignalScope&) = delete;
  SignalScope& operator=(const SignalScope&) = delete;

 private:
  static constexpr int kSignals[3] = {SIGINT, SIGTERM, SIGHUP};
  struct sigaction old_[3];
};

class Runner {
 public:
  Runner(const TcpflowOptions& o, std::FILE* err) : o_(o), err_(err) {}

  // Processes one capture (file or live); false on a fatal error (already reported).
  bool process(pcap_t* pd, const std::string& name, TcpReassembler& reassembler) {
    const int dlt = pcap_datalink(pd);
    if (!link_type_supported(dlt)) {
      fmt::print(err_, "tcpflow: sorry - unknown datalink type {} on interface {}\n", dlt, name);
      return false;
    }
    {  // tcpflow installs the filter even when the expression is empty (it matches everything)
      bpf_program prog{};
      if (pcap_compile(pd, &prog, o_.expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0) {
        fmt::print(err_, "tcpflow: filter '{}': {}\n", o_.expression, pcap_geterr(pd));
        return false;
      }
      const int rc = pcap_setfilter(pd, &prog);
      pcap_freecode(&prog);
      if (rc < 0) {
        fmt::print(err_, "tcpflow: {}\n", pcap_geterr(pd));
        return false;
      }
    }
    if (!o_.unprocessed_file.empty() && !dumper_) {
      dumper_.reset(open_unprocessed(o_.unprocessed_file, pd));
      if (!dumper_) {
        fmt::print(err_, "tcpflow: cannot write {}: {}\n", o_.unprocessed_file,
                   std::strerror(errno));
        return false;
      }
    }
    TcpPacket packet;
    pcap_pkthdr* hdr = nullptr;
    const u_char* bytes = nullptr;
    while (g_stop == 0) {
      const int rc = pcap_next_ex(pd, &hdr, &bytes);
      if (rc == 0) continue;  // live capture timeout
      if (rc == PCAP_ERROR_BREAK) break;
      if (rc < 0) {
        if (g_stop != 0) break;  // a read interrupted by SIGINT/SIGTERM: a normal stop
        fmt::print(err_, "tcpflow: {}: {}\n", name, pcap_geterr(pd));
        return false;
      }
      const PcapTime ts{static_cast<std::int64_t>(hdr->ts.tv_sec) + o_.tdelta,
                        static_cast<std::int64_t>(hdr->ts.tv_usec)};
      const FrameKind kind = decode_frame(dlt, {bytes, hdr->caplen}, hdr->len, ts, packet);
      bool unprocessed = kind == FrameKind::Unprocessed;
      if (kind == FrameKind::Tcp) {
        unprocessed = reassembler.process(packet) == TcpVerdict::NotProcessed;
      }
      if (unprocessed && dumper_) {
        const std::uint32_t rec[4] = {static_cast<std::uint32_t>(hdr->ts.tv_sec),
                                      static_cast<std::uint32_t>(hdr->ts.tv_usec), hdr->caplen,
                                      hdr->len};
        std::fwrite(rec, sizeof rec, 1, dumper_.get());
        std::fwrite(bytes, 1, hdr->caplen, dumper_.get());
      }
    }
    return true;
  }

 private:
  const TcpflowOptions& o_;
  std::FILE* err_;
  std::unique_ptr<std::FILE, FileCloser> dumper_;
};

// `buffer` must outlive the handle (glibc ignores setvbuf's size without a caller buffer).
PcapHandle open_offline(const std::string& path, std::FILE* err, std::vector<char>& buffer) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  // Our own stream with a 1 MiB buffer: libpcap's default stdio buffer reads 4 KiB at a time.
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    fmt::print(err, "tcpflow: {}: {}\n", path, std::strerror(errno));
    return nullptr;
  }
  buffer.resize(1 << 20);
  std::setvbuf(f, buffer.data(), _IOFBF, buffer.size());
  pcap_t* pd = pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_MICRO, errbuf);
  if (pd == nullptr) {
    fmt::print(err, "tcpflow: {}: {}\n", path, errbuf);
    if (f != stdin) std::fclose(f);
  }
  return PcapHandle(pd);  // pcap_close closes the stream
}

PcapHandle open_live(const TcpflowOptions& o, std::FILE* err) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  std::string device = o.device;
  if (device.empty()) {
    pcap_if_t* all = nullptr;
    if (pcap_findalldevs(&all, errbuf) == 0 && all != nullptr) {
      device = all->name;
      pcap_freealldevs(all);
    } else {
      fmt::print(err, "tcpflow: no capture device: {}; use -i IFACE or -r FILE\n", errbuf);
      return nullptr;
    }
  }
  pcap_t* pd = pcap_open_live(device.c_str(), 65535, o.no_promisc ? 0 : 1, 1000, errbuf);
  if (pd == nullptr) fmt::print(err, "tcpflow: {}: {}\n", device, errbuf);
  return PcapHandle(pd);
}

}  // namespace

int run_tcpflow(const TcpflowOptions& o, const std::string& command_line, std::FILE* out,
                std::FILE* err) {
  if (o.help > 0 || o.help_scanners) {
    const std::string text = tcpflow_usage(o.help_scanners ? 2 : o.help);
    std::fwrite(text.data(), 1, text.size(), out);
    return 0;
  }
  if (o.version) {
    fmt::print(out, "tcpflow 1.6.1\n");
    return 0;
  }
  std::unique_ptr<PythonScanner> python;
  if (o.python && o.post_processing) {
    auto setting = [&o](const char* name) {
      auto it = o.settings.find(name);
      return it == o.settings.end() ? std::string() : it->second;
    };
    auto scanner =
        PythonScanner::open(setting("py_path"), setting("py_module"), setting("py_function"));
    if (!scanner) {
      fmt::print(err, "tcpflow: {}\n", scanner.error().message);
      return 1;
    }
    python = std::move(*scanner);
  }
  if (o.post_processing && !o.store) {
    fmt::print(err, "ERROR: post_processing currently requires storing output.\n");
    return 1;
  }
  // Check the template once, so a bad %x is a usage error and not a failure per flow.
  {
    TcpStream probe;
    if (auto r = expand_template(o.filename_template, probe, 0); !r) {
      fmt::print(err, "tcpflow: {}\n", r.error().message);
      return 1;
    }
  }
  struct stat st {};
  if (::stat(o.outdir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      fmt::print(err, "outdir is not a directory: {}\n", o.outdir);
      return 1;
    }
  } else if (::mkdir(o.outdir.c_str(), 0777) != 0) {
    fmt::print(err, "cannot create {}: {}\n", o.outdir, std::strerror(errno));
    return 1;
  }
  if (!o.unprocessed_file.empty() && o.read_files.empty()) {
    fmt::print(err, "currently the -w option requires the -r option\n");
    return 1;
  }

  std::optional<DfxmlReport> report;
  if (o.enable_report) {
    const std::string path = o.report_file.empty() ? o.outdir + "/report.xml" : o.report_file;
    auto r = DfxmlReport::open(path, command_line, python != nullptr);
    if (!r) {
      fmt::print(err, "tcpflow: {}\n", r.error().message);
      return 1;
    }
    report.emplace(std::move(*r));
  }

  SignalScope signals;
  int exit_code = 0;
  {
    FlowOutput output(o, report ? &*report : nullptr, out, python.get());
    TcpReassemblerOptions ro;
    ro.console = o.console;
    ro.store = o.store;
    ro.purge_on_fin = !o.no_purge;
    ro.max_seek = o.max_seek;
    ro.tcp_timeout_s = o.tcp_timeout;
    TcpReassembler reassembler(ro, output);
    Runner runner(o, err);
    std::vector<char> read_buffer;

    if (o.read_files.empty() && o.finish_files.empty()) {
      reassembler.set_start_new_connections(true);
      PcapHandle pd = open_live(o, err);
      if (!pd || !runner.process(pd.get(), o.device, reassembler)) exit_code = 1;
    } else {
      reassembler.set_start_new_connections(true);
      for (const auto& f : o.read_files) {
        if (g_stop != 0) break;
        PcapHandle pd = open_offline(f, err, read_buffer);
        if (!pd || !runner.process(pd.get(), f, reassembler)) {
          exit_code = 1;
          break;
        }
      }
      reassembler.set_start_new_connections(false);
      for (const auto& f : o.finish_files) {
        if (exit_code != 0 || g_stop != 0) break;
        PcapHandle pd = open_offline(f, err, read_buffer);
        if (!pd || !runner.process(pd.get(), f, reassembler)) exit_code = 1;
      }
    }
    const std::size_t open_fds = output.open_files();
    const std::size_t map_size = reassembler.open_streams();
    reassembler.close_all();
    if (report) {
      DfxmlReport::Summary sum;
      sum.open_fds_at_end = open_fds;
      sum.max_open_flows = output.max_open_files();
      sum.total_flows = reassembler.stats().flows;
      sum.flow_map_size = map_size;
      sum.total_packets = reassembler.stats().packets;
      report->finish(sum);
    }
    std::fflush(out);
  }
  return exit_code;
}

}  // namespace flowscope::capture::tcpflow
