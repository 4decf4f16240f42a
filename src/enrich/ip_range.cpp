#include "enrich/ip_range.h"

#include <string>

#include <fmt/format.h>

#include "core/prefix_table.h"

namespace flowscope::enrich {
namespace {

Uint128 to_u128(const IpAddress& a) { return (Uint128{a.high64()} << 64) | a.low64(); }
IpAddress from_u128(Uint128 v) {
  return IpAddress::from_u64(static_cast<std::uint64_t>(v >> 64), static_cast<std::uint64_t>(v));
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::vector<Cidr> range_to_cidrs(const IpAddress& first, const IpAddress& last) {
  // Work in the 128-bit space; an IPv4 range stays under ::ffff:0:0/96, so no block can grow
  // past /96 there (first and last share those 96 bits).
  std::vector<Cidr> out;
  Uint128 lo = to_u128(first);
  const Uint128 hi = to_u128(last);
  const unsigned family_bits = first.is_v4() ? 32 : 128;
  while (lo <= hi) {
    unsigned size_log = 0;  // largest block aligned at lo that ends <= hi
    while (size_log < family_bits) {
      const unsigned next = size_log + 1;
      const Uint128 block = next == 128 ? ~Uint128{0} : (Uint128{1} << next) - 1;
      if ((lo & block) != 0 || lo + block > hi || lo + block < lo) break;
      size_log = next;
    }
    out.push_back(Cidr::make(from_u128(lo), family_bits - size_log));
    const Uint128 span = size_log == 128 ? ~Uint128{0} : (Uint128{1} << size_log) - 1;
    if (lo + span == ~Uint128{0}) break;
    lo += span + 1;
    if (lo == 0) break;
  }
  return out;
}

Result<void> parse_address_item(std::string_view text, std::vector<Cidr>& out) {
  text = trim(text);
  if (auto dash = text.find('-'); dash != std::string_view::npos) {
    auto a = IpAddress::parse(trim(text.substr(0, dash)));
    auto b = IpAddress::parse(trim(text.substr(dash + 1)));
    if (!a || !b) {
      return Error{
          ErrorCode::Parse,
          fmt::format("\"{}\" is not an address range; use e.g. 10.1.5.10-10.1.5.20", text)};
    }
    if (a->is_v4() != b->is_v4() || *b < *a) {
      return Error{ErrorCode::InvalidArgument,
                   fmt::format("range \"{}\" must go from the lower to the higher address of "
                               "one family",
                               text)};
    }
    auto cidrs = range_to_cidrs(*a, *b);
    out.insert(out.end(), cidrs.begin(), cidrs.end());
    return ok();
  }
  auto cidr = Cidr::parse(text, Cidr::HostBits::Reject);
  if (!cidr) return std::move(cidr).error();
  out.push_back(*cidr);
  return ok();
}

}  // namespace flowscope::enrich
