// libFuzzer target: frames through the packet decoder (core/flow_packet.h) and the flow meter.
// Input: one byte picking the link type, then frames, each a 2-byte big-endian length and the
// bytes; timestamps advance 7 ms per frame so that timeouts, FTP expectations and fragment
// slots are exercised too. The table is small (max 8 flows) so evictions happen.
#include <cstddef>
#include <cstdint>
#include <span>

#include "capture/flow_meter.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowscope;
  static constexpr LinkType kLinks[] = {LinkType::Ethernet, LinkType::Raw,      LinkType::Null,
                                        LinkType::Loop,     LinkType::LinuxSll, LinkType::LinuxSll2,
                                        LinkType::Ipv4,     LinkType::Ipv6};
  if (size < 1) return 0;
  const LinkType link = kLinks[data[0] % 8];
  capture::MeterConfig config;
  config.max_flows = 8;
  config.idle_timeout = 50'000'000;     // 50 ms
  config.active_timeout = 200'000'000;  // 200 ms
  config.application_labels = false;    // nDPI is fuzzed by its own project; its start is slow
  capture::FlowMeter meter(config);
  SessionBatch out;
  capture::TimeNs ts = 1'700'000'000'000'000'000;
  std::size_t pos = 1;
  while (pos + 2 <= size) {
    const std::size_t length = std::size_t{data[pos]} << 8 | data[pos + 1];
    pos += 2;
    const std::size_t n = length < size - pos ? length : size - pos;
    const auto* bytes = reinterpret_cast<const std::byte*>(data + pos);
    meter.add(link, std::span<const std::byte>(bytes, n), n, ts, out);
    pos += n;
    ts += 7'000'000;
  }
  meter.flush(out);
  return 0;
}
