#include "capture/tcpflow/dfxml_report.h"

#include <arpa/inet.h>
#include <sys/resource.h>
#include <sys/utsname.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include "core/xml_escape.h"

namespace flowscope::capture::tcpflow {
namespace {

double wall_seconds() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

std::string mac_text(const std::array<std::uint8_t, 6>& m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4],
                     m[5]);
}

}  // namespace

std::string iso8601_us(PcapTime t) {
  const std::time_t tt = static_cast<std::time_t>(t.sec);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  // tcpflow's to8601 leaves the fraction out when the microseconds are zero.
  if (t.usec == 0) return fmt::format("{}Z", buf);
  return fmt::format("{}.{:06d}Z", buf, t.usec);
}

std::string address_text(const std::array<std::uint8_t, 16>& addr, std::uint8_t family) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family == 6 ? AF_INET6 : AF_INET, addr.data(), buf, sizeof buf);
  return buf;
}

Result<DfxmlReport> DfxmlReport::open(const std::string& path, const std::string& command_line,
                                      bool result_namespace, std::int64_t tdelta) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) {
    return Error{ErrorCode::Io,
                 fmt::format("cannot create the DFXML report {}: {}; check -X and -o", path,
                             std::strerror(errno))};
  }
  DfxmlReport r(f);
  r.start_clock_ = wall_seconds();
  struct utsname un {};
  uname(&un);
  const passwd* pw = getpwuid(getuid());
  const auto now = std::chrono::system_clock::now();
  const std::time_t now_t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&now_t, &tm);
  char start[64];
  std::strftime(start, sizeof start, "%Y-%m-%dT%H:%M:%SZ", &tm);
  fmt::print(f,
             "<?xml version='1.0' encoding='UTF-8'?>\n"
             "<dfxml xmloutputversion='1.0'{}>\n"
             "  <metadata \n"
             "  xmlns='http://afflib.org/tcpflow/' \n"
             "  xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance' \n"
             "  xmlns:dc='http://purl.org/dc/elements/1.1/'>\n"
             "    <dc:type>Feature Extraction</dc:type>\n"
             "  </metadata>\n"
             "  <creator version='1.0'>\n"
             "    <program>TCPFLOW</program>\n"
             "    <version>1.6.1</version>\n"
             "    <build_environment>\n"
             "      <compiler>flowscope tcpflow</compiler>\n"
             "    </build_environment>\n"
             "    <execution_environment>\n"
             "      <os_sysname>{}</os_sysname>\n"
             "      <os_release>{}</os_release>\n"
             "      <os_version>{}</os_version>\n"
             "      <host>{}</host>\n"
             "      <arch>{}</arch>\n"
             "      <command_line>{}</command_line>\n"
             "      <uid>{}</uid>\n"
             "      <username>{}</username>\n"
             "      <start_time>{}</start_time>\n"
             "    </execution_environment>\n"
             "  </creator>\n"
             "  <configuration>\n"
             "  </configuration>\n"
             "  <tdelta>{}</tdelta>\n"
             "  <configuration>\n",
             result_namespace ? " xmlns:tcpflow='http://afflib.org/tcpflow/'" : "",
             xml_escape(un.sysname), xml_escape(un.release), xml_escape(un.version),
             xml_escape(un.nodename), xml_escape(un.machine), xml_escape(command_line), getuid(),
             xml_escape(pw != nullptr ? pw->pw_name : ""), start, tdelta);
  return r;
}

DfxmlReport::DfxmlReport(DfxmlReport&& other) noexcept
    : file_(other.file_), start_clock_(other.start_clock_) {
  other.file_ = nullptr;
}

DfxmlReport::~DfxmlReport() {
  if (file_ != nullptr) finish(Summary{});
}

void DfxmlReport::add_flow(const TcpStream& s, const std::string& filename,
                           const std::string& extra) {
  if (file_ == nullptr) return;
  std::string out = "    <fileobject>\n";
  if (!filename.empty())
    out += fmt::format("      <filename>{}</filename>\n", xml_escape(filename));
  out += fmt::format("      <filesize>{}</filesize>\n", s.last_byte);
  out += fmt::format("      <tcpflow startime='{}' endtime='{}' ", iso8601_us(s.tstart_raw),
                     iso8601_us(s.tlast_raw));
  // As tcpflow, each address only when it is not all zeros (loopback frames carry zeros).
  auto nonzero = [](const std::array<std::uint8_t, 6>& m) {
    return std::any_of(m.begin(), m.end(), [](std::uint8_t b) { return b != 0; });
  };
  if (s.has_mac && nonzero(s.mac_dst)) out += fmt::format("mac_daddr='{}' ", mac_text(s.mac_dst));
  if (s.has_mac && nonzero(s.mac_src)) out += fmt::format("mac_saddr='{}' ", mac_text(s.mac_src));
  out +=
      fmt::format("family='{}' src_ipn='{}' dst_ipn='{}' srcport='{}' dstport='{}' packets='{}' ",
                  s.key.family == 6 ? 10 : 2, address_text(s.key.src, s.key.family),
                  address_text(s.key.dst, s.key.family), s.key.sport, s.key.dport, s.packets);
  if (s.out_of_order_count) out += fmt::format("out_of_order_count='{}' ", s.out_of_order_count);
  if (s.violations) out += fmt::format("violations='{}' ", s.violations);
  out += fmt::format("len='{}' ", s.len);
  if (s.len != s.caplen) out += fmt::format("caplen='{}' ", s.caplen);
  out += "/>\n";
  if (!extra.empty()) out += "      " + extra + "\n";
  out += "    </fileobject>\n";
  std::fwrite(out.data(), 1, out.size(), file_);
}

void DfxmlReport::finish(const Summary& summary) {
  if (file_ == nullptr) return;
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto tv = [](const timeval& t) {
    return fmt::format("{}.{:06d}", static_cast<long long>(t.tv_sec), static_cast<long>(t.tv_usec));
  };
  fmt::print(file_,
             "  </configuration>\n"
             "  <summary />\n"
             "  <open_fds_at_end>{}</open_fds_at_end>\n"
             "  <max_open_flows>{}</max_open_flows>\n"
             "  <total_flows>{}</total_flows>\n"
             "  <flow_map_size>{}</flow_map_size>\n"
             "  <total_packets>{}</total_packets>\n"
             "  <rusage>\n"
             "    <utime>{}</utime>\n"
             "    <stime>{}</stime>\n"
             "    <maxrss>{}</maxrss>\n"
             "    <minflt>{}</minflt>\n"
             "    <majflt>{}</majflt>\n"
             "    <nswap>{}</nswap>\n"
             "    <inblock>{}</inblock>\n"
             "    <oublock>{}</oublock>\n"
             "    <clocktime>{:.6f}</clocktime>\n"
             "  </rusage>\n"
             "</dfxml>\n",
             summary.open_fds_at_end, summary.max_open_flows, summary.total_flows,
             summary.flow_map_size, summary.total_packets, tv(ru.ru_utime), tv(ru.ru_stime),
             ru.ru_maxrss, ru.ru_minflt, ru.ru_majflt, ru.ru_nswap, ru.ru_inblock, ru.ru_oublock,
             wall_seconds() - start_clock_);
  std::fclose(file_);
  file_ = nullptr;
}

}  // namespace flowscope::capture::tcpflow
