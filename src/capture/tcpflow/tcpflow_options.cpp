#include "capture/tcpflow/tcpflow_options.h"

#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

namespace flowscope::capture::tcpflow {
namespace {

// getopt(3) option string of tcpflow 1.6.1 (a letter followed by ':' takes an argument).
constexpr std::string_view kOptString =
    "aA:Bb:cCd:DE:e:F:f:gHhIi:KlL:m:o:PpqR:r:S:sT:U:Vvw:x:X:z:Z0";

bool takes_argument(char c, bool* known) {
  const auto pos = kOptString.find(c);
  *known = c != ':' && pos != std::string_view::npos;
  return *known && pos + 1 < kOptString.size() && kOptString[pos + 1] == ':';
}

Error usage_error(std::string msg) { return Error{ErrorCode::InvalidArgument, std::move(msg)}; }

void replace_all(std::string& s, std::string_view from, std::string_view to) {
  std::string out;
  for (std::size_t i = 0; i < s.size();) {
    if (s.compare(i, from.size(), from) == 0) {
      out += to;
      i += from.size();
    } else {
      out += s[i++];
    }
  }
  s = std::move(out);
}

// tcpflow queues -e/-E/-x and applies them after parsing, in order; `all` reaches every scanner
// without settings (python needs -S py_module, so `all` leaves it alone: flowscope's choice, as
// Debian's tcpflow is built without it). "-E NAME" is "disable all, then enable NAME".
struct ScannerCommand {
  std::string name;  // "*" with enable=false: disable every scanner (-E)
  bool enable;
};

bool* scanner_flag(TcpflowOptions& o, std::string_view name) {
  if (name == "http") return &o.http;
  if (name == "md5") return &o.md5;
  if (name == "python") return &o.python;
  if (name == "netviz") return &o.netviz;
  if (name == "wifiviz") return &o.wifiviz;
  if (name == "tcpdemux") return &o.tcpdemux;
  return nullptr;
}

void apply_scanner_commands(TcpflowOptions& o, const std::vector<ScannerCommand>& commands) {
  for (const auto& c : commands) {
    if (c.name == "*") {
      o.http = o.md5 = o.python = o.netviz = o.wifiviz = o.tcpdemux = false;
    } else if (c.name == "all") {
      o.http = o.md5 = o.netviz = o.wifiviz = o.tcpdemux = c.enable;
    } else if (bool* flag = scanner_flag(o, c.name)) {
      *flag = c.enable;
    } else if (o.scanner_error.empty()) {
      o.scanner_error = fmt::format(
          "Invalid scanner name '{}'; the scanners are http md5 netviz python tcpdemux wifiviz "
          "(see tcpflow -H)",
          c.name);
    }
  }
}

Result<void> apply(TcpflowOptions& o, std::vector<ScannerCommand>& scanners, char c,
                   const std::string& arg) {
  auto number = [&](std::int64_t* out) -> Result<void> {
    char* end = nullptr;
    const long long v = std::strtoll(arg.c_str(), &end, 10);
    // tcpflow uses atoi(): a leading number is taken, the rest ignored.
    if (end == arg.c_str()) {
      return usage_error(fmt::format("-{}: '{}' is not a number; e.g. -{} 1000", c, arg, c));
    }
    *out = v;
    return {};
  };
  std::int64_t n = 0;
  switch (c) {
    case 'a':
      o.post_processing = true;
      o.opt_md5 = true;
      scanners.push_back({"all", true});
      break;
    case 'A': std::fputs("-AH has been deprecated. Just use -a\n", stderr); break;
    case 'b':
      if (auto r = number(&n); !r) return r;
      o.max_bytes = n;
      break;
    case 'B': o.strip_nonprint = false; break;
    case 'C':
      o.console = true;
      o.suppress_header = true;
      break;
    case 'c': o.console = true; break;
    case '0': o.no_newline = true; break;
    case 'd':
      if (auto r = number(&n); !r) return r;
      o.debug = n < 0 ? 1 : static_cast<int>(n);
      break;
    case 'D':
      o.hex = true;
      o.strip_nonprint = false;
      break;
    case 'E':
      scanners.push_back({"*", false});
      scanners.push_back({arg, true});
      break;
    case 'e':
      scanners.push_back({arg, true});
      o.post_processing = true;
      break;
    case 'F':
      for (char f : arg) {
        switch (f) {
          case 'c': replace_all(o.filename_template, "%c", "%C"); break;
          case 'k': o.filename_template = "%K/" + o.filename_template; break;
          case 'm': o.filename_template = "%M000-%M999/%M%K/" + o.filename_template; break;
          case 'g':
            o.filename_template = "%G000000-%G999999/%G%M000-%G%M999/%G%M%K/" + o.filename_template;
            break;
          case 't': o.filename_template = "%tT" + o.filename_template; break;
          case 'T': o.filename_template = "%T" + o.filename_template; break;
          case 'X': o.store = false; break;
          case 'M': o.opt_md5 = true; break;
          default:
            return usage_error(
                fmt::format("-F: invalid format specification '{}'; use c t T X M k m g", f));
        }
      }
      break;
    case 'f':
      if (auto r = number(&n); !r) return r;
      o.max_fds = static_cast<int>(n);
      break;
    case 'g': o.color = true; break;
    case 'H': o.help_scanners = true; break;
    case 'h': o.help++; break;
    case 'I': o.packet_index = true; break;
    case 'i': o.device = arg; break;
    case 'K': o.keep_pcap = true; break;
    case 'l': o.trailing_input_list = true; break;
    case 'L': o.semlock = arg; break;
    case 'm':
      if (auto r = number(&n); !r) return r;
      o.max_seek = static_cast<std::uint32_t>(n);
      break;
    case 'o': o.outdir = arg; break;
    case 'P': o.no_purge = true; break;
    case 'p': o.no_promisc = true; break;
    case 'q': o.quiet = true; break;
    case 'R': o.finish_files.push_back(arg); break;
    case 'r': o.read_files.push_back(arg); break;
    case 'S': {
      const auto eq = arg.find('=');
      if (eq == std::string::npos || arg.find('=', eq + 1) != std::string::npos) {
        return usage_error(fmt::format("-S: invalid parameter '{}'; use -S name=value", arg));
      }
      const std::string name = arg.substr(0, eq);
      const std::string value = arg.substr(eq + 1);
      o.settings[name] = value;
      if (name == "tcp_timeout")
        o.tcp_timeout = static_cast<std::uint32_t>(std::atoi(value.c_str()));
      if (name == "tdelta") o.tdelta = std::atoll(value.c_str());
      if (name == "enable_report") {
        o.enable_report = !(value == "NO" || value == "no" || value == "0" || value == "false");
      }
      break;
    }
    case 's': o.strip_nonprint = true; break;
    case 'T':
      o.filename_template = arg;
      if (arg.find("%c") == std::string::npos) o.filename_template += "%C%c";
      break;
    case 'U': o.user = arg; break;
    case 'V': o.version = true; break;
    case 'v': o.debug = 10; break;
    case 'w': o.unprocessed_file = arg; break;
    case 'x': scanners.push_back({arg, false}); break;
    case 'X': o.report_file = arg; break;
    case 'z': o.chroot_dir = arg; break;
    case 'Z': o.gzip_decompress = false; break;
    default: return usage_error(fmt::format("unknown option -{}; see tcpflow -h", c));
  }
  return {};
}

}  // namespace

Result<TcpflowOptions> parse_tcpflow_args(const std::vector<std::string>& args) {
  TcpflowOptions o;
  std::vector<ScannerCommand> scanners;
  std::vector<std::string> words;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "--") {
      for (++i; i < args.size(); ++i) words.push_back(args[i]);
      break;
    }
    if (a.rfind("--", 0) == 0) {
      const auto eq = a.find('=');
      const std::string name = a.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      auto value = [&]() -> Result<std::string> {
        if (eq != std::string::npos) return a.substr(eq + 1);
        if (i + 1 < args.size()) return args[++i];
        return usage_error(fmt::format("option --{} requires an argument", name));
      };
      if (name == "help") {
        o.help++;
      } else if (name == "version") {
        o.version = true;
      } else if (name == "verbose") {
        o.debug = 10;
      } else if (name == "chroot" || name == "relinquish-privileges") {
        auto v = value();
        if (!v) return std::move(v).error();
        (name == "chroot" ? o.chroot_dir : o.user) = *v;
      } else {
        return usage_error(fmt::format("unknown option --{}; see tcpflow -h", name));
      }
      continue;
    }
    if (a.size() < 2 || a[0] != '-') {
      words.push_back(a);  // getopt permutes: options may follow the expression's words
      continue;
    }
    for (std::size_t k = 1; k < a.size(); ++k) {
      const char c = a[k];
      bool known = false;
      const bool needs_arg = takes_argument(c, &known);
      if (!known) return usage_error(fmt::format("unknown option -{}; see tcpflow -h", c));
      std::string arg;
      if (needs_arg) {
        if (k + 1 < a.size()) {
          arg = a.substr(k + 1);
        } else if (i + 1 < args.size()) {
          arg = args[++i];
        } else {
          return usage_error(fmt::format("option -{} requires an argument", c));
        }
        k = a.size();
      }
      if (auto r = apply(o, scanners, c, arg); !r) return std::move(r).error();
    }
  }
  if (!o.chroot_dir.empty() && o.user.empty()) {
    return usage_error("-z option requires -U option");
  }
  if (o.trailing_input_list) {
    for (auto& w : words) o.read_files.push_back(std::move(w));
  } else {
    for (const auto& w : words) {
      if (!o.expression.empty()) o.expression += ' ';
      o.expression += w;
    }
  }
  // -FM asks for the md5 scanner, which only runs when post-processing is on (as in tcpflow).
  if (o.opt_md5) scanners.push_back({"md5", true});
  apply_scanner_commands(o, scanners);
  return o;
}

std::string tcpflow_usage(int level) {
  std::string s =
      "TCPFLOW version 1.6.1 (flowscope tcpflow)\n\n"
      "usage: tcpflow [-aBcCDhIpsvVZ] [-b max_bytes] [-d debug_level] \n"
      "     [-[eE] scanner] [-f max_fds] [-F[ctTXMkmg]] [-h|--help] [-i iface]\n"
      "     [-l files...] [-L semlock] [-m min_bytes] [-o outdir] [-r file] [-R file]\n"
      "     [-S name=value] [-T template] [-U|--relinquish-privileges user] [-v|--verbose]\n"
      "     [-w file] [-x scanner] [-X xmlfile] [-z|--chroot dir] [expression]\n\n"
      "   -a: do ALL post-processing.\n"
      "   -b max_bytes: max number of bytes per flow to save\n"
      "   -d debug_level: debug level; default is 1\n"
      "   -f: maximum number of file descriptors to use\n"
      "   -h: print this help message (-hh for more help)\n"
      "   -H: print detailed information about each scanner\n"
      "   -i: network interface on which to listen\n"
      "   -I: write for each flow another file *.findx to provide byte-indexed timestamps\n"
      "   -g: output each flow in alternating colors (note change!)\n"
      "   -l: treat non-flag arguments as input files rather than a pcap expression\n"
      "   -L  semlock - specifies that writes are locked using a named semaphore\n"
      "   -p: don't use promiscuous mode\n"
      "   -q: quiet mode - do not print warnings\n"
      "   -r file      : read packets from tcpdump pcap file (may be repeated)\n"
      "   -R file      : read packets from tcpdump pcap file TO FINISH CONNECTIONS\n"
      "   -v           : verbose operation equivalent to -d 10\n"
      "   -V           : print version number and exit\n"
      "   -w  file     : write packets not processed to file\n"
      "   -o  outdir   : specify output directory (default '.')\n"
      "   -X  filename : DFXML output to filename\n"
      "   -m  bytes    : specifies skip that starts a new stream (default 16777216).\n"
      "   -F{p} : filename prefix/suffix (-hh for options)\n"
      "   -T{t} : filename template (-hh for options; default %A.%a-%B.%b%V%v%C%c)\n"
      "   -Z       do not decompress gzip-compressed HTTP transactions\n"
      "   -K: output|keep pcap flow structure.\n\n"
      "Security:\n"
      "   -U user  relinquish privleges and become user (if running as root)\n"
      "   -z dir   chroot to dir (requires that -U be used).\n\n"
      "Control of Scanners:\n"
      "   -E scanner   - turn off all scanners except scanner\n"
      "   -S name=value  Set a configuration parameter (-hh for info)\n\n"
      "Console output options:\n"
      "   -B: binary output, even with -c or -C (normally -c or -C turn it off)\n"
      "   -c: console print only (don't create files)\n"
      "   -C: console print only, but without the display of source/dest header\n"
      "   -0: don't print newlines after packets when printing to console\n"
      "   -s: strip non-printable characters (change to '.')\n"
      "   -D: output in hex (useful to combine with -c or -C)\n\n"
      "expression: tcpdump-like filtering expression\n\n"
      "See docs/tcpflow.md (flowscope) or the tcpflow man page for additional information.\n\n"
      "Examples:\n"
      "  flowscope tcpflow -r capture.pcap -o out           one file per TCP stream in out/\n"
      "  flowscope tcpflow -r capture.pcap -o out -e http   plus HTTP bodies, gunzipped\n"
      "  flowscope tcpflow -r capture.pcap -c port 80       print streams to the console\n"
      "  flowscope tcpflow -r a.pcap -R b.pcap -o out -Fk   finish a.pcap's flows from b.pcap\n\n";
  if (level < 2) return s;
  s += "Settable Options (and their defaults):\n"
       "   -S enable_report=YES    Enable report.xml\n"
       "   -S tcp_timeout=0    Timeout for TCP connections (tcpdemux)\n"
       "   -S tdelta=0    Time delta in seconds\n\n"
       "Scanners (enable with -e; -H for details): http md5 netviz python wifiviz; tcpdemux on\n\n"
       "Filename Prefixes:\n"
       "   -Fc : append the connection counter to ALL filenames\n"
       "   -Ft : prepend the time_t UTC timestamp to ALL filenames\n"
       "   -FT : prepend the ISO8601 UTC timestamp to ALL filenames\n"
       "   -FX : Do not output any files (other than report files)\n"
       "   -FM : Calculate the MD5 for every flow (stores in DFXML)\n"
       "   -Fk : Bin output in 1K directories\n"
       "   -Fm : Bin output in 1M directories (2 levels)\n"
       "   -Fg : Bin output in 1G directories (3 levels)\n"
       "Filename template format for option -T:\n"
       "  %A/%a - source IP address/port;          %B/%b - dest IP address/port\n"
       "  %E/%e - source/dest Ethernet Mac address\n"
       "  %V/%v - VLAN number, '--' if no vlan/'' if no vlan\n"
       "  %T/%t - Timestamp in ISO8601 format/unix time_t\n"
       "  %c - connection_count for connections>0 / %# for all connections;  %C - 'c' if "
       "connection_count >0\n"
       "  %N - (connection_number )             % 1000\n"
       "  %K - (connection_number / 1000)       % 1000\n"
       "  %M - (connection_number / 1000000)    % 1000\n"
       "  %G - (connection_number / 1000000000) % 1000\n"
       "  %% - Output a '%'\n\n"
       "Default value is: '%A.%a-%B.%b%V%v%C%c'\n";
  return s;
}

}  // namespace flowscope::capture::tcpflow
