#include "import/template_pdu.h"

#include <algorithm>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "core/byte_reader.h"

namespace flowscope::import {
namespace {

decode::DecoderConfig pdu_config() {
  decode::DecoderConfig config;
  // A PDU's flows are its own: a data set without its template is counted, not buffered for a
  // later PDU (whose flows it would otherwise join).
  config.engine.limits.pending_max_sets = 0;
  return config;
}

// A registry field of row `row` as flow-tools' 32-bit value (0 when absent, saturated above).
template <FieldId F>
std::uint32_t u32_of(const FlowBatch& batch, std::size_t row) {
  if (!batch.is_set(F, row)) return 0;
  const auto v = static_cast<std::uint64_t>(batch.template get<F>(row));
  return static_cast<std::uint32_t>(std::min<std::uint64_t>(v, 0xFFFFFFFFu));
}

template <FieldId F>
IpAddress addr_of(const FlowBatch& batch, std::size_t row) {
  return batch.is_set(F, row) ? batch.template get<F>(row) : IpAddress::v4(0);
}

}  // namespace

PduTemplateCache::PduTemplateCache() : decoder_(pdu_config()) {}

Result<NetflowPdu> decode_template_pdu(PduTemplateCache& cache, std::uint32_t exporter,
                                       std::span<const std::byte> bytes) {
  using F = FtField;
  ByteReader r(bytes);
  NetflowPdu pdu;
  pdu.exporter = exporter;
  pdu.version = r.u16be();
  const std::uint16_t count_or_length = r.u16be();
  if (r.failed()) {
    return Error{ErrorCode::Truncated,
                 fmt::format("NetFlow PDU of {} bytes is shorter than a header", bytes.size())};
  }
  if (pdu.version == 9) {
    pdu.count = count_or_length;
    pdu.sys_uptime = r.u32be();
    pdu.unix_secs = r.u32be();
    pdu.flow_sequence = r.u32be();
    pdu.source_id = r.u32be();
  } else if (pdu.version == 10) {
    pdu.unix_secs = r.u32be();
    pdu.flow_sequence = r.u32be();
    pdu.source_id = r.u32be();
    // As the decoder: bytes after the message are ignored, a message cut short is refused.
    if (!r.failed() && (count_or_length < 16 || count_or_length > bytes.size())) {
      return Error{ErrorCode::Malformed, fmt::format("IPFIX message says length {}, got {} bytes",
                                                     count_or_length, bytes.size())};
    }
  } else {
    return Error{
        ErrorCode::Unsupported,
        fmt::format("NetFlow version {} is not a template version (9 and 10 are)", pdu.version)};
  }
  if (r.failed()) {
    return Error{ErrorCode::Truncated,
                 fmt::format("{} message of {} bytes is shorter than its {}-byte header",
                             pdu.version == 9 ? "NetFlow v9" : "IPFIX", bytes.size(),
                             pdu.version == 9 ? 20 : 16)};
  }
  // Cisco's v9 source id carries the v5 engine type and id in its low 16 bits (as nfdump reads
  // them).
  pdu.engine_type = static_cast<std::uint8_t>(pdu.source_id >> 8);
  pdu.engine_id = static_cast<std::uint8_t>(pdu.source_id);
  pdu.layout = &ft_template_layout(pdu.version);

  const IpAddress ex = IpAddress::v4(exporter);
  decode::FlowDecoder& decoder = cache.decoder();
  const auto& exporters = decoder.stats().exporters();
  const auto it = exporters.find(ex);
  const decode::ExporterStats before = it == exporters.end() ? decode::ExporterStats{} : it->second;
  const std::int64_t export_ms = std::int64_t{pdu.unix_secs} * 1000;
  FlowBatch batch;
  decoder.decode({bytes, ex, time_from_ms(export_ms)}, batch);
  const auto found = exporters.find(ex);
  const decode::ExporterStats after =
      found == exporters.end() ? decode::ExporterStats{} : found->second;

  std::string damage;
  for (std::size_t e = 0; e < decode::kDecodeErrorCount; ++e) {
    const std::uint64_t n = after.errors[e] - before.errors[e];
    const auto kind = static_cast<decode::DecodeError>(e);
    if (n == 0) continue;
    if (kind == decode::DecodeError::UnknownTemplate) {
      pdu.missing_templates = static_cast<std::uint32_t>(n);
    } else {
      damage +=
          fmt::format("{}{} {}", damage.empty() ? "" : ", ", n, decode::decode_error_name(kind));
    }
  }
  if (!damage.empty()) {
    return Error{ErrorCode::Malformed,
                 fmt::format("{} PDU is damaged: {} (docs/decode.md \"Counters\")",
                             pdu.version == 9 ? "NetFlow v9" : "IPFIX", damage)};
  }
  pdu.options_records = static_cast<std::uint32_t>(after.options_records - before.options_records);

  // Times become uptimes, flow-tools' First/Last. v9: relative to the header's sysUpTime, which
  // gives back the record's own values. IPFIX has no uptime: the PDU's is counted from its
  // earliest flow start (or its export time, if earlier), so that every First is >= 0. A
  // record without a start or end time gets the export time there.
  std::int64_t boot_ms = export_ms - pdu.sys_uptime;
  if (pdu.version == 10) {
    boot_ms = export_ms;
    for (std::size_t row = 0; row < batch.size(); ++row) {
      if (batch.is_set(FieldId::First, row)) {
        boot_ms = std::min(boot_ms, batch.get<FieldId::First>(row));
      }
    }
    pdu.sys_uptime = static_cast<std::uint32_t>(export_ms - boot_ms);
  }
  auto uptime = [&](FieldId f, std::size_t row) -> std::uint32_t {
    if (!batch.is_set(f, row)) return pdu.sys_uptime;  // absent: the export time
    const std::int64_t t =
        f == FieldId::First ? batch.get<FieldId::First>(row) : batch.get<FieldId::Last>(row);
    return static_cast<std::uint32_t>(t - boot_ms);  // modulo 2^32, as uptimes are
  };

  pdu.records.resize(batch.size());
  pdu.addresses.resize(batch.size());
  for (std::size_t row = 0; row < batch.size(); ++row) {
    FtRecord& rec = pdu.records[row];
    rec.set(F::UnixSecs, pdu.unix_secs);
    rec.set(F::SysUpTime, pdu.sys_uptime);
    rec.set(F::Exaddr, exporter);
    rec.set(F::EngineType, pdu.engine_type);
    rec.set(F::EngineId, pdu.engine_id);
    auto& addrs = pdu.addresses[row];
    addrs = {addr_of<FieldId::SrcAddr>(batch, row), addr_of<FieldId::DstAddr>(batch, row),
             addr_of<FieldId::NextHop>(batch, row)};
    const F addr_fields[] = {F::Srcaddr, F::Dstaddr, F::Nexthop};
    for (std::size_t i = 0; i < 3; ++i) {
      if (addrs[i].is_v4()) rec.set(addr_fields[i], addrs[i].v4_value());
    }
    rec.set(F::DPkts, u32_of<FieldId::FlowPackets>(batch, row));
    rec.set(F::DOctets, u32_of<FieldId::FlowBytes>(batch, row));
    rec.set(F::First, uptime(FieldId::First, row));
    rec.set(F::Last, uptime(FieldId::Last, row));
    rec.set(F::Input, u32_of<FieldId::InIf>(batch, row));
    rec.set(F::Output, u32_of<FieldId::OutIf>(batch, row));
    rec.set(F::Srcport, u32_of<FieldId::SrcPort>(batch, row));
    rec.set(F::Dstport, u32_of<FieldId::DstPort>(batch, row));
    rec.set(F::Prot, u32_of<FieldId::Proto>(batch, row));
    rec.set(F::Tos, u32_of<FieldId::Tos>(batch, row));
    rec.set(F::TcpFlags, u32_of<FieldId::TcpFlags>(batch, row));
    rec.set(F::SrcMask, u32_of<FieldId::SrcMask>(batch, row));
    rec.set(F::DstMask, u32_of<FieldId::DstMask>(batch, row));
    rec.set(F::SrcAs, u32_of<FieldId::SrcAs>(batch, row));
    rec.set(F::DstAs, u32_of<FieldId::DstAs>(batch, row));
  }
  if (pdu.version == 10) {
    pdu.count = static_cast<std::uint16_t>(
        std::min<std::size_t>(batch.size() + pdu.options_records, 0xFFFF));
  }
  return pdu;
}

}  // namespace flowscope::import
