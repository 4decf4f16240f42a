#include "probe/session_exporter.h"

#include <string>

namespace flowscope::probe {
namespace {

std::uint16_t default_port(decode::ExportFormat f) {
  return f == decode::ExportFormat::Ipfix ? 4739 : 2055;
}

// Appends the flow one side of a session sent; nothing when it sent no packet.
void add_direction(const SessionBatch& s, std::size_t row, bool client, FlowBatch& out) {
  const std::uint64_t packets =
      client ? s.get<FieldId::ClnPackets>(row) : s.get<FieldId::SrvPackets>(row);
  if (packets == 0) return;
  const std::size_t r = out.add_row();
  const IpAddress cln = s.get<FieldId::ClnAddr>(row);
  const IpAddress srv = s.get<FieldId::SrvAddr>(row);
  const std::uint16_t cln_port = s.get<FieldId::ClnPort>(row);
  const std::uint16_t srv_port = s.get<FieldId::SrvPort>(row);
  const std::uint8_t proto = s.get<FieldId::Proto>(row);
  out.set<FieldId::SrcAddr>(r, client ? cln : srv);
  out.set<FieldId::DstAddr>(r, client ? srv : cln);
  // ICMP echo sessions carry the request's type in the server port; the reply is type 0 (v4)
  // or 129 (v6) as NetFlow puts type * 256 + code in the destination port.
  const bool echo = (proto == 1 && srv_port == 0x0800) || (proto == 58 && srv_port == 0x8000);
  if (echo) {
    out.set<FieldId::SrcPort>(r, 0);
    out.set<FieldId::DstPort>(r, client ? srv_port : (proto == 1 ? 0 : 0x8100));
  } else {
    out.set<FieldId::SrcPort>(r, client ? cln_port : srv_port);
    out.set<FieldId::DstPort>(r, client ? srv_port : cln_port);
  }
  out.set<FieldId::Proto>(r, proto);
  out.set<FieldId::Tos>(r, s.get<FieldId::Tos>(row));
  out.set<FieldId::FlowPackets>(r, packets);
  out.set<FieldId::FlowBytes>(
      r, client ? s.get<FieldId::ClnBytes>(row) : s.get<FieldId::SrvBytes>(row));
  if (proto == 6) {
    out.set<FieldId::TcpFlags>(
        r, client ? s.get<FieldId::ClnTcpFlags>(row) : s.get<FieldId::SrvTcpFlags>(row));
  }
  out.set<FieldId::First>(r, s.get<FieldId::StartTime>(row));
  out.set<FieldId::Last>(r, s.get<FieldId::EndTime>(row));
  if (s.is_set(FieldId::InVlan, row)) out.set<FieldId::SrcVlan>(r, s.get<FieldId::InVlan>(row));
  if (s.is_set(FieldId::EndReason, row)) {
    out.set<FieldId::EndReason>(r, s.get<FieldId::EndReason>(row));
  }
}

}  // namespace

Result<std::unique_ptr<SessionExporter>> SessionExporter::open(const ExportOptions& options,
                                                               TimeMs boot) {
  std::unique_ptr<SessionExporter> e(new SessionExporter());
  e->options_ = options;
  decode::ExporterConfig config;
  config.source_id = options.source_id;
  e->encoder_ = decode::make_encoder(options.format, config, boot);
  e->endpoints_.dst_port = default_port(options.format);
  e->endpoints_.src_port = 50000;
  if (!options.target.empty()) {
    auto sender = UdpSender::open(options.target);
    if (!sender) return std::move(sender).error();
    const std::string& dest = sender->destination();
    const std::size_t colon = dest.rfind(':');
    e->endpoints_.dst_port = static_cast<std::uint16_t>(std::stoul(dest.substr(colon + 1)));
    if (auto a = IpAddress::parse(dest.substr(0, colon)); a && a->is_v4()) {
      e->endpoints_.dst_ip = a->v4_value();
    }
    e->sender_.emplace(std::move(*sender));
  }
  if (!options.pcap.empty()) {
    auto pcap = PcapWriter::open(options.pcap);
    if (!pcap) return std::move(pcap).error();
    e->pcap_.emplace(std::move(*pcap));
  }
  return e;
}

const std::string& SessionExporter::destination() const {
  static const std::string kNone = "-";
  return sender_ ? sender_->destination() : kNone;
}

Result<void> SessionExporter::add(const SessionBatch& sessions, TimeMs now) {
  flows_batch_.clear();
  for (std::size_t row = 0; row < sessions.size(); ++row) {
    add_direction(sessions, row, true, flows_batch_);
    add_direction(sessions, row, false, flows_batch_);
  }
  if (flows_batch_.empty()) return {};
  flows_ += flows_batch_.size();
  buffer_.clear();
  (void)encoder_->encode(flows_batch_, 0, flows_batch_.size(), now, buffer_);
  views_.clear();
  for (std::size_t i = 0; i < buffer_.size(); ++i) {
    views_.push_back(buffer_.at(i));
    if (pcap_) {
      if (auto r = pcap_->write(buffer_.at(i), now, endpoints_); !r) return r;
    }
  }
  if (sender_) {
    if (auto r = sender_->send(views_); !r) return r;
  }
  return {};
}

Result<void> SessionExporter::finish() {
  if (pcap_) return pcap_->close();
  return {};
}

}  // namespace flowscope::probe
