#include "core/cidr.h"

#include <charconv>

namespace flowscope {

IpAddress mask_address(const IpAddress& address, unsigned bits128) {
  IpAddress::Bytes b = address.bytes();
  for (unsigned i = 0; i < 16; ++i) {
    unsigned keep = bits128 > i * 8 ? std::min(8u, bits128 - i * 8) : 0;
    b[i] &= static_cast<std::uint8_t>(keep == 0 ? 0 : 0xff << (8 - keep));
  }
  return IpAddress(b);
}

Cidr Cidr::host(const IpAddress& address) { return Cidr(address, 128); }

Cidr Cidr::make(const IpAddress& address, unsigned prefix_len) {
  unsigned bits = address.is_v4() ? prefix_len + 96 : prefix_len;
  if (bits > 128) bits = 128;
  return Cidr(mask_address(address, bits), bits);
}

Result<Cidr> Cidr::parse(std::string_view text, HostBits host_bits) {
  auto slash = text.find('/');
  auto addr = IpAddress::parse(text.substr(0, slash));
  if (!addr) return addr.error();
  if (slash == std::string_view::npos) return host(*addr);

  std::string_view len_text = text.substr(slash + 1);
  // The family is the text's: "::ffff:0:0/96" is an IPv6 prefix that happens to cover IPv4.
  bool v6_text = text.substr(0, slash).find(':') != std::string_view::npos;
  unsigned max_len = v6_text ? 128 : 32;
  unsigned len = 0;
  auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  bool bad_text =
      len_text.empty() || ec != std::errc() || (len_text.size() > 1 && len_text[0] == '0');
  if (bad_text || end != len_text.data() + len_text.size()) {
    std::size_t at = slash + 1;
    if (!bad_text) at += static_cast<std::size_t>(end - len_text.data());
    return Error(ErrorCode::Parse,
                 fmt::format("expected a prefix length (0-{}) after '/'", max_len),
                 SourcePos{at, 0});
  }
  if (len > max_len) {
    return Error(ErrorCode::OutOfRange,
                 fmt::format("prefix length {} is longer than the {} bits of an {} address", len,
                             max_len, v6_text ? "IPv6" : "IPv4"),
                 SourcePos{slash + 1, 0});
  }
  unsigned bits = v6_text ? len : len + 96;
  Cidr c(mask_address(*addr, bits), bits);
  if (c.network_ != *addr && host_bits == HostBits::Reject) {
    return Error(ErrorCode::InvalidArgument,
                 fmt::format("{} has host bits set past /{}; did you mean {}?", addr->to_string(),
                             len, c.to_string()),
                 SourcePos{0, 0});
  }
  return c;
}

bool Cidr::contains(const IpAddress& address) const {
  return mask_address(address, bits_) == network_;
}

IpAddress Cidr::last() const {
  IpAddress::Bytes b = network_.bytes();
  for (unsigned i = 0; i < 16; ++i) {
    unsigned keep = bits_ > i * 8 ? std::min(8u, bits_ - i * 8) : 0;
    b[i] |= static_cast<std::uint8_t>(keep >= 8 ? 0 : 0xff >> keep);
  }
  return IpAddress(b);
}

std::string Cidr::to_string() const { return fmt::format("{}/{}", network_, prefix_len()); }

}  // namespace flowscope
