#pragma once
// AppClassifier: application labels for the flow meter's sessions from nDPI (Debian's
// libndpi-dev), the `application` field. Built with nDPI when CMake finds it
// (FLOWSCOPE_NDPI=ON, the default); without it create() returns nullptr and sessions carry no
// label. Each flow gets nDPI's per-flow state while it is being classified (the first
// kMaxPackets packets at most); the state is freed as soon as the label is final, so memory
// stays proportional to the flows still in their first packets.
//
// Not thread-safe: one classifier per meter (per thread), as nDPI's detection module is.
// Internal to flowscope_capture: other modules use its public headers.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace flowscope::capture {

class AppClassifier {
 public:
  // Packets of a flow given to nDPI before it guesses from what it has.
  static constexpr int kMaxPackets = 12;

  // nullptr when flowscope was built without nDPI.
  static std::unique_ptr<AppClassifier> create();
  virtual ~AppClassifier() = default;

  // A flow's classification state; null before the first packet and after the label is final.
  struct Flow;
  struct Label {
    std::uint16_t master = 0;  // e.g. HTTP; 0 = unknown
    std::uint16_t app = 0;     // e.g. a site on HTTP; 0 = unknown
  };

  // Feeds the IP packet (header included, as captured) seen at `time_ms`. Returns true when
  // the label is final: `state` is then freed and null, and `label` set.
  virtual bool process(Flow*& state, std::span<const std::byte> ip_packet, std::int64_t time_ms,
                       Label& label) = 0;
  // The flow ends before nDPI was sure: its best guess goes to `label`, `state` is freed.
  virtual void give_up(Flow*& state, Label& label) = 0;
  // Frees `state` without a label (a flow dropped).
  virtual void release(Flow*& state) = 0;
  // "HTTP", "TLS.Google", "DNS"; empty for an unknown label. Valid until the next call.
  virtual std::string_view name(const Label& label) = 0;
};

}  // namespace flowscope::capture
