#include "core/ip_address.h"

#include <cstring>

namespace flowscope {
namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Error parse_error(std::string msg, std::size_t offset) {
  return Error(ErrorCode::Parse, std::move(msg), SourcePos{offset, 0});
}

// Parses a dotted quad starting at `base` (offset of text within the whole input, for errors).
Result<std::uint32_t> parse_v4(std::string_view text, std::size_t base) {
  std::uint32_t value = 0;
  std::size_t pos = 0;
  for (int octet = 0; octet < 4; ++octet) {
    if (octet > 0) {
      if (pos >= text.size() || text[pos] != '.') {
        return parse_error("expected '.' after the octet of an IPv4 address", base + pos);
      }
      ++pos;
    }
    std::size_t start = pos;
    unsigned v = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9' && pos - start < 4) {
      v = v * 10 + static_cast<unsigned>(text[pos] - '0');
      ++pos;
    }
    if (pos == start) return parse_error("expected a decimal octet (0-255)", base + pos);
    if (pos - start > 3 || v > 255) {
      return parse_error("IPv4 octet is larger than 255", base + start);
    }
    if (pos - start > 1 && text[start] == '0') {
      // Leading zeros mean octal to inet_aton and decimal to others: refuse the ambiguity.
      return parse_error("IPv4 octet has a leading zero; write it without (e.g. 10.1.2.3)",
                         base + start);
    }
    value = (value << 8) | v;
  }
  if (pos != text.size()) {
    return parse_error("unexpected character after an IPv4 address", base + pos);
  }
  return value;
}

Result<IpAddress::Bytes> parse_v6(std::string_view text) {
  IpAddress::Bytes out{};
  // Groups before and after "::", each at most 8 in total (fewer with an embedded IPv4).
  std::uint16_t groups[8];
  int count = 0;
  int gap = -1;  // index in groups where "::" stands
  std::size_t pos = 0;
  if (text.size() >= 2 && text[0] == ':' && text[1] == ':') {
    gap = 0;
    pos = 2;
    if (pos == text.size()) return out;  // "::"
  } else if (!text.empty() && text[0] == ':') {
    return parse_error("an IPv6 address cannot start with a single ':'", 0);
  }
  bool embedded_v4 = false;
  while (pos < text.size()) {
    std::size_t start = pos;
    unsigned v = 0;
    while (pos < text.size() && hex_value(text[pos]) >= 0 && pos - start < 5) {
      v = (v << 4) | static_cast<unsigned>(hex_value(text[pos]));
      ++pos;
    }
    if (pos < text.size() && text[pos] == '.') {
      // RFC 4291 §2.2 form 3: the last 32 bits as dotted quad.
      if (count > 6 || (gap < 0 && count != 6)) {
        return parse_error("an embedded IPv4 address must take the last 32 bits", start);
      }
      auto v4 = parse_v4(text.substr(start), start);
      if (!v4) return v4.error();
      groups[count++] = static_cast<std::uint16_t>(*v4 >> 16);
      groups[count++] = static_cast<std::uint16_t>(*v4 & 0xffff);
      embedded_v4 = true;
      pos = text.size();
      break;
    }
    if (pos == start) {
      return parse_error("expected a hexadecimal group (1-4 digits)", pos);
    }
    if (pos - start > 4) return parse_error("IPv6 group has more than 4 hex digits", start);
    if (count == 8) return parse_error("IPv6 address has more than 8 groups", start);
    groups[count++] = static_cast<std::uint16_t>(v);
    if (pos == text.size()) break;
    if (text[pos] != ':') {
      return parse_error("unexpected character in an IPv6 address", pos);
    }
    ++pos;
    if (pos < text.size() && text[pos] == ':') {
      if (gap >= 0) return parse_error("'::' may appear only once in an IPv6 address", pos - 1);
      gap = count;
      ++pos;
      if (pos == text.size()) break;
    } else if (pos == text.size()) {
      return parse_error("an IPv6 address cannot end with a single ':'", pos - 1);
    }
  }
  (void)embedded_v4;
  if (gap < 0 && count != 8) {
    return parse_error("IPv6 address has fewer than 8 groups and no '::'", text.size());
  }
  if (gap >= 0 && count == 8) {
    return parse_error("'::' stands for at least one group, but 8 groups are given",
                       text.find("::"));
  }
  int fill = 8 - count;
  int out_group = 0;
  for (int i = 0; i < count; ++i) {
    if (i == gap) out_group += fill;
    out[2 * out_group] = static_cast<std::uint8_t>(groups[i] >> 8);
    out[2 * out_group + 1] = static_cast<std::uint8_t>(groups[i]);
    ++out_group;
  }
  return out;
}

char* write_u8_decimal(char* p, unsigned v) {
  if (v >= 100) *p++ = static_cast<char>('0' + v / 100);
  if (v >= 10) *p++ = static_cast<char>('0' + (v / 10) % 10);
  *p++ = static_cast<char>('0' + v % 10);
  return p;
}

}  // namespace

IpAddress IpAddress::v4_bytes(std::span<const std::byte, 4> wire) {
  Bytes b{};
  b[10] = 0xff;
  b[11] = 0xff;
  std::memcpy(&b[12], wire.data(), 4);
  return IpAddress(b);
}

IpAddress IpAddress::v6_bytes(std::span<const std::byte, 16> wire) {
  Bytes b;
  std::memcpy(b.data(), wire.data(), 16);
  return IpAddress(b);
}

std::uint64_t IpAddress::high64() const {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | bytes_[i];
  return v;
}

std::uint64_t IpAddress::low64() const {
  std::uint64_t v = 0;
  for (int i = 8; i < 16; ++i) v = (v << 8) | bytes_[i];
  return v;
}

IpAddress IpAddress::from_u64(std::uint64_t high, std::uint64_t low) {
  Bytes b;
  for (int i = 7; i >= 0; --i) {
    b[i] = static_cast<std::uint8_t>(high);
    high >>= 8;
    b[8 + i] = static_cast<std::uint8_t>(low);
    low >>= 8;
  }
  return IpAddress(b);
}

Result<IpAddress> IpAddress::parse(std::string_view text) {
  if (text.empty()) return parse_error("expected an IPv4 or IPv6 address", 0);
  if (auto pct = text.find('%'); pct != std::string_view::npos) {
    return parse_error("a zone (%...) is not allowed here; give the address without it", pct);
  }
  if (text.find(':') == std::string_view::npos) {
    auto v4 = parse_v4(text, 0);
    if (!v4) return v4.error();
    return IpAddress::v4(*v4);
  }
  auto v6 = parse_v6(text);
  if (!v6) return v6.error();
  return IpAddress(*v6);
}

std::size_t IpAddress::format_to(char* out) const {
  char* p = out;
  if (is_v4()) {
    for (int i = 12; i < 16; ++i) {
      if (i > 12) *p++ = '.';
      p = write_u8_decimal(p, bytes_[i]);
    }
    return static_cast<std::size_t>(p - out);
  }
  std::uint16_t g[8];
  for (int i = 0; i < 8; ++i)
    g[i] = static_cast<std::uint16_t>((bytes_[2 * i] << 8) | bytes_[2 * i + 1]);
  // RFC 5952 §4.2.2/4.2.3: compress the longest run of >= 2 zero groups, the first on a tie.
  int best_start = -1, best_len = 0;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best_start = i;
      best_len = j - i;
    }
    i = j;
  }
  if (best_len < 2) best_start = -1;
  static constexpr char kHex[] = "0123456789abcdef";
  for (int i = 0; i < 8; ++i) {
    if (i == best_start) {
      *p++ = ':';
      if (i == 0) *p++ = ':';
      i += best_len - 1;
      continue;
    }
    bool started = false;
    for (int shift = 12; shift >= 0; shift -= 4) {
      unsigned nibble = (g[i] >> shift) & 0xf;
      if (nibble != 0 || started || shift == 0) {
        *p++ = kHex[nibble];
        started = true;
      }
    }
    if (i != 7) *p++ = ':';
  }
  return static_cast<std::size_t>(p - out);
}

std::string IpAddress::to_string() const {
  char buf[kMaxTextLength];
  return std::string(buf, format_to(buf));
}

Result<ScopedAddress> ScopedAddress::parse(std::string_view text) {
  auto pct = text.find('%');
  auto addr = IpAddress::parse(text.substr(0, pct));
  if (!addr) return addr.error();
  ScopedAddress out{*addr, {}};
  if (pct != std::string_view::npos) {
    if (addr->is_v4()) {
      return parse_error("a zone (%...) applies to IPv6 addresses only", pct);
    }
    out.zone = std::string(text.substr(pct + 1));
    if (out.zone.empty()) return parse_error("expected a zone name or index after '%'", pct + 1);
  }
  return out;
}

std::string ScopedAddress::to_string() const {
  std::string s = address.to_string();
  if (!zone.empty()) s.append("%").append(zone);
  return s;
}

std::size_t IpAddressHash::operator()(const IpAddress& a) const noexcept {
  // Mix both halves (a splitmix64 finalizer); IPv4 addresses differ only in the low half.
  std::uint64_t h = a.high64() * 0x9E3779B97F4A7C15ULL ^ a.low64();
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return static_cast<std::size_t>(h);
}

}  // namespace flowscope
