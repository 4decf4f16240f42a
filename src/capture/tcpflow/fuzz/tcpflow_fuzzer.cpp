// libFuzzer target: frames through tcpflow's frame decoder, the TCP reassembler and, for each
// finished stream, the HTTP scanner. Input: one byte choosing the link type, then records of a
// 2-byte big-endian length and that many frame bytes. Streams are kept in memory (offsets past
// 1 MiB are only counted) so nothing is written to disk.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "capture/tcp_reassembler.h"
#include "capture/tcpflow/frame_decoder.h"
#include "capture/tcpflow/http_scanner.h"

namespace {

using namespace flowscope::capture;

class MemorySink : public TcpStreamSink {
 public:
  void on_open(TcpStream& s) override {
    s.sink_slot = streams_.size();
    streams_.emplace_back();
  }
  void on_store(TcpStream& s, std::uint64_t offset, std::span<const std::uint8_t> data,
                std::uint32_t, TimeUs) override {
    std::string& b = streams_[s.sink_slot];
    if (offset + data.size() > (1u << 20)) return;
    if (b.size() < offset + data.size()) b.resize(offset + data.size());
    std::copy(data.begin(), data.end(), b.begin() + static_cast<std::ptrdiff_t>(offset));
  }
  void on_insert_front(TcpStream& s, std::uint64_t n) override {
    std::string& b = streams_[s.sink_slot];
    if (b.size() + n > (1u << 20)) return;
    b.insert(0, n, '\0');
  }
  void on_print(TcpStream&, std::span<const std::uint8_t>) override {}
  void on_close(TcpStream& s) override {
    const std::string& b = streams_[s.sink_slot];
    std::size_t total = 0;
    tcpflow::parse_http_bodies({reinterpret_cast<const std::uint8_t*>(b.data()), b.size()}, true,
                               [&](tcpflow::HttpBody&& body) { total += body.content.size(); });
    (void)total;
  }
  bool saved_data_matches(std::size_t slot, std::uint32_t offset,
                          std::span<const std::uint8_t> data) override {
    const std::string& b = streams_[slot];
    return offset + data.size() <= b.size() &&
           std::equal(data.begin(), data.end(), b.begin() + offset);
  }
  std::size_t save_slot(const TcpStream& s) override { return s.sink_slot; }
  void forget_saved(std::size_t) override {}

 private:
  std::vector<std::string> streams_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static constexpr int kLinks[] = {0, 1, 9, 101, 113};
  const int dlt = kLinks[data[0] % 5];
  MemorySink sink;
  TcpReassemblerOptions options;
  options.tcp_timeout_s = data[0] & 0x80 ? 1 : 0;
  TcpReassembler reassembler(options, sink);
  TcpPacket packet;
  std::size_t at = 1;
  std::int64_t second = 0;
  while (at + 2 <= size) {
    const std::size_t len = (std::size_t{data[at]} << 8) | data[at + 1];
    at += 2;
    const std::size_t n = std::min(len, size - at);
    const PcapTime ts{second++, 0};
    if (tcpflow::decode_frame(dlt, {data + at, n}, static_cast<std::uint32_t>(len), ts, packet) ==
        tcpflow::FrameKind::Tcp) {
      reassembler.process(packet);
    }
    at += n;
  }
  reassembler.close_all();
  return 0;
}
