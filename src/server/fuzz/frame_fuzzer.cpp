// libFuzzer target: query protocol frames as a server reads them from an untrusted client
// (server/protocol.h decode_frame), and HOST[:PORT] texts (parse_host_port).
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "server/protocol.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace flowscope::server;
  auto frame = decode_frame(std::span(reinterpret_cast<const std::byte*>(data), size));
  if (frame) {
    // What the connection handler reads from a Login or Request body must not throw.
    (void)text_field(frame->body, "user");
    (void)uint_field(frame->body, "id");
    (void)bool_field(frame->body, "want_key");
  }
  (void)parse_host_port(std::string_view(reinterpret_cast<const char*>(data), size), 9640);
  return 0;
}
