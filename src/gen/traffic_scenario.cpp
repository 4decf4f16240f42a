#include "gen/traffic_scenario.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "core/time.h"

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

constexpr std::array<std::string_view, 10> kStreamKeys{
    "name", "port", "size", "reply_size", "rate", "count", "sends_per_connection", "mode"};

bool is_loopback(const IpAddress& a) {
  if (a.is_v4()) return (a.v4_value() >> 24) == 127;
  return a == IpAddress::from_u64(0, 1);
}

Error at(std::string_view source, const toml::source_region& where, std::string message) {
  return Error{ErrorCode::InvalidArgument,
               fmt::format("{}:{}: {}", source, where.begin.line, message)};
}

// An integer key within [lo, hi], or the default when absent.
template <typename T>
Result<T> integer(const toml::table& t, std::string_view key, T fallback, std::int64_t lo,
                  std::int64_t hi, std::string_view source) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return fallback;
  auto v = n->value<std::int64_t>();
  if (!v || *v < lo || *v > hi) {
    return at(source, n->source(), fmt::format("{} must be an integer from {} to {}", key, lo, hi));
  }
  return static_cast<T>(*v);
}

Result<StreamSpec> parse_stream(const KindInfo& info, const toml::table& t, std::size_t index,
                                std::string_view source) {
  for (const auto& [key, node] : t) {
    if (std::find(kStreamKeys.begin(), kStreamKeys.end(), key.str()) == kStreamKeys.end()) {
      return at(source, node.source(),
                fmt::format("unknown key \"{}\" in [[{}]]; known keys: name, port, size, "
                            "reply_size, rate, count, sends_per_connection, mode",
                            key.str(), info.table));
    }
  }
  StreamSpec s;
  s.kind = info.kind;
  s.name = t["name"].value_or(fmt::format("{}{}", info.table, index + 1));
  auto port = integer<std::uint16_t>(t, "port", 0, 0, 65535, source);
  if (!port) return port.error();
  s.port = *port;
  auto size = integer<std::uint32_t>(t, "size", info.size, 0, 1'000'000'000, source);
  if (!size) return size.error();
  s.size = *size;
  auto reply = integer<std::uint32_t>(t, "reply_size", info.reply_size, 0, 65'000, source);
  if (!reply) return reply.error();
  s.reply_size = *reply;
  auto count = integer<std::uint64_t>(t, "count", 1, 1, 1'000'000'000, source);
  if (!count) return count.error();
  s.count = *count;
  auto sends = integer<std::uint32_t>(t, "sends_per_connection", 1, 1, 1'000'000, source);
  if (!sends) return sends.error();
  s.sends_per_connection = *sends;
  if (const toml::node* n = t.get("rate")) {
    auto v = n->value<double>();
    if (!v || *v <= 0 || *v > 1'000'000) {
      return at(source, n->source(), "rate must be a number of events per second, above 0");
    }
    s.rate = *v;
  }
  const bool udp_like = info.kind == StreamKind::Udp || info.kind == StreamKind::Dns ||
                        info.kind == StreamKind::Ntp || info.kind == StreamKind::Snmp;
  if (udp_like && (s.size > 65'000 || s.size == 0)) {
    return at(source, t.source(),
              fmt::format("[[{}]] size must be 1 to 65000 bytes (one "
                          "datagram)",
                          info.table));
  }
  if (info.kind == StreamKind::Icmp && s.size > 65'000) {
    return at(source, t.source(), "[[icmp]] size must be at most 65000 bytes");
  }
  if ((info.kind == StreamKind::Tcp) && s.size == 0) {
    return at(source, t.source(), "[[tcp]] size must be at least 1 byte");
  }
  if (const toml::node* n = t.get("mode")) {
    if (info.kind != StreamKind::Ftp) {
      return at(source, n->source(), "mode is for [[ftp]] streams only");
    }
    const std::string m = n->value_or(std::string());
    if (m == "pasv" || m == "passive") {
      s.ftp_mode = FtpMode::Pasv;
    } else if (m == "epsv") {
      s.ftp_mode = FtpMode::Epsv;
    } else if (m == "port" || m == "active") {
      s.ftp_mode = FtpMode::Port;
    } else if (m == "eprt") {
      s.ftp_mode = FtpMode::Eprt;
    } else {
      return at(source, n->source(),
                "mode must be \"pasv\" (or \"passive\"), \"epsv\", \"port\" (or \"active\") or "
                "\"eprt\"");
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
  // Debian's toml++ throws on syntax errors: configuration loading is a boundary
  // (docs/conventions.md "Errors").
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& err) {
    return Error{ErrorCode::Parse,
                 fmt::format("{}:{}: {}", source, err.source().begin.line, err.description())};
  }
  Scenario sc;
  sc.name = root["name"].value_or(std::string("scenario"));
  if (const toml::node* n = root.get("duration")) {
    auto d = parse_duration(n->value_or(std::string()));
    if (!d || d->count() <= 0) {
      return at(source, n->source(), "duration must be a string such as \"10s\" or \"2m\"");
    }
    sc.duration = *d;
  }
  sc.netns = root["netns"].value_or(std::string());
  const std::string address =
      root["address"].value_or(std::string(sc.netns.empty() ? "127.0.0.1" : ""));
  if (address.empty()) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("{}: with netns, give the address to use inside the namespace "
                             "(address = \"10.0.0.1\")",
                             source)};
  }
  auto addr = IpAddress::parse(address);
  if (!addr) {
    const toml::node* n = root.get("address");
    return at(source, n->source(), fmt::format("address \"{}\" is not an IP address", address));
  }
  sc.address = *addr;
  if (sc.netns.empty() && !is_loopback(sc.address)) {
    const toml::node* n = root.get("address");
    return at(source, n->source(),
              fmt::format("address {} is not a loopback address: gen traffic sends only on "
                          "loopback (127.0.0.0/8, ::1) unless netns names a network namespace",
                          address));
  }

  // Streams in the order of the file, whatever their kind.
  struct Located {
    std::uint32_t line;
    StreamSpec spec;
  };
  std::vector<Located> located;
  std::set<std::string_view> known{"name", "duration", "address", "netns"};
  for (const KindInfo& info : kKinds) known.insert(info.table);
  for (const auto& [key, node] : root) {
    if (!known.contains(key.str())) {
      return at(source, node.source(),
                fmt::format("unknown key \"{}\"; a scenario has name, duration, address, netns "
                            "and [[udp]], [[tcp]], [[icmp]], [[dns]], [[ntp]], [[snmp]], "
                            "[[http]], [[ftp]] streams",
                            key.str()));
    }
  }
  for (const KindInfo& info : kKinds) {
    const toml::node* n = root.get(info.table);
    if (n == nullptr) continue;
    const toml::array* list = n->as_array();
    if (list == nullptr) {
      return at(source, n->source(),
                fmt::format("write streams as [[{}]] tables (an array of tables)", info.table));
    }
    for (std::size_t i = 0; i < list->size(); ++i) {
      const toml::table* t = (*list)[i].as_table();
      if (t == nullptr) return at(source, (*list)[i].source(), "a stream must be a table");
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
