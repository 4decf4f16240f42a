#pragma once
// Options of `flowscope tcpflow`, a drop-in for tcpflow 1.6.1 (docs/tcpflow.md), and the
// getopt-compatible parser of its command line. tcpflow's flags are POSIX getopt style
// (`-Fc`, `-e http`, `-ehttp`, `-b100`, bundles like `-cs`, `--` ends options, the rest is a BPF
// expression); CLI11 cannot express them, so this parser follows getopt(3)'s rules for the
// option string "aA:Bb:cCd:DE:e:F:f:gHhIi:KlL:m:o:PpqR:r:S:sT:U:Vvw:x:X:z:Z0" plus the long
// options --help --version --verbose --chroot=DIR --relinquish-privileges=USER. Like GNU getopt it
// permutes: options may follow non-option words, which are collected in order.
//
// Pure functions; any thread.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/result.h"

namespace flowscope::capture::tcpflow {

inline constexpr const char* kDefaultTemplate = "%A.%a-%B.%b%V%v%C%c";

struct TcpflowOptions {
  std::vector<std::string> read_files;    // -r (and -l trailing words)
  std::vector<std::string> finish_files;  // -R
  std::string device;                     // -i
  std::string outdir = ".";               // -o
  std::string report_file;                // -X (default outdir/report.xml)
  std::string unprocessed_file;           // -w
  std::string expression;                 // trailing BPF words joined by spaces
  std::string filename_template = kDefaultTemplate;
  std::int64_t max_bytes = -1;        // -b; -1 unlimited
  std::uint32_t max_seek = 16777216;  // -m
  int max_fds = 0;                    // -f; 0: the system's limit minus reserved descriptors
  int debug = 1;                      // -d / -v
  bool console = false;               // -c / -C
  bool suppress_header = false;       // -C
  bool hex = false;                   // -D
  bool color = false;                 // -g
  bool strip_nonprint = true;    // console only; -B and -D clear it (tcpflow strips by default)
  bool no_newline = false;       // -0
  bool store = true;             // -FX clears
  bool opt_md5 = false;          // -FM / -a
  bool post_processing = false;  // any -e / -a
  // Scanners, as tcpflow's -e/-E/-x/-a leave them (commands applied in order after parsing):
  bool http = false;            // http (body files)
  bool md5 = false;             // md5 (hash digest in the report)
  bool python = false;          // python (needs -S py_module...; never enabled by `all`)
  bool netviz = false;          // netviz (report.pdf)
  bool wifiviz = false;         // wifiviz (802.11 captures only: no output here)
  bool tcpdemux = true;         // the flow files themselves (-E NAME and -x tcpdemux turn it off)
  std::string scanner_error;    // "Invalid scanner name 'X'" (tcpflow exits 1 before reading)
  bool gzip_decompress = true;  // -Z clears
  bool packet_index = false;    // -I
  bool no_purge = false;        // -P
  bool no_promisc = false;      // -p
  bool quiet = false;           // -q
  bool keep_pcap = false;       // -K: one .pcap per flow direction instead of flow files
  bool trailing_input_list = false;             // -l
  bool enable_report = true;                    // -S enable_report=NO
  std::uint32_t tcp_timeout = 0;                // -S tcp_timeout=N
  std::int64_t tdelta = 0;                      // -S tdelta=N (seconds added to timestamps)
  std::map<std::string, std::string> settings;  // every -S name=value
  std::string semlock;                          // -L
  std::string user;                             // -U
  std::string chroot_dir;                       // -z
  std::string program = "tcpflow";  // argv[0]: tcpflow's messages start with it ("tcpflow: ")
  int help = 0;                     // -h count (-hh = 2)
  bool help_scanners = false;       // -H
  bool version = false;             // -V
};

// Parses tcpflow's arguments (without the program name). Usage errors name the option.
Result<TcpflowOptions> parse_tcpflow_args(const std::vector<std::string>& args);

// The text of -h (level 1) or -hh (level 2).
std::string tcpflow_usage(int level);

}  // namespace flowscope::capture::tcpflow
