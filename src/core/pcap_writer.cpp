#include "core/pcap_writer.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "core/byte_writer.h"

namespace flowscope {
namespace {

Error io_error(const std::string& path, const char* what) {
  return Error{ErrorCode::Io, fmt::format("{}: {}: {}", path, what, std::strerror(errno))};
}

}  // namespace

void PcapWriter::FileCloser::operator()(std::FILE* f) const {
  if (f != stdout) std::fclose(f);
}

Result<PcapWriter> PcapWriter::open(const std::string& path) {
  std::FILE* f = path == "-" ? stdout : std::fopen(path.c_str(), "wb");
  if (f == nullptr) return io_error(path, "cannot create the pcap file");
  PcapWriter writer(std::unique_ptr<std::FILE, FileCloser>(f), path);
  // Global header, written little-endian like libpcap on this host: magic, version 2.4, zone 0,
  // sigfigs 0, snaplen 65535, link type 1 (Ethernet).
  std::vector<std::byte> header;
  ByteWriter w(header);
  w.u32le(0xA1B2C3D4);
  w.u16le(2);
  w.u16le(4);
  w.u32le(0);
  w.u32le(0);
  w.u32le(65535);
  w.u32le(1);
  if (std::fwrite(header.data(), 1, header.size(), f) != header.size()) {
    return io_error(path, "cannot write");
  }
  return writer;
}

Result<void> PcapWriter::write(std::span<const std::byte> payload, TimeMs time,
                               const UdpEndpoints& udp) {
  frame_.clear();
  ByteWriter w(frame_);
  const std::int64_t ms = to_ms(time);
  const auto frame_len = static_cast<std::uint32_t>(14 + 20 + 8 + payload.size());
  w.u32le(static_cast<std::uint32_t>(ms / 1000));
  w.u32le(static_cast<std::uint32_t>(ms % 1000) * 1000);
  w.u32le(frame_len);
  w.u32le(frame_len);
  // Ethernet: locally administered MACs, EtherType IPv4.
  constexpr std::uint8_t kDst[] = {0x02, 0x00, 0x00, 0x00, 0x01, 0x02};
  constexpr std::uint8_t kSrc[] = {0x02, 0x00, 0x00, 0x00, 0x01, 0x01};
  w.bytes(std::span<const std::uint8_t>(kDst));
  w.bytes(std::span<const std::uint8_t>(kSrc));
  w.u16be(0x0800);
  const std::size_t ip = w.offset();
  w.u8(0x45);
  w.u8(0);
  w.u16be(static_cast<std::uint16_t>(20 + 8 + payload.size()));
  w.u16be(0);
  w.u16be(0x4000);  // don't fragment
  w.u8(64);
  w.u8(17);
  w.u16be(0);
  w.u32be(udp.src_ip);
  w.u32be(udp.dst_ip);
  std::uint32_t sum = 0;  // RFC 791 header checksum
  for (std::size_t i = ip; i < ip + 20; i += 2) {
    sum += (static_cast<std::uint32_t>(frame_[i]) << 8) | static_cast<std::uint32_t>(frame_[i + 1]);
  }
  while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
  w.patch_u16be(ip + 10, static_cast<std::uint16_t>(~sum));
  w.u16be(udp.src_port);
  w.u16be(udp.dst_port);
  w.u16be(static_cast<std::uint16_t>(8 + payload.size()));
  w.u16be(0);  // no UDP checksum (allowed over IPv4, RFC 768)
  w.bytes(payload);
  if (std::fwrite(frame_.data(), 1, frame_.size(), file_.get()) != frame_.size()) {
    return io_error(path_, "cannot write");
  }
  return {};
}

Result<void> PcapWriter::close() {
  if (!file_) return {};
  const bool failed = std::fflush(file_.get()) != 0 || std::ferror(file_.get()) != 0;
  file_.reset();
  if (failed) return io_error(path_, "cannot write");
  return {};
}

}  // namespace flowscope
