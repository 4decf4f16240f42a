// libFuzzer target: address, CIDR and zone parsing. Beyond "no crash", it checks that whatever
// parses formats back to text that parses to the same value, and that a prefix contains its own
// first and last address.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/cidr.h"
#include "core/ip_address.h"

using flowscope::Cidr;
using flowscope::IpAddress;
using flowscope::ScopedAddress;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  if (auto a = IpAddress::parse(text)) {
    auto again = IpAddress::parse(a->to_string());
    if (!again || *again != *a) __builtin_trap();
  }
  for (auto mode : {Cidr::HostBits::Reject, Cidr::HostBits::Clear}) {
    if (auto c = Cidr::parse(text, mode)) {
      auto again = Cidr::parse(c->to_string());
      if (!again || *again != *c) __builtin_trap();
      if (!c->contains(c->network()) || !c->contains(c->last())) __builtin_trap();
    }
  }
  if (auto s = ScopedAddress::parse(text)) {
    auto again = ScopedAddress::parse(s->to_string());
    if (!again || again->address != s->address || again->zone != s->zone) __builtin_trap();
  }
  return 0;
}
