#include "probe/session_exporter.h"

#include <string>

#include "session/one_sided.h"

namespace flowscope::probe {
Result<std::unique_ptr<SessionExporter>> SessionExporter::open(const ExportOptions& options,
                                                               TimeMs boot) {
  std::unique_ptr<SessionExporter> e(new SessionExporter());
  e->options_ = options;
  decode::ExporterConfig config;
  config.source_id = options.source_id;
  e->encoder_ = decode::make_encoder(options.format, config, boot);
  e->endpoints_.dst_port = decode::default_port(options.format);
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
    session::append_session_flows(sessions, row, flows_batch_);
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
