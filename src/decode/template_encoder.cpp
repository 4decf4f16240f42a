#include "decode/template_encoder.h"

#include <algorithm>

#include "core/byte_writer.h"

namespace flowscope::decode {
namespace {

constexpr std::uint16_t kTemplateV4 = 256;
constexpr std::uint16_t kTemplateV6 = 257;
constexpr std::uint16_t kTemplateOptions = 258;
// RFC 3954 §5.1 / RFC 7011 §3.3.2: template and options template set ids.
constexpr std::uint16_t kV9TemplateSet = 0;
constexpr std::uint16_t kV9OptionsSet = 1;
constexpr std::uint16_t kIpfixTemplateSet = 2;
constexpr std::uint16_t kIpfixOptionsSet = 3;
// v9 options scope type 1: System (RFC 3954 §6.1).
constexpr std::uint16_t kV9ScopeSystem = 1;
constexpr std::uint16_t kIeObservationDomainId = 149;

// Which of a field's registry wire ids (core/fields.def WireIds column) a template uses, and how
// long the value is. Addresses, next hop and masks take the IPv6 element in the IPv6 template;
// times are uptime-relative (22/21) in v9 and absolute milliseconds (152/153) in IPFIX.
struct Slot {
  FieldId field;
  std::uint8_t v4_index;
  std::uint8_t v6_index;
  std::uint8_t ipfix_index;  // for times: the index used by IPFIX (else v4/v6 index)
  std::uint16_t length;
};

constexpr Slot kSlots[] = {
    {FieldId::SrcAddr, 0, 1, 0, 0},     {FieldId::DstAddr, 0, 1, 0, 0},
    {FieldId::NextHop, 0, 1, 0, 0},     {FieldId::SrcPort, 0, 0, 0, 2},
    {FieldId::DstPort, 0, 0, 0, 2},     {FieldId::Proto, 0, 0, 0, 1},
    {FieldId::Tos, 0, 0, 0, 1},         {FieldId::TcpFlags, 0, 0, 0, 1},
    {FieldId::InIf, 0, 0, 0, 4},        {FieldId::OutIf, 0, 0, 0, 4},
    {FieldId::FlowPackets, 0, 0, 0, 8}, {FieldId::FlowBytes, 0, 0, 0, 8},
    {FieldId::First, 0, 0, 2, 0},       {FieldId::Last, 0, 0, 2, 0},
    {FieldId::SrcAs, 0, 0, 0, 4},       {FieldId::DstAs, 0, 0, 0, 4},
    {FieldId::SrcMask, 0, 1, 0, 1},     {FieldId::DstMask, 0, 1, 0, 1},
    {FieldId::SrcVlan, 0, 0, 0, 2},     {FieldId::DstVlan, 0, 0, 0, 2},
    {FieldId::Direction, 0, 0, 0, 1},
};

std::vector<TemplateEncoder::Element> build_template(bool ipfix, bool ipv6) {
  std::vector<TemplateEncoder::Element> out;
  for (const Slot& slot : kSlots) {
    const FieldInfo& info = field_info(slot.field);
    const bool is_time = info.type == FieldType::Time;
    const std::uint8_t index = is_time && ipfix ? slot.ipfix_index
                               : ipv6           ? slot.v6_index
                                                : slot.v4_index;
    std::uint16_t length = slot.length;
    if (info.type == FieldType::Ip) length = ipv6 ? 16 : 4;
    if (is_time) length = ipfix ? 8 : 4;
    out.push_back({slot.field, info.wire.ids[index], length, FlowBatch::column_index(slot.field)});
  }
  return out;
}

std::size_t record_size(const std::vector<TemplateEncoder::Element>& tpl) {
  std::size_t n = 0;
  for (const auto& e : tpl) n += e.length;
  return n;
}

}  // namespace

TemplateEncoder::TemplateEncoder(ExportFormat format, const ExporterConfig& config, TimeMs boot)
    : format_(format), config_(config), boot_(boot) {
  for (int ipv6 = 0; ipv6 < 2; ++ipv6) {
    templates_[ipv6] = build_template(ipfix(), ipv6 != 0);
    record_size_[ipv6] = record_size(templates_[ipv6]);
  }
  std::vector<std::byte> scratch;
  ByteWriter w(scratch);
  std::size_t records = 0;
  write_templates(w, records);
  template_block_ = scratch.size();
}

void TemplateEncoder::restart(TimeMs now) {
  boot_ = now;
  sequence_ = 0;
  templates_due_ = true;
}

void TemplateEncoder::withdraw_templates() {
  if (ipfix()) withdraw_due_ = templates_due_ = true;
}

std::size_t TemplateEncoder::datagram_budget() const {
  const bool templates = templates_due_ || since_templates_ >= config_.refresh_every;
  const std::size_t used =
      header_size() + (templates ? template_block_ + (withdraw_due_ ? 8 : 0) : 0);
  return config_.mtu > used ? config_.mtu - used : 0;
}

std::size_t TemplateEncoder::record_cost(bool ipv6, bool new_set) const {
  return record_size_[ipv6] + (new_set ? 4 + 3 : 0);  // set header and v9 padding
}

void TemplateEncoder::write_templates(ByteWriter& w, std::size_t& records) const {
  const std::size_t set_start = w.offset();
  w.u16be(ipfix() ? kIpfixTemplateSet : kV9TemplateSet);
  w.u16be(0);
  if (withdraw_due_) {
    // RFC 7011 §8.1: a template record with a field count of 0 withdraws that template.
    for (std::uint16_t id : {kTemplateV4, kTemplateV6}) {
      w.u16be(id);
      w.u16be(0);
    }
  }
  for (int ipv6 = 0; ipv6 < 2; ++ipv6) {
    w.u16be(ipv6 ? kTemplateV6 : kTemplateV4);
    w.u16be(static_cast<std::uint16_t>(templates_[ipv6].size()));
    for (const Element& e : templates_[ipv6]) {
      w.u16be(e.wire_id);
      w.u16be(e.length);
    }
    ++records;
  }
  w.patch_u16be(set_start + 2, static_cast<std::uint16_t>(w.offset() - set_start));
  if (config_.sampling == 0) return;

  const std::uint16_t sampling_ie = field_info(FieldId::Sampling).wire.ids[ipfix() ? 1 : 0];
  const std::size_t opt_start = w.offset();
  if (ipfix()) {
    // RFC 7011 §3.4.2.2: id, field count, scope field count, then the fields.
    w.u16be(kIpfixOptionsSet);
    w.u16be(0);
    w.u16be(kTemplateOptions);
    w.u16be(2);
    w.u16be(1);
    w.u16be(kIeObservationDomainId);
    w.u16be(4);
  } else {
    // RFC 3954 §6.1: id, scope length and option length in bytes, scope fields, option fields.
    w.u16be(kV9OptionsSet);
    w.u16be(0);
    w.u16be(kTemplateOptions);
    w.u16be(4);
    w.u16be(4);
    w.u16be(kV9ScopeSystem);
    w.u16be(4);
  }
  w.u16be(sampling_ie);
  w.u16be(4);
  if (!ipfix()) w.pad_to(opt_start, 4);
  w.patch_u16be(opt_start + 2, static_cast<std::uint16_t>(w.offset() - opt_start));
  ++records;

  w.u16be(kTemplateOptions);
  w.u16be(12);
  w.u32be(config_.source_id);
  w.u32be(config_.sampling);
  ++records;
}

void TemplateEncoder::write_record(ByteWriter& w, const FlowBatch& batch, std::size_t row,
                                   const std::vector<Element>& tpl) const {
  for (const Element& e : tpl) {
    const Column& col = batch.columns()[static_cast<std::size_t>(e.column)];
    switch (field_info(e.field).type) {
      case FieldType::Ip: {
        const IpAddress& a = col.vec<IpAddress>()[row];
        if (e.length == 4) {
          w.u32be(a.is_v4() ? a.v4_value() : 0);
        } else {
          w.bytes(std::span<const std::uint8_t>(a.bytes()));
        }
        break;
      }
      case FieldType::U8:
      case FieldType::Proto:
      case FieldType::TcpFlags: w.uint_be(col.vec<std::uint8_t>()[row], e.length); break;
      case FieldType::U16: w.uint_be(col.vec<std::uint16_t>()[row], e.length); break;
      case FieldType::U32: w.uint_be(col.vec<std::uint32_t>()[row], e.length); break;
      case FieldType::U64: w.uint_be(col.vec<std::uint64_t>()[row], e.length); break;
      case FieldType::Time: {
        const std::int64_t t = col.vec<std::int64_t>()[row];
        if (ipfix()) {
          w.u64be(static_cast<std::uint64_t>(t));
        } else {
          // Modulo 2^32, as the decoder reads it (RFC 3954 §8: uptime wraps).
          w.u32be(static_cast<std::uint32_t>(t - to_ms(boot_)));
        }
        break;
      }
      default: w.zeros(e.length); break;  // no template element has another type
    }
  }
}

std::size_t TemplateEncoder::encode(const FlowBatch& batch, std::size_t begin, std::size_t end,
                                    TimeMs now, DatagramBuffer& out) {
  const auto& src = batch.column(FieldId::SrcAddr).vec<IpAddress>();
  const auto& dst = batch.column(FieldId::DstAddr).vec<IpAddress>();
  // v9 headers carry whole seconds: the export instant is that second, and sysUpTime is taken at
  // the same instant so that the decoder's `export time - (sysUpTime - first)` is exact.
  const std::int64_t export_ms = to_ms(now) / 1000 * 1000;
  std::size_t encoded = 0;
  std::size_t row = begin;
  while (row < end) {
    std::vector<std::byte>& buf = out.buffer();
    ByteWriter w(buf);
    const std::size_t start = w.offset();
    std::size_t records = 0;  // v9 count: every record of the datagram (RFC 3954 §5.1)
    std::size_t data_records = 0;
    if (ipfix()) {
      w.u16be(10);
      w.u16be(0);  // length, patched
      w.u32be(static_cast<std::uint32_t>(export_ms / 1000));
      w.u32be(sequence_);
      w.u32be(config_.source_id);
    } else {
      w.u16be(9);
      w.u16be(0);  // count, patched
      w.u32be(static_cast<std::uint32_t>(export_ms - to_ms(boot_)));
      w.u32be(static_cast<std::uint32_t>(export_ms / 1000));
      w.u32be(sequence_);
      w.u32be(config_.source_id);
    }
    if (templates_due_ || since_templates_ >= config_.refresh_every) {
      write_templates(w, records);
      if (config_.sampling != 0) data_records += 1;  // the options data record
      templates_due_ = withdraw_due_ = false;
      since_templates_ = 0;
    }
    // Data sets: one per run of rows of the same address family.
    std::size_t set_start = 0;
    int open_family = -1;
    auto close_set = [&] {
      if (open_family < 0) return;
      if (!ipfix()) w.pad_to(set_start, 4);
      w.patch_u16be(set_start + 2, static_cast<std::uint16_t>(w.offset() - set_start));
      open_family = -1;
    };
    for (; row < end; ++row) {
      const int family = (src[row].is_v4() && dst[row].is_v4()) ? 0 : 1;
      const std::size_t need = record_size_[family] + (family == open_family ? 0 : 4 + 3);
      if (w.offset() - start + need > config_.mtu) break;
      if (family != open_family) {
        close_set();
        set_start = w.offset();
        w.u16be(family ? kTemplateV6 : kTemplateV4);
        w.u16be(0);
        open_family = family;
      }
      write_record(w, batch, row, templates_[family]);
      ++records;
      ++data_records;
      ++encoded;
    }
    close_set();
    if (ipfix()) {
      w.patch_u16be(start + 2, static_cast<std::uint16_t>(w.offset() - start));
      sequence_ += static_cast<std::uint32_t>(data_records);
    } else {
      w.patch_u16be(start + 2, static_cast<std::uint16_t>(records));
      ++sequence_;
    }
    out.close_datagram();
    ++datagrams_;
    ++since_templates_;
  }
  return encoded;
}

}  // namespace flowscope::decode
