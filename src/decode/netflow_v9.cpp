#include "decode/netflow_v9.h"

#include <algorithm>

#include "core/byte_reader.h"
#include "decode/set_walker.h"

namespace flowscope::decode {
namespace {

// RFC 3954 §5.1.
constexpr std::size_t kHeaderSize = 20;
// RFC 3954 §5.2/§6.1: flowset ids 0 and 1 carry templates, 2-255 are reserved.
constexpr std::uint16_t kTemplateFlowset = 0;
constexpr std::uint16_t kOptionsFlowset = 1;
constexpr std::uint16_t kFirstDataFlowset = 256;

}  // namespace

std::size_t NetflowV9Decoder::decode(std::span<const std::byte> datagram, const IpAddress& exporter,
                                     FlowBatch& batch) {
  ExporterStats& st = stats_.of(exporter);
  ++st.packets;
  ByteReader r(datagram);
  if (!r.has(kHeaderSize)) {
    stats_.count(exporter, DecodeError::TruncatedHeader);
    return 0;
  }
  r.skip(2);  // version, checked by the dispatcher
  r.skip(2);  // count: total records, often wrong in practice; the flowset lengths frame them
  const std::uint32_t sys_uptime = r.u32be();
  const std::uint32_t unix_secs = r.u32be();
  const std::uint32_t sequence = r.u32be();
  const std::uint32_t source_id = r.u32be();

  ExportContext ctx{DomainKey{exporter, source_id, 9}, std::int64_t{unix_secs} * 1000, sys_uptime};
  // RFC 3954 §5.1: the sequence counts export packets.
  sequences_.observe(ctx.key, sequence, 1, sys_uptime, st);

  const std::size_t before = batch.size();
  walk_sets(r.rest(), exporter, stats_, [&](std::uint16_t id, std::span<const std::byte> body) {
    if (id == kTemplateFlowset) {
      template_flowset(ctx, body, batch);
    } else if (id == kOptionsFlowset) {
      options_flowset(ctx, body, batch);
    } else if (id < kFirstDataFlowset) {
      stats_.count(exporter, DecodeError::BadSetId);
    } else {
      (void)engine_.decode_data_set(ctx, id, body, batch);
    }
  });
  return batch.size() - before;
}

// RFC 3954 §5.2: template records, each an id, a field count and (type, length) pairs.
void NetflowV9Decoder::template_flowset(const ExportContext& ctx, std::span<const std::byte> body,
                                        FlowBatch& batch) {
  ByteReader r(body);
  while (r.remaining() >= 4) {
    const std::uint16_t template_id = r.u16be();
    const std::uint16_t field_count = r.u16be();
    if (template_id == 0 && field_count == 0) return;  // padding
    if (field_count == 0 || !r.has(std::size_t{field_count} * 4)) {
      stats_.count(ctx.key.exporter, DecodeError::BadTemplate);
      return;  // the rest of the flowset cannot be framed
    }
    TemplateSpec spec;
    spec.template_id = template_id;
    spec.fields.reserve(field_count);
    for (std::uint16_t field_idx = 0; field_idx < field_count; ++field_idx) {
      TemplateField f;
      f.id = r.u16be();
      f.length = r.u16be();
      spec.fields.push_back(f);
    }
    (void)engine_.add_template(ctx, std::move(spec), batch);
  }
}

// RFC 3954 §6.1: options template records: id, scope length and option length in bytes, the
// scope fields, the option fields, then padding to a 4-byte boundary.
void NetflowV9Decoder::options_flowset(const ExportContext& ctx, std::span<const std::byte> body,
                                       FlowBatch& batch) {
  ByteReader r(body);
  while (r.remaining() >= 6) {
    const std::uint16_t template_id = r.u16be();
    const std::uint16_t scope_length = r.u16be();
    const std::uint16_t option_length = r.u16be();
    if (template_id == 0) return;  // padding
    if (scope_length % 4 != 0 || option_length % 4 != 0 ||
        !r.has(std::size_t{scope_length} + option_length)) {
      stats_.count(ctx.key.exporter, DecodeError::BadTemplate);
      return;
    }
    TemplateSpec spec;
    spec.template_id = template_id;
    spec.options = true;
    spec.scope_count = static_cast<std::uint16_t>(scope_length / 4);
    const std::size_t fields = (std::size_t{scope_length} + option_length) / 4;
    spec.fields.reserve(fields);
    for (std::size_t field_idx = 0; field_idx < fields; ++field_idx) {
      TemplateField f;
      f.id = r.u16be();
      f.length = r.u16be();
      spec.fields.push_back(f);
    }
    (void)engine_.add_template(ctx, std::move(spec), batch);
    const std::size_t used = 6 + scope_length + option_length;
    if (used % 4 != 0) r.skip(std::min<std::size_t>(4 - used % 4, r.remaining()));
  }
}

}  // namespace flowscope::decode
