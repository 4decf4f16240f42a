#include "capture/tcpflow/tcpflow_run.h"

#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <grp.h>
#include <pcap/pcap.h>
#include <pwd.h>
#include <unistd.h>

#include "capture/tcp_reassembler.h"
#include "capture/tcpflow/dfxml_report.h"
#include "capture/tcpflow/flow_output.h"
#include "capture/tcpflow/flow_pcap_writer.h"
#include "capture/tcpflow/frame_decoder.h"
#include "capture/tcpflow/mapped_pcap.h"
#include "capture/tcpflow/netviz.h"
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

// tcpflow's -H text (Debian's 1.6.1 build: no python scanner).
constexpr const char* kScannerHelp =
    "\nScanner Name: md5\nflags:  SCANNER_DISABLED \nScanner Interface version: 4\n"
    "Feature Names: \n\n"
    "Scanner Name: http\nflags:  SCANNER_DISABLED \nScanner Interface version: 4\n"
    "Feature Names: \n\n"
    "Scanner Name: netviz\nflags:  SCANNER_DISABLED \nScanner Interface version: 4\n"
    "Author: Mike Shick\nDescription: Performs 1-page visualization of network packets\n"
    "Feature Names: \n\n"
    "Scanner Name: tcpdemux\nflags:  NONE \nScanner Interface version: 4\n"
    "Author: Simson Garfinkel\nFeature Names: \n\n"
    "Scanner Name: wifiviz\nflags:  SCANNER_DISABLED \nScanner Interface version: 4\n"
    "Author: Simson Garfinkel\nDescription: Performs wifi isualization\nFeature Names: \n\n"
    "Settable Options (and their defaults): \n"
    "   -S enable_report=YES    Enable report.xml ()\n"
    "   -S http_cmd=    Command to execute on each HTTP attachment (http)\n"
    "   -S http_alert_fd=-1    File descriptor to send information about completed HTTP "
    "attachments (http)\n"
    "   -S netviz_histogram_dump=0    Dumps the histogram (netviz)\n"
    "   -S netviz_histogram_size=1000    Maximum histogram size (netviz)\n"
    "   -S tcp_timeout=0    Timeout for TCP connections (tcpdemux)\n"
    "   -S tcp_cmd=    Command to execute on each TCP flow (tcpdemux)\n"
    "   -S tcp_alert_fd=-1    File descriptor to send information about completed TCP flows "
    "(tcpdemux)\n"
    "   -S check_fcs=YES    Require valid Frame Check Sum (FCS) (wifiviz)\n\n"
    "These scanners disabled by default; enable with -e:\n"
    "   -e http - enable scanner http\n   -e md5 - enable scanner md5\n"
    "   -e netviz - enable scanner netviz\n   -e wifiviz - enable scanner wifiviz\n\n"
    "These scanners enabled by default; disable with -x:\n"
    "   -x tcpdemux - disable scanner tcpdemux\n";

// tcpflow's DEBUG(n): "tcpflow: MESSAGE" on standard error when the level (-d, -v) is >= n.
class Debug {
 public:
  Debug(int level, std::string program, std::FILE* err)
      : level_(level), program_(std::move(program)), err_(err) {}
  template <typename... Args>
  void operator()(int n, fmt::format_string<Args...> f, Args&&... args) const {
    if (level_ < n) return;
    fmt::print(err_, "{}: {}\n", program_, fmt::format(f, std::forward<Args>(args)...));
  }
  bool on(int n) const { return level_ >= n; }

 private:
  int level_;
  std::string program_;
  std::FILE* err_;
};

// -U/-z, as tcpflow's droproot: right after the capture is opened, give the report to the
// user, chroot (and chdir /) when asked, then become the user. Any failure ends the run.
bool drop_privileges(const TcpflowOptions& o, const std::string& report_path, std::FILE* err) {
  const passwd* pw = ::getpwnam(o.user.c_str());
  if (pw == nullptr) {
    fmt::print(err, "tcpflow: Couldn't find user '{}'; give an existing user to -U\n", o.user);
    return false;
  }
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  const std::string name = pw->pw_name;
  if (!report_path.empty() && ::chown(report_path.c_str(), uid, gid) != 0) {
    fmt::print(err, "tcpflow: Couldn't change owner of '{}' to {} (uid {}): {}\n", report_path,
               o.user, uid, std::strerror(errno));
    return false;
  }
  if (!o.chroot_dir.empty() && (::chroot(o.chroot_dir.c_str()) != 0 || ::chdir("/") != 0)) {
    fmt::print(err, "tcpflow: Couldn't chroot/chdir to '{}': {}; -z needs root and a directory\n",
               o.chroot_dir, std::strerror(errno));
    return false;
  }
  if (::initgroups(name.c_str(), gid) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0) {
    fmt::print(err, "tcpflow: Couldn't change to '{}' uid={} gid={}: {}; -U needs root\n", o.user,
               uid, gid, std::strerror(errno));
    return false;
  }
  fmt::print(err, "dropped privs to {}\n", o.user);
  return true;
}

class Runner {
 public:
  Runner(const TcpflowOptions& o, std::FILE* err, NetvizData* netviz, FlowPcapWriter* pcaps,
         std::string report_path)
      : o_(o),
        err_(err),
        debug_(o.debug, o.program, err),
        netviz_(netviz),
        pcaps_(pcaps),
        report_path_(std::move(report_path)) {}

  // Processes one capture (file or live); false on a fatal error (already reported).
  bool process(pcap_t* pd, const std::string& name, TcpReassembler& reassembler) {
    if (!o_.user.empty() && !dropped_) {
      if (!drop_privileges(o_, report_path_, err_)) return false;
      dropped_ = true;
    }
    const int dlt = pcap_datalink(pd);
    debug_(3, "looking for handler for datalink type {} for interface {}", dlt, name);
    if (!link_type_supported(dlt)) {
      fmt::print(err_, "tcpflow: sorry - unknown datalink type {} on interface {}\n", dlt, name);
      return false;
    }
    debug_(20, "filter expression: '{}'", o_.expression);
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
    // The same filter for the records read from the map (libpcap's copy is private to it).
    bpf_program filter{};
    if (pcap_compile(pd, &filter, o_.expression.c_str(), 1, PCAP_NETMASK_UNKNOWN) < 0) {
      fmt::print(err_, "tcpflow: filter '{}': {}\n", o_.expression, pcap_geterr(pd));
      return false;
    }
    struct FreeCode {
      bpf_program* p;
      ~FreeCode() { pcap_freecode(p); }
    } free_filter{&filter};
    if (!o_.unprocessed_file.empty() && !dumper_) {
      dumper_.reset(open_unprocessed(o_.unprocessed_file, pd));
      if (!dumper_) {
        fmt::print(err_, "tcpflow: cannot write {}: {}\n", o_.unprocessed_file,
                   std::strerror(errno));
        return false;
      }
    }
    TcpPacket packet;
    const bool per_packet_debug = debug_.on(10);
    // One packet, from the map or from libpcap; false on a fatal error (already reported).
    auto handle = [&](const pcap_pkthdr* hdr, const u_char* bytes) -> bool {
      const PcapTime ts{static_cast<std::int64_t>(hdr->ts.tv_sec) + o_.tdelta,
                        static_cast<std::int64_t>(hdr->ts.tv_usec)};
      const std::span<const std::uint8_t> frame{bytes, hdr->caplen};
      if (netviz_ != nullptr) {
        // netviz sees every packet tcpflow's datalink handler passes on, TCP or not.
        if (const auto ip = link_payload(dlt, frame, nullptr)) {
          const std::uint16_t ether_type =
              (dlt == 1 || dlt == 6) ? static_cast<std::uint16_t>((bytes[12] << 8) | bytes[13]) : 0;
          netviz_->ingest(ts, hdr->len, ether_type, *ip);
        }
      }
      if (!o_.tcpdemux) return true;
      const FrameKind kind = decode_frame(dlt, frame, hdr->len, ts, packet);
      if (per_packet_debug && kind != FrameKind::Ignored) {
        debug_(10, "process_pkt{}", std::string(78, '.'));
      }
      bool unprocessed = kind == FrameKind::Unprocessed;
      if (kind == FrameKind::Tcp) {
        if (pcaps_ != nullptr) {
          if (!pcaps_->write(dlt, packet, PcapTime{hdr->ts.tv_sec, hdr->ts.tv_usec}, hdr->len,
                             frame)) {
            fmt::print(err_, "tcpflow: {}\n", pcaps_->last_error());
            return false;
          }
        } else {
          unprocessed = reassembler.process(packet) == TcpVerdict::NotProcessed;
        }
      }
      if (unprocessed && dumper_) {
        const std::uint32_t rec[4] = {static_cast<std::uint32_t>(hdr->ts.tv_sec),
                                      static_cast<std::uint32_t>(hdr->ts.tv_usec), hdr->caplen,
                                      hdr->len};
        std::fwrite(rec, sizeof rec, 1, dumper_.get());
        std::fwrite(bytes, 1, hdr->caplen, dumper_.get());
      }
      return true;
    };
    // A regular classic pcap file is read from a memory map (capture/tcpflow/mapped_pcap.h)
    // until its end or a record that only libpcap should judge.
    if (auto mapped = MappedPcap::open(pd)) {  // null for live captures, pcapng, stdin
      pcap_pkthdr mhdr{};
      const std::uint8_t* mbytes = nullptr;
      MappedPcap::Next next = MappedPcap::Next::Packet;
      while (g_stop == 0 && (next = mapped->next(mhdr, mbytes)) == MappedPcap::Next::Packet) {
        if (pcap_offline_filter(&filter, &mhdr, mbytes) == 0) continue;
        if (!handle(&mhdr, mbytes)) return false;
      }
      if (next != MappedPcap::Next::Libpcap) return true;
    }
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
      if (!handle(hdr, bytes)) return false;
    }
    return true;
  }

 private:
  const TcpflowOptions& o_;
  std::FILE* err_;
  Debug debug_;
  NetvizData* netviz_;
  FlowPcapWriter* pcaps_;
  std::string report_path_;
  bool dropped_ = false;
  std::unique_ptr<std::FILE, FileCloser> dumper_;
};

// `buffer` must outlive the handle (glibc ignores setvbuf's size without a caller buffer).
PcapHandle open_offline(const std::string& path, std::FILE* err, std::vector<char>& buffer) {
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  // Our own stream with a 256 KiB buffer: libpcap's default stdio buffer reads 4 KiB at a time.
  // (Classic pcap files are then read from a map, capture/tcpflow/mapped_pcap.h; this serves
  // pcapng and stdin.)
  std::FILE* f = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    fmt::print(err, "tcpflow: {}: {}\n", path, std::strerror(errno));
    return nullptr;
  }
  buffer.resize(256 << 10);
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
  if (o.help_scanners) {
    std::fputs(kScannerHelp, out);
    return 0;
  }
  if (o.help > 0) {
    const std::string text = tcpflow_usage(o.help);
    std::fwrite(text.data(), 1, text.size(), out);
    return 0;
  }
  if (o.version) {  // tcpflow prints its name upper-case and exits 1 (its usage path)
    fmt::print(out, "TCPFLOW 1.6.1\n");
    return 1;
  }
  if (!o.scanner_error.empty()) {
    fmt::print(err, "{}\n", o.scanner_error);
    return 1;
  }
  if (o.keep_pcap && o.debug >= 1)
    fmt::print(err, "{}[{}]: ensuring pcap core\n", o.program, getpid());
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

  std::optional<DfxmlReport> report;
  std::string report_path;
  if (o.enable_report) {
    report_path = o.report_file.empty() ? o.outdir + "/report.xml" : o.report_file;
    // As tcpflow: the report is opened before the chroot, so its path is taken inside it.
    if (!o.chroot_dir.empty()) report_path = o.chroot_dir + "/" + report_path;
    fmt::print(err, "reportfilename: {}\n", report_path);
    auto r = DfxmlReport::open(report_path, command_line, python != nullptr, o.tdelta);
    if (!r) {
      fmt::print(err, "tcpflow: {}\n", r.error().message);
      return 1;
    }
    report.emplace(std::move(*r));
  }
  if (!o.unprocessed_file.empty() && o.read_files.empty()) {
    fmt::print(err, "currently the -w option requires the -r option\n");
    return 1;
  }
  const Debug debug(o.debug, o.program, err);
  debug(10, "TCPFLOW version 1.6.1 ");

  std::unique_ptr<NetvizData> netviz;
  if (o.netviz) {
    std::size_t size = 1000;
    if (auto it = o.settings.find("netviz_histogram_size"); it != o.settings.end()) {
      size = static_cast<std::size_t>(std::max(0, std::atoi(it->second.c_str())));
    }
    netviz = std::make_unique<NetvizData>(size);
  }
  const std::string prefix = (o.outdir == "." || o.outdir.empty()) ? "" : o.outdir + "/";
  std::unique_ptr<FlowPcapWriter> pcaps;
  if (o.keep_pcap) {
    rlimit lim{};
    std::size_t fds = 1024;
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY) fds = lim.rlim_cur;
    fds = fds > 16 ? fds - 16 : 4;
    if (o.max_fds > 0) fds = std::min<std::size_t>(fds, static_cast<std::size_t>(o.max_fds));
    pcaps = std::make_unique<FlowPcapWriter>(prefix, o.filename_template, fds);
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
    Runner runner(o, err, netviz.get(), pcaps.get(), report_path);
    std::vector<char> read_buffer;

    std::string input_name;
    if (o.read_files.empty() && o.finish_files.empty()) {
      reassembler.set_start_new_connections(true);
      PcapHandle pd = open_live(o, err);
      if (!pd || !runner.process(pd.get(), o.device, reassembler)) exit_code = 1;
      input_name = o.device;
    } else {
      if (!o.read_files.empty()) input_name = o.read_files.front();
      if (o.read_files.size() > 1) input_name += fmt::format(" + {} more", o.read_files.size() - 1);
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
    debug(2, "Open FDs at end of processing:      {}", open_fds);
    debug(2, "demux.max_open_flows:               {}", output.max_open_files());
    debug(2, "Flow map size at end of processing: {}", map_size);
    debug(2, "Flows seen:                         {}", reassembler.stats().flows);
    debug(10, "Cleaning up flows");
    reassembler.close_all();
    if (netviz && exit_code == 0) {
      if (auto r = render_netviz_pdf(*netviz, prefix + "report.pdf", input_name); !r) {
        fmt::print(err, "tcpflow: {}\n", r.error().message);
        exit_code = 1;
      }
    }
    debug(2, "Total flows processed: {}", reassembler.stats().flows);
    debug(2, "Total packets processed: {}", reassembler.stats().packets);
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

int tcpflow_command_line(const std::string& program, const std::vector<std::string>& args) {
  auto options = parse_tcpflow_args(args);
  if (!options) {
    std::fprintf(stderr, "tcpflow: %s\n", options.error().message.c_str());
    return 2;  // usage error, as every flowscope command
  }
  // tcpflow prefixes its messages with argv[0]; as a subcommand we answer to "tcpflow".
  options->program = program == "flowscope tcpflow" ? "tcpflow" : program;
  std::string line = program;
  for (const auto& a : args) {
    line += ' ';
    line += a;
  }
  return run_tcpflow(*options, line, stdout, stderr);
}

}  // namespace flowscope::capture::tcpflow
