#include "gen/traffic_scenario.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "core/time.h"
#include "core/toml_section.h"

namespace flowscope::gen {
namespace {

struct KindInfo {
  StreamKind kind;
  std::string_view table;    // the [[table]] name in the file
  std::uint32_t size;        // default request / send size
  std::uint32_t reply_size;  // default response size (UDP exchanges)
};

// Default sizes are those of typical messages: a DNS A query and answer, an NTPv4 packet each
// way, an SNMP get and its response, a 56-byte ping, a 100 kB download.
constexpr std::array<KindInfo, 8> kKinds{{
    {StreamKind::Udp, "udp", 100, 0},
    {StreamKind::Tcp, "tcp", 1000, 0},
    {StreamKind::Icmp, "icmp", 56, 0},
    {StreamKind::Dns, "dns", 40, 120},
    {StreamKind::Ntp, "ntp", 48, 48},
    {StreamKind::Snmp, "snmp", 60, 200},
    {StreamKind::Http, "http", 100'000, 0},
    {StreamKind::Ftp, "ftp", 100'000, 0},
}};

constexpr std::array<std::string_view, 8> kStreamKeys{
    "name", "port", "size", "reply_size", "rate", "count", "sends_per_connection", "mode"};

bool is_loopback(const IpAddress& a) {
  if (a.is_v4()) return (a.v4_value() >> 24) == 127;
  return a == IpAddress::from_u64(0, 1);
}

Result<StreamSpec> parse_stream(const KindInfo& info, const toml::table& table, std::size_t index,
                                std::string_view source) {
  TomlSection t(&table, source, fmt::format("[{}]", info.table));
  if (auto r = t.check_keys(kStreamKeys); !r) return r.error();
  StreamSpec s;
  s.kind = info.kind;
  s.name = fmt::format("{}{}", info.table, index + 1);
  if (auto r = t.string("name", s.name); !r) return r.error();
  s.port = 0;
  if (auto r = t.integer("port", s.port, 0, 65535); !r) return r.error();
  s.size = info.size;
  if (auto r = t.integer("size", s.size, 0, 1'000'000'000); !r) return r.error();
  s.reply_size = info.reply_size;
  if (auto r = t.integer("reply_size", s.reply_size, 0, 65'000); !r) return r.error();
  s.count = 1;
  if (auto r = t.integer("count", s.count, 1, 1'000'000'000); !r) return r.error();
  s.sends_per_connection = 1;
  if (auto r = t.integer("sends_per_connection", s.sends_per_connection, 1, 1'000'000); !r) {
    return r.error();
  }
  if (auto r = t.number("rate", s.rate, 0, 1'000'000, "events per second"); !r) return r.error();
  const bool udp_like = info.kind == StreamKind::Udp || info.kind == StreamKind::Dns ||
                        info.kind == StreamKind::Ntp || info.kind == StreamKind::Snmp;
  if (udp_like && (s.size > 65'000 || s.size == 0)) {
    return t.key_error(t.find("size"), "size", "must be 1 to 65000 bytes (one datagram)");
  }
  if (info.kind == StreamKind::Icmp && s.size > 65'000) {
    return t.key_error(t.find("size"), "size", "must be at most 65000 bytes");
  }
  if ((info.kind == StreamKind::Tcp) && s.size == 0) {
    return t.key_error(t.find("size"), "size", "must be at least 1 byte");
  }
  if (const toml::node* n = t.find("mode")) {
    if (info.kind != StreamKind::Ftp) return t.key_error(n, "mode", "is for [[ftp]] streams only");
    std::string m;
    if (auto r = t.string("mode", m); !r) return r.error();
    if (m == "pasv" || m == "passive") {
      s.ftp_mode = FtpMode::Pasv;
    } else if (m == "epsv") {
      s.ftp_mode = FtpMode::Epsv;
    } else if (m == "port" || m == "active") {
      s.ftp_mode = FtpMode::Port;
    } else if (m == "eprt") {
      s.ftp_mode = FtpMode::Eprt;
    } else {
      return t.key_error(n, "mode",
                         "must be \"pasv\" (or \"passive\"), \"epsv\", \"port\" (or \"active\") "
                         "or \"eprt\"");
    }
  }
  return s;
}

}  // namespace

std::string_view stream_kind_name(StreamKind k) {
  for (const KindInfo& i : kKinds) {
    if (i.kind == k) return i.table;
  }
  return "?";
}

std::string_view ftp_mode_name(FtpMode m) {
  switch (m) {
    case FtpMode::Pasv: return "pasv";
    case FtpMode::Epsv: return "epsv";
    case FtpMode::Port: return "port";
    case FtpMode::Eprt: return "eprt";
  }
  return "?";
}

Result<Scenario> parse_scenario(std::string_view text, std::string_view source) {
  auto parsed = parse_toml(text, source);
  if (!parsed) return parsed.error();
  const toml::table& root = *parsed;
  TomlSection top(&root, source, "");
  Scenario sc;
  sc.name = "scenario";
  if (auto r = top.string("name", sc.name); !r) return r.error();
  if (auto r = top.duration("duration", sc.duration); !r) return r.error();
  if (auto r = top.string("netns", sc.netns); !r) return r.error();
  std::string address = sc.netns.empty() ? "127.0.0.1" : "";
  if (auto r = top.string("address", address); !r) return r.error();
  if (address.empty()) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("{}: with netns, give the address to use inside the namespace "
                             "(address = \"10.0.0.1\")",
                             source)};
  }
  auto addr = IpAddress::parse(address);
  if (!addr) {
    const toml::node* n = root.get("address");
    return top.key_error(n, "address", fmt::format("\"{}\" is not an IP address", address));
  }
  sc.address = *addr;
  if (sc.netns.empty() && !is_loopback(sc.address)) {
    const toml::node* n = root.get("address");
    return top.key_error(n, "address",
                         fmt::format("{} is not a loopback address: gen traffic sends only on "
                                     "loopback (127.0.0.0/8, ::1) unless netns names a network "
                                     "namespace",
                                     address));
  }

  // Streams in the order of the file, whatever their kind.
  struct Located {
    std::uint32_t line;
    StreamSpec spec;
  };
  std::vector<Located> located;
  std::vector<std::string_view> kinds;
  for (const KindInfo& info : kKinds) kinds.push_back(info.table);
  if (auto r = top.check_keys(kinds); !r) return r.error();
  for (const KindInfo& info : kKinds) {
    const toml::node* n = root.get(info.table);
    if (n == nullptr) continue;
    const toml::array* list = n->as_array();
    if (list == nullptr) {
      return top.key_error(
          n, info.table,
          fmt::format("write streams as [[{}]] tables (an array of tables)", info.table));
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const toml::table* t = (*list)[i].as_table();
      if (t == nullptr) return top.key_error(&(*list)[i], info.table, "a stream must be a table");
      auto spec = parse_stream(info, *t, i, source);
      if (!spec) return spec.error();
      located.push_back({t->source().begin.line, std::move(*spec)});
    }
  }
  if (located.empty()) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("{}: no streams; add at least one, e.g. [[udp]] with port, size, "
                             "rate and count (docs/gen.md)",
                             source)};
  }
  std::stable_sort(located.begin(), located.end(),
                   [](const Located& a, const Located& b) { return a.line < b.line; });
  for (Located& l : located) sc.streams.push_back(std::move(l.spec));
  return sc;
}

Result<Scenario> load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorCode::NotFound,
                 fmt::format("{}: cannot open the scenario file; check the path", path)};
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_scenario(ss.str(), path);
}

}  // namespace flowscope::gen
