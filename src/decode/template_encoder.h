#pragma once
// NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) export datagrams from one implementation: the two
// differ only in header layout, set ids, how sequence numbers count and how times are carried
// (v9: sysUpTime-relative IE 22/21; IPFIX: absolute milliseconds, IE 152/153). Templates are
// built from registry FieldIds and their wire ids (core/fields.def), one for IPv4 and one for
// IPv6 flows; an options template carries the sampling interval. Templates and options are sent
// on start and every `refresh_every` datagrams. One encoder per exporter (flow_encoder.h).
// Internal to flowscope_decode: other modules use its public headers.

#include <array>
#include <vector>

#include "decode/flow_encoder.h"

namespace flowscope {
class ByteWriter;
}

namespace flowscope::decode {

class TemplateEncoder final : public FlowEncoder {
 public:
  // REQUIRES: format is NetflowV9 or Ipfix.
  TemplateEncoder(ExportFormat format, const ExporterConfig& config, TimeMs boot);

  void restart(TimeMs now) override;
  std::size_t encode(const FlowBatch& batch, std::size_t begin, std::size_t end, TimeMs now,
                     DatagramBuffer& out) override;
  std::size_t datagram_budget() const override;
  std::size_t record_cost(bool ipv6, bool new_set) const override;
  void withdraw_templates() override;

  // One field of a template: the registry field, which of its wire ids, and the length.
  struct Element {
    FieldId field;
    std::uint16_t wire_id;
    std::uint16_t length;
    int column;  // FlowBatch::column_index(field), resolved once
  };
  // The data template for IPv4 (false) or IPv6 (true) flows.
  const std::vector<Element>& data_template(bool ipv6) const { return templates_[ipv6]; }

 private:
  bool ipfix() const { return format_ == ExportFormat::Ipfix; }
  std::size_t header_size() const { return ipfix() ? 16 : 20; }
  void write_templates(ByteWriter& w, std::size_t& records) const;
  void write_record(ByteWriter& w, const FlowBatch& batch, std::size_t row,
                    const std::vector<Element>& tpl) const;

  ExportFormat format_;
  ExporterConfig config_;
  TimeMs boot_;
  std::array<std::vector<Element>, 2> templates_;
  std::array<std::size_t, 2> record_size_{};
  std::size_t template_block_ = 0;     // bytes of templates and options in a datagram
  std::uint32_t sequence_ = 0;         // v9: datagrams; IPFIX: data records (RFC 7011 §3.1)
  std::uint32_t since_templates_ = 0;  // datagrams since templates were last sent
  bool templates_due_ = true;
  bool withdraw_due_ = false;
};

}  // namespace flowscope::decode
