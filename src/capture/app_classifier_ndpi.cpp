// AppClassifier over nDPI 4.x (ndpi_detection_process_packet, ndpi_detection_giveup).
#include <algorithm>
#include <array>
#include <cstring>

#include "capture/app_classifier.h"

extern "C" {
#include <ndpi/ndpi_api.h>
}

namespace flowscope::capture {

struct AppClassifier::Flow {
  ndpi_flow_struct* ndpi = nullptr;
  int packets = 0;
};

namespace {

class NdpiClassifier final : public AppClassifier {
 public:
  NdpiClassifier() : module_(ndpi_init_detection_module(ndpi_no_prefs)) {
    NDPI_PROTOCOL_BITMASK all;
    NDPI_BITMASK_SET_ALL(all);
    ndpi_set_protocol_detection_bitmask2(module_, &all);
    ndpi_finalize_initialization(module_);
  }
  ~NdpiClassifier() override { ndpi_exit_detection_module(module_); }
  bool ok() const { return module_ != nullptr; }

  bool process(Flow*& state, std::span<const std::byte> ip, std::int64_t time_ms,
               Label& label) override {
    if (state == nullptr) {
      state = new Flow;
      state->ndpi = static_cast<ndpi_flow_struct*>(ndpi_flow_malloc(SIZEOF_FLOW_STRUCT));
      std::memset(state->ndpi, 0, SIZEOF_FLOW_STRUCT);
    }
    const auto length = static_cast<unsigned short>(std::min<std::size_t>(ip.size(), 0xFFFF));
    const ndpi_protocol p = ndpi_detection_process_packet(
        module_, state->ndpi, reinterpret_cast<const unsigned char*>(ip.data()), length,
        static_cast<std::uint64_t>(time_ms));
    ++state->packets;
    const bool known = p.app_protocol != NDPI_PROTOCOL_UNKNOWN;
    // Known, and nothing more to learn (TLS certificates, DNS answers), or out of packets.
    if (known && ndpi_extra_dissection_possible(module_, state->ndpi) == 0) {
      label = {p.master_protocol, p.app_protocol};
      release(state);
      return true;
    }
    if (state->packets >= kMaxPackets) {
      give_up(state, label);
      return true;
    }
    return false;
  }

  void give_up(Flow*& state, Label& label) override {
    if (state == nullptr) return;
    std::uint8_t guessed = 0;
    const ndpi_protocol p = ndpi_detection_giveup(module_, state->ndpi, 1, &guessed);
    label = {p.master_protocol, p.app_protocol};
    release(state);
  }

  void release(Flow*& state) override {
    if (state == nullptr) return;
    ndpi_free_flow(state->ndpi);
    delete state;
    state = nullptr;
  }

  std::string_view name(const Label& label) override {
    if (label.master == 0 && label.app == 0) return {};
    ndpi_protocol p{};
    p.master_protocol = label.master;
    p.app_protocol = label.app;
    return ndpi_protocol2name(module_, p, buffer_.data(), static_cast<u_int>(buffer_.size()));
  }

 private:
  ndpi_detection_module_struct* module_;
  std::array<char, 64> buffer_{};
};

}  // namespace

std::unique_ptr<AppClassifier> AppClassifier::create() {
  auto c = std::make_unique<NdpiClassifier>();
  if (!c->ok()) return nullptr;
  return c;
}

}  // namespace flowscope::capture
