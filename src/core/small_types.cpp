// Country codes, TCP flag names and IP protocol names: small tables behind the field types.
#include <array>
#include <cctype>
#include <charconv>

#include "core/country_code.h"
#include "core/ip_proto.h"
#include "core/tcp_flags.h"

namespace flowscope {

Result<CountryCode> CountryCode::parse(std::string_view text) {
  auto alpha = [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; };
  if (text.size() != 2 || !alpha(text[0]) || !alpha(text[1])) {
    return Error(ErrorCode::Parse, "expected a two-letter ISO 3166 country code such as BE or US",
                 SourcePos{0, 0});
  }
  CountryCode cc;
  cc.code = {static_cast<char>(std::toupper(static_cast<unsigned char>(text[0]))),
             static_cast<char>(std::toupper(static_cast<unsigned char>(text[1])))};
  return cc;
}

namespace tcp_flags {
namespace {
struct FlagName {
  std::uint8_t bit;
  std::string_view name;  // FlowTraq's, without the leading F
};
constexpr std::array<FlagName, 8> kFlagNames = {{{kFin, "FIN"},
                                                 {kSyn, "SYN"},
                                                 {kRst, "RST"},
                                                 {kPsh, "PSH"},
                                                 {kAck, "ACK"},
                                                 {kUrg, "URG"},
                                                 {kEce, "ECN"},
                                                 {kCwr, "CWR"}}};

bool iequal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(a[i])) != static_cast<unsigned char>(b[i])) {
      return false;
    }
  }
  return true;
}
}  // namespace

std::optional<std::uint8_t> parse_name(std::string_view name) {
  std::string_view bare = name;
  if (bare.size() == 4 && (bare[0] == 'F' || bare[0] == 'f')) bare.remove_prefix(1);
  for (const FlagName& f : kFlagNames) {
    if (iequal(bare, f.name)) return f.bit;
  }
  if (iequal(bare, "ECE")) return kEce;
  return std::nullopt;
}

std::string format(std::uint8_t flags) {
  static constexpr char kLetters[] = "CEUAPRSF";
  std::string out(8, '.');
  for (int i = 0; i < 8; ++i) {
    if (flags & (0x80 >> i)) out[static_cast<std::size_t>(i)] = kLetters[i];
  }
  return out;
}

std::string format_names(std::uint8_t flags) {
  std::string out;
  for (const FlagName& f : kFlagNames) {
    if (flags & f.bit) {
      if (!out.empty()) out += '|';
      out.append("F").append(f.name);
    }
  }
  return out;
}
}  // namespace tcp_flags

namespace ip_proto {
namespace {
struct ProtoName {
  std::uint8_t number;
  std::string_view name;
};
// The first entry of a number is the name it is printed with.
constexpr std::array<ProtoName, 23> kProtoNames = {{
    {0, "hopopt"}, {1, "icmp"},   {2, "igmp"},       {4, "ipip"},    {4, "ipv4"},      {6, "tcp"},
    {8, "egp"},    {17, "udp"},   {41, "ipv6"},      {46, "rsvp"},   {47, "gre"},      {50, "esp"},
    {51, "ah"},    {58, "icmp6"}, {58, "ipv6-icmp"}, {58, "icmpv6"}, {88, "eigrp"},    {89, "ospf"},
    {103, "pim"},  {112, "vrrp"}, {115, "l2tp"},     {132, "sctp"},  {136, "udplite"},
}};
}  // namespace

std::optional<std::uint8_t> parse(std::string_view text) {
  if (text.empty()) return std::nullopt;
  unsigned v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec == std::errc() && end == text.data() + text.size()) {
    if (v > 255) return std::nullopt;
    return static_cast<std::uint8_t>(v);
  }
  for (const ProtoName& p : kProtoNames) {
    if (p.name.size() != text.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < text.size() && same; ++i) {
      same = std::tolower(static_cast<unsigned char>(text[i])) == p.name[i];
    }
    if (same) return p.number;
  }
  return std::nullopt;
}

std::string name(std::uint8_t proto) {
  for (const ProtoName& p : kProtoNames) {
    if (p.number == proto) return std::string(p.name);
  }
  return std::to_string(proto);
}
}  // namespace ip_proto

}  // namespace flowscope
