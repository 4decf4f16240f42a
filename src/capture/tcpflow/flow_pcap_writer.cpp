#include "capture/tcpflow/flow_pcap_writer.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "capture/tcpflow/flow_output.h"

namespace flowscope::capture::tcpflow {

int tcpflow_record_dlt(int input_dlt) {
  switch (input_dlt) {
    case 1:
    case 6: return 6;  // tcpflow's Ethernet handler labels its packets DLT_IEEE802
    case 12:
    case 14:
    case 101: return 12;  // DLT_RAW as Linux numbers it
    default: return input_dlt;
  }
}

FlowPcapWriter::FlowPcapWriter(std::string prefix, std::string filename_template,
                               std::size_t max_fds)
    : prefix_(std::move(prefix)),
      template_(std::move(filename_template)),
      max_fds_(max_fds == 0 ? 1 : max_fds) {}

FlowPcapWriter::~FlowPcapWriter() {
  for (auto& [key, f] : flows_) close(f);
}

void FlowPcapWriter::close(Flow& f) {
  if (f.file == nullptr) return;
  std::fclose(f.file);
  f.file = nullptr;
  open_.erase(f.lru);
}

bool FlowPcapWriter::open(Flow& f, bool create, int dlt) {
  while (open_.size() >= max_fds_) close(*open_.front());
  f.file = std::fopen(f.path.c_str(), create ? "wb" : "ab");
  if (f.file == nullptr) {
    error_ = fmt::format("{}: {}; check that the output directory is writable", f.path,
                         std::strerror(errno));
    return false;
  }
  open_.push_back(&f);
  f.lru = std::prev(open_.end());
  if (create) {
    const std::uint32_t header[6] = {
        0xa1b2c3d4, 0x00040002, 0, 0, 65535, static_cast<std::uint32_t>(tcpflow_record_dlt(dlt))};
    std::fwrite(header, sizeof header, 1, f.file);
  }
  return true;
}

bool FlowPcapWriter::write(int dlt, const TcpPacket& packet, PcapTime raw_ts,
                           std::uint32_t wire_length, std::span<const std::uint8_t> frame) {
  auto [it, fresh] = flows_.try_emplace(packet.key);
  Flow& f = it->second;
  if (fresh) {
    TcpStream s;
    s.key = packet.key;
    s.vlan = packet.vlan;
    s.has_mac = packet.has_mac;
    s.mac_src = packet.mac_src;
    s.mac_dst = packet.mac_dst;
    s.tstart_raw = packet.ts_raw;
    auto name = expand_template(template_, s, 0);
    if (!name) {
      error_ = name.error().message;
      return false;
    }
    f.path = prefix_ + *name + ".pcap";
    for (auto slash = f.path.find('/', 1); slash != std::string::npos;
         slash = f.path.find('/', slash + 1)) {
      ::mkdir(f.path.substr(0, slash).c_str(), 0777);
    }
    if (!open(f, true, dlt)) return false;
  } else if (f.file == nullptr) {
    if (!open(f, false, dlt)) return false;
  } else {
    open_.splice(open_.end(), open_, f.lru);
  }
  const std::uint32_t rec[4] = {static_cast<std::uint32_t>(raw_ts.sec),
                                static_cast<std::uint32_t>(raw_ts.usec),
                                static_cast<std::uint32_t>(frame.size()), wire_length};
  std::fwrite(rec, sizeof rec, 1, f.file);
  std::fwrite(frame.data(), 1, frame.size(), f.file);
  return true;
}

}  // namespace flowscope::capture::tcpflow
