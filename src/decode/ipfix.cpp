#include "decode/ipfix.h"

#include "core/byte_reader.h"
#include "decode/set_walker.h"

namespace flowscope::decode {
namespace {

// RFC 7011 §3.1.
constexpr std::size_t kHeaderSize = 16;
// RFC 7011 §3.3.2: set ids 2 and 3 carry (options) templates, 0-1 and 4-255 are reserved.
constexpr std::uint16_t kTemplateSet = 2;
constexpr std::uint16_t kOptionsTemplateSet = 3;
constexpr std::uint16_t kFirstDataSet = 256;
constexpr std::uint16_t kEnterpriseBit = 0x8000;

}  // namespace

std::size_t IpfixDecoder::decode(std::span<const std::byte> datagram, const IpAddress& exporter,
                                 FlowBatch& batch) {
  ExporterStats& st = stats_.of(exporter);
  ++st.packets;
  ByteReader r(datagram);
  if (!r.has(kHeaderSize)) {
    stats_.count(exporter, DecodeError::TruncatedHeader);
    return 0;
  }
  r.skip(2);  // version, checked by the dispatcher
  const std::uint16_t length = r.u16be();
  const std::uint32_t export_time = r.u32be();
  const std::uint32_t sequence = r.u32be();
  const std::uint32_t domain = r.u32be();
  // The message length frames the sets; a datagram shorter than it was cut in transit.
  if (length < kHeaderSize || length > datagram.size()) {
    stats_.count(exporter, DecodeError::LengthMismatch);
    return 0;
  }

  ExportContext ctx{DomainKey{exporter, domain, 10}, std::int64_t{export_time} * 1000,
                    std::nullopt};
  const std::size_t before = batch.size();
  const std::uint64_t options_before = st.options_records;
  std::size_t data_records = 0;
  walk_sets(datagram.subspan(kHeaderSize, length - kHeaderSize), exporter, stats_,
            [&](std::uint16_t id, std::span<const std::byte> body) {
              if (id == kTemplateSet || id == kOptionsTemplateSet) {
                template_set(ctx, body, id == kOptionsTemplateSet, batch);
              } else if (id < kFirstDataSet) {
                stats_.count(exporter, DecodeError::BadSetId);
              } else {
                data_records += engine_.decode_data_set(ctx, id, body, batch);
              }
            });
  // RFC 7011 §3.1: the sequence counts data records sent before this message, options data
  // records included (they are data records of an options template).
  data_records += st.options_records - options_before;
  sequences_.observe(ctx.key, sequence, static_cast<std::uint32_t>(data_records), std::nullopt, st);
  return batch.size() - before;
}

// RFC 7011 §3.4.1-2: (options) template records; a record with a field count of 0 withdraws a
// template (§8.1), and template id 2 / 3 with count 0 withdraws all of them.
void IpfixDecoder::template_set(const ExportContext& ctx, std::span<const std::byte> body,
                                bool options, FlowBatch& batch) {
  ByteReader r(body);
  while (r.remaining() >= 4) {
    const std::uint16_t template_id = r.u16be();
    const std::uint16_t field_count = r.u16be();
    if (template_id == 0) return;  // RFC 7011 §3.3.1: padding
    if (field_count == 0) {
      if (template_id == kTemplateSet || template_id == kOptionsTemplateSet) {
        engine_.withdraw_all(ctx.key);
      } else {
        engine_.withdraw(ctx.key, template_id);
      }
      continue;
    }
    std::uint16_t scope_count = 0;
    if (options) {
      scope_count = r.u16be();
      // RFC 7011 §3.4.2.2: at least one scope field.
      if (r.failed() || scope_count == 0 || scope_count > field_count) {
        stats_.count(ctx.key.exporter, DecodeError::BadTemplate);
        return;
      }
    }
    TemplateSpec spec;
    spec.template_id = template_id;
    spec.options = options;
    spec.scope_count = scope_count;
    spec.fields.reserve(field_count);
    for (std::uint16_t field_idx = 0; field_idx < field_count && !r.failed(); ++field_idx) {
      TemplateField f;
      const std::uint16_t raw_id = r.u16be();
      f.length = r.u16be();
      f.id = raw_id & ~kEnterpriseBit;
      if ((raw_id & kEnterpriseBit) != 0) f.enterprise = r.u32be();
      spec.fields.push_back(f);
    }
    if (r.failed()) {
      stats_.count(ctx.key.exporter, DecodeError::BadTemplate);
      return;
    }
    (void)engine_.add_template(ctx, std::move(spec), batch);
  }
}

}  // namespace flowscope::decode
