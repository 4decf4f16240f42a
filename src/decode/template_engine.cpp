#include "decode/template_engine.h"

#include <algorithm>
#include <bitset>
#include <cstdio>
#include <cstring>

#include "decode/field_map.h"

namespace flowscope::decode {
namespace {

// Seconds between the NTP era (1900) and the Unix epoch (RFC 5905 §6).
constexpr std::int64_t kNtpToUnixSeconds = 2208988800;

// A record larger than a whole IPFIX message cannot occur (RFC 7011 §3.1: 16-bit length).
constexpr std::size_t kMaxRecordLength = 65535;

// IEs with a meaning beyond "copy this value into a column".
constexpr std::uint16_t kIeFlowEndSysUpTime = 21;
constexpr std::uint16_t kIeFlowStartSysUpTime = 22;
constexpr std::uint16_t kIeSamplerId = 48;
constexpr std::uint16_t kIeMplsTopLabelStackSection = 70;
constexpr std::uint16_t kIeApplicationId = 95;
constexpr std::uint16_t kIeFlowStartSeconds = 150;
constexpr std::uint16_t kIeFlowEndSeconds = 151;
constexpr std::uint16_t kIeFlowEndMilliseconds = 153;
constexpr std::uint16_t kIeFlowEndNanoseconds = 157;
constexpr std::uint16_t kIeSystemInitTimeMilliseconds = 160;
constexpr std::uint16_t kIeSelectorId = 302;
constexpr std::uint16_t kIeIngressInterface = 10;
constexpr std::uint16_t kIeEgressInterface = 14;
constexpr std::uint16_t kIeInterfaceName = 82;
constexpr std::uint16_t kIeInterfaceDescription = 83;
constexpr std::uint16_t kIeIngressPhysicalInterface = 252;
constexpr std::uint16_t kIeEgressPhysicalInterface = 253;
constexpr std::uint16_t kV9ScopeInterface = 2;  // RFC 3954 §6.1

constexpr std::size_t kMaxSamplersPerDomain = 64;
static_assert(FlowBatch::kColumns <= 255, "FieldOp::column is one byte");

inline std::uint64_t load_be(const std::byte* p, std::size_t len) {
  switch (len) {
    case 1: return static_cast<std::uint8_t>(p[0]);
    case 2: {
      std::uint16_t v;
      std::memcpy(&v, p, 2);
      return __builtin_bswap16(v);
    }
    case 4: {
      std::uint32_t v;
      std::memcpy(&v, p, 4);
      return __builtin_bswap32(v);
    }
    case 8: {
      std::uint64_t v;
      std::memcpy(&v, p, 8);
      return __builtin_bswap64(v);
    }
    default: {
      std::uint64_t v = 0;
      for (std::size_t i = 0; i < len; ++i) v = (v << 8) | static_cast<std::uint8_t>(p[i]);
      return v;
    }
  }
}

// RFC 7011 §6.1.9-10: 32-bit seconds since 1900, 32-bit binary fraction.
inline std::int64_t ntp_to_ms(std::uint64_t ntp) {
  auto seconds = static_cast<std::int64_t>(ntp >> 32) - kNtpToUnixSeconds;
  auto fraction_ms = static_cast<std::int64_t>(((ntp & 0xFFFFFFFFull) * 1000) >> 32);
  return seconds * 1000 + fraction_ms;
}

// Chooses how a field is decoded. Scope fields of options templates are not copied into
// columns: in v9 their types are scope types (RFC 3954 §6.1: 1 = System, 2 = Interface), not
// element ids; a scope naming an interface is kept as IfIndex for interface names.
FieldOp compile_field(const TemplateField& f, bool is_scope, std::uint8_t version,
                      ExporterStats& st) {
  FieldOp op;
  op.length = f.length;
  const bool fixed = f.length != kVariableLength;
  const bool int_width = fixed && f.length >= 1 && f.length <= 8;
  if (is_scope) {
    const bool interface_scope =
        f.enterprise == 0 &&
        (version == 9
             ? f.id == kV9ScopeInterface
             : (f.id == kIeIngressInterface || f.id == kIeEgressInterface ||
                f.id == kIeIngressPhysicalInterface || f.id == kIeEgressPhysicalInterface));
    if (interface_scope && int_width) op.kind = OpKind::IfIndex;
    return op;
  }
  if (f.enterprise != 0) {
    ++st.enterprise_elements;
    return op;
  }
  switch (f.id) {
    case kIeInterfaceName:
    case kIeInterfaceDescription:
      op.kind = f.id == kIeInterfaceName ? OpKind::IfName : OpKind::IfDescr;
      return op;
    case kIeFlowStartSysUpTime:
    case kIeFlowEndSysUpTime:
      if (int_width) {
        op.kind = OpKind::TimeUptime;
        op.field = f.id == kIeFlowStartSysUpTime ? FieldId::First : FieldId::Last;
      }
      return op;
    case kIeSystemInitTimeMilliseconds:
      if (int_width) op.kind = OpKind::SystemInit;
      return op;
    case kIeSamplerId:
    case kIeSelectorId:
      if (int_width) op.kind = OpKind::SamplerId;
      return op;
    case kIeApplicationId:
      if (f.length >= 1) {
        op.kind = OpKind::AppId;
        op.field = FieldId::Application;
      }
      return op;
    default: break;
  }
  if (f.id >= kIeFlowStartSeconds && f.id <= kIeFlowEndNanoseconds) {
    op.field = (f.id % 2 == 0) ? FieldId::First : FieldId::Last;
    if (f.id <= kIeFlowEndSeconds && int_width) {
      op.kind = OpKind::TimeSec;
    } else if (f.id <= kIeFlowEndMilliseconds && int_width) {
      op.kind = OpKind::TimeMs;
    } else if (f.id > kIeFlowEndMilliseconds && f.length == 8) {
      op.kind = OpKind::TimeNtp;
    }
    return op;
  }
  std::optional<FieldId> field = field_for_wire_id(f.id);
  if (!field) {
    if (f.length != 0) ++st.unknown_elements;
    return op;
  }
  op.field = *field;
  switch (field_info(*field).type) {
    case FieldType::Ip:
      if (f.length == 4) op.kind = OpKind::Ip4;
      if (f.length == 16) op.kind = OpKind::Ip6;
      break;
    case FieldType::U8:
    case FieldType::U16:
    case FieldType::U32:
    case FieldType::U64:
    case FieldType::TcpFlags:
    case FieldType::Proto:
      if (int_width) op.kind = OpKind::UInt;
      break;
    default: break;
  }
  // The label stack entry is label (20 bits), traffic class (3), bottom of stack (1): keep the
  // label (docs/architecture.md "The field registry", the worked example).
  if (op.kind == OpKind::UInt && f.id == kIeMplsTopLabelStackSection) op.kind = OpKind::LabelEntry;
  return op;
}

bool writes_column(const FieldOp& op) {
  return op.kind == OpKind::UInt || op.kind == OpKind::LabelEntry || op.kind == OpKind::Ip4 ||
         op.kind == OpKind::Ip6;
}

// Where an element of a column that several elements fill appears in the registry's wire list;
// the first listed is the preferred one (packetDeltaCount before packetTotalCount).
std::size_t wire_rank(FieldId field, std::uint16_t wire_id) {
  auto ids = field_info(field).wire.view();
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] == wire_id) return i;
  }
  return ids.size();
}

// Addresses, ports, VLANs, masks: zero means "this alternative is not used", so every element
// may fill the column and zeros never overwrite. Counters and the like: zero is a real value
// (a delta of 0), so only the preferred element is kept and the others are skipped.
void resolve_shared_columns(CompiledTemplate& tpl, const std::bitset<kFieldCount>& shared) {
  if (shared.none()) return;
  for (std::size_t op_idx = 0; op_idx < tpl.ops.size(); ++op_idx) {
    FieldOp& op = tpl.ops[op_idx];
    if (!writes_column(op) || !shared.test(static_cast<std::size_t>(op.field))) continue;
    const FieldType type = field_info(op.field).type;
    if (type == FieldType::Ip || type == FieldType::U16 || type == FieldType::U8) {
      op.shared = true;
      continue;
    }
    const std::size_t rank = wire_rank(op.field, tpl.spec.fields[op_idx].id);
    for (std::size_t other = 0; other < tpl.ops.size(); ++other) {
      const FieldOp& o = tpl.ops[other];
      if (other != op_idx && writes_column(o) && o.field == op.field &&
          wire_rank(o.field, tpl.spec.fields[other].id) < rank) {
        op.kind = OpKind::Skip;
        break;
      }
    }
  }
}

}  // namespace

TemplateEngine::TemplateEngine(DecodeStats& stats, EngineOptions options)
    : stats_(stats), options_(options) {}

std::optional<CompiledTemplate> TemplateEngine::compile(TemplateSpec&& spec, ExporterStats& st,
                                                        const DomainKey& key) {
  const IpAddress& exporter = key.exporter;
  if (spec.fields.empty() || spec.fields.size() > options_.limits.max_fields ||
      spec.scope_count > spec.fields.size() || spec.template_id < 256) {
    stats_.count(exporter, DecodeError::BadTemplate);
    return std::nullopt;
  }
  CompiledTemplate tpl;
  tpl.ops.reserve(spec.fields.size());
  std::size_t min_length = 0;
  std::bitset<kFieldCount> targeted;
  std::bitset<kFieldCount> shared;
  for (std::size_t field_idx = 0; field_idx < spec.fields.size(); ++field_idx) {
    const TemplateField& f = spec.fields[field_idx];
    if (f.length == kVariableLength) {
      tpl.variable = true;
      min_length += 1;  // RFC 7011 §7: at least the one-byte length
    } else {
      min_length += f.length;
    }
    FieldOp op = compile_field(f, spec.options && field_idx < spec.scope_count, key.version, st);
    if (writes_column(op)) {
      op.column = static_cast<std::uint8_t>(FlowBatch::column_index(op.field));
      tpl.sets_sampling = tpl.sets_sampling || op.field == FieldId::Sampling;
      const auto column = static_cast<std::size_t>(op.field);
      if (targeted.test(column)) shared.set(column);
      targeted.set(column);
    }
    tpl.ops.push_back(op);
  }
  // A record of zero bytes would never advance the record loop; one longer than a message can
  // never be filled. Both are contradictions in the template, not data.
  if (min_length == 0 || min_length > kMaxRecordLength) {
    stats_.count(exporter, DecodeError::BadTemplateField);
    return std::nullopt;
  }
  tpl.min_record_length = min_length;
  tpl.spec = std::move(spec);
  resolve_shared_columns(tpl, shared);
  return tpl;
}

bool TemplateEngine::store(const DomainKey& key, CompiledTemplate&& tpl,
                           const IpAddress& exporter) {
  TemplateKey tk{key, tpl.spec.template_id};
  auto it = templates_.find(tk);
  if (it != templates_.end()) {
    it->second = std::move(tpl);
    return true;
  }
  if (templates_.size() >= options_.limits.max_templates) {
    stats_.count(exporter, DecodeError::TemplateLimit);
    return false;
  }
  templates_.emplace(tk, std::move(tpl));
  return true;
}

bool TemplateEngine::add_template(const ExportContext& ctx, TemplateSpec spec, FlowBatch& batch) {
  ExporterStats& st = stats_.of(ctx.key.exporter);
  const bool options = spec.options;
  const std::uint16_t id = spec.template_id;
  // Exporters re-send their templates every few packets (some with every packet): a template
  // equal to the cached one keeps its compiled form instead of being compiled again.
  const CompiledTemplate* current = find(ctx.key, id);
  if (current == nullptr || !(current->spec == spec)) {
    std::optional<CompiledTemplate> tpl = compile(std::move(spec), st, ctx.key);
    if (!tpl || !store(ctx.key, std::move(*tpl), ctx.key.exporter)) return false;
  }
  ++(options ? st.options_templates : st.templates);

  // Replay the sets that waited for this template, oldest first.
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->template_id == id && it->ctx.key == ctx.key) {
      PendingSet set = std::move(*it);
      pending_bytes_ -= set.body.size();
      it = pending_.erase(it);
      ++st.sets_replayed;
      const CompiledTemplate* t = find(ctx.key, id);
      if (t != nullptr) (void)decode_records(*t, set.ctx, set.body, batch);
    } else {
      ++it;
    }
  }
  return true;
}

void TemplateEngine::withdraw(const DomainKey& key, std::uint16_t template_id) {
  if (templates_.erase(TemplateKey{key, template_id}) > 0) ++stats_.of(key.exporter).withdrawals;
}

void TemplateEngine::withdraw_all(const DomainKey& key) {
  std::size_t removed =
      std::erase_if(templates_, [&](const auto& kv) { return kv.first.domain == key; });
  stats_.of(key.exporter).withdrawals += removed;
}

const CompiledTemplate* TemplateEngine::find(const DomainKey& key,
                                             std::uint16_t template_id) const {
  auto it = templates_.find(TemplateKey{key, template_id});
  return it == templates_.end() ? nullptr : &it->second;
}

TemplateEngine::DomainState* TemplateEngine::domain_state(const DomainKey& key, bool create) {
  auto it = domains_.find(key);
  if (it != domains_.end()) return &it->second;
  if (!create || domains_.size() >= options_.limits.max_domains) return nullptr;
  return &domains_[key];
}

std::size_t TemplateEngine::decode_data_set(const ExportContext& ctx, std::uint16_t set_id,
                                            std::span<const std::byte> body, FlowBatch& batch) {
  const CompiledTemplate* tpl = find(ctx.key, set_id);
  if (tpl == nullptr) {
    buffer_set(ctx, set_id, body);
    return 0;
  }
  return decode_records(*tpl, ctx, body, batch);
}

void TemplateEngine::buffer_set(const ExportContext& ctx, std::uint16_t set_id,
                                std::span<const std::byte> body) {
  const EngineLimits& lim = options_.limits;
  if (body.size() > lim.pending_max_bytes || lim.pending_max_sets == 0) {
    stats_.count(ctx.key.exporter, DecodeError::UnknownTemplate);
    return;
  }
  // Evict oldest first: a template that has not come by now is the least likely to come.
  while (!pending_.empty() && (pending_.size() >= lim.pending_max_sets ||
                               pending_bytes_ + body.size() > lim.pending_max_bytes)) {
    PendingSet& old = pending_.front();
    ++stats_.of(old.ctx.key.exporter).sets_evicted;
    stats_.count(old.ctx.key.exporter, DecodeError::UnknownTemplate);
    pending_bytes_ -= old.body.size();
    pending_.pop_front();
  }
  pending_.push_back(PendingSet{ctx, set_id, std::vector<std::byte>(body.begin(), body.end())});
  pending_bytes_ += body.size();
  ++stats_.of(ctx.key.exporter).sets_buffered;
}

void TemplateEngine::drop_pending() {
  for (const PendingSet& set : pending_) {
    stats_.count(set.ctx.key.exporter, DecodeError::UnknownTemplate);
  }
  pending_.clear();
  pending_bytes_ = 0;
}

namespace {

// The length of the field `op` whose value starts at `p`, reading (and stepping `p` past) the
// length prefix of a variable-length field (RFC 7011 §7: one byte, or 255 and two bytes).
// REQUIRES: the record was checked by measure_record(), so the prefix is in bounds.
std::size_t field_length(const FieldOp& op, const std::byte*& p) {
  if (op.length != kVariableLength) return op.length;
  std::size_t len = static_cast<std::uint8_t>(*p++);
  if (len == 255) {
    len = load_be(p, 2);
    p += 2;
  }
  return len;
}

// Length of the record starting at `data`, walking the variable-length fields (RFC 7011 §7:
// one length byte, or 255 and a two-byte length); 0 when it does not fit.
std::size_t measure_record(const CompiledTemplate& tpl, std::span<const std::byte> data) {
  std::size_t pos = 0;
  const std::size_t size = data.size();
  for (const FieldOp& op : tpl.ops) {
    std::size_t len = op.length;
    if (len == kVariableLength) {
      if (pos >= size) return 0;
      len = static_cast<std::uint8_t>(data[pos++]);
      if (len == 255) {
        if (size - pos < 2) return 0;
        len = load_be(data.data() + pos, 2);
        pos += 2;
      }
    }
    if (size - pos < len) return 0;
    pos += len;
  }
  return pos == 0 ? 0 : pos;
}

}  // namespace

std::size_t TemplateEngine::decode_records(const CompiledTemplate& tpl, const ExportContext& ctx,
                                           std::span<const std::byte> body, FlowBatch& batch) {
  ExporterStats& st = stats_.of(ctx.key.exporter);
  DomainState* dom = domain_state(ctx.key, tpl.spec.options);
  std::size_t pos = 0;
  std::size_t records = 0;
  // RFC 7011 §3.3.1 / RFC 3954 §5.3: what is left after the last record and shorter than the
  // shortest record is padding.
  while (body.size() - pos >= tpl.min_record_length) {
    std::size_t len = tpl.min_record_length;
    if (tpl.variable) {
      len = measure_record(tpl, body.subspan(pos));
      if (len == 0) {
        stats_.count(ctx.key.exporter, DecodeError::BadVariableLength);
        break;
      }
    }
    if (tpl.spec.options) {
      if (dom != nullptr) apply_options(tpl, ctx.key, *dom, body.data() + pos);
      ++st.options_records;
    } else {
      emit_record(tpl, ctx, dom, body.data() + pos, batch);
      ++records;
    }
    pos += len;
  }
  st.records += records;
  return records;
}

void TemplateEngine::emit_record(const CompiledTemplate& tpl, const ExportContext& ctx,
                                 DomainState* dom, const std::byte* p, FlowBatch& batch) {
  const std::size_t row = batch.add_row();
  // Values that can only be resolved once the whole record is read (their order in the
  // template is free).
  std::optional<std::uint32_t> uptime_first;
  std::optional<std::uint32_t> uptime_last;
  std::optional<std::int64_t> init_ms;
  std::optional<std::uint32_t> sampler_id;
  for (const FieldOp& op : tpl.ops) {
    const std::size_t len = field_length(op, p);
    switch (op.kind) {
      case OpKind::Skip: break;
      case OpKind::UInt: {
        const std::uint64_t v = load_be(p, len);
        if (!op.shared || v != 0 || !batch.columns()[op.column].valid(row))
          set_int(batch, op.field, row, v);
        break;
      }
      case OpKind::LabelEntry: set_int(batch, op.field, row, load_be(p, len) >> 4); break;
      case OpKind::Ip4: {
        const auto v = static_cast<std::uint32_t>(load_be(p, 4));
        if (!op.shared || v != 0 || !batch.columns()[op.column].valid(row))
          set_ip(batch, op.field, row, IpAddress::v4(v));
        break;
      }
      case OpKind::Ip6: {
        const IpAddress v = IpAddress::v6_bytes(std::span<const std::byte, 16>(p, 16));
        if (!op.shared || v != IpAddress() || !batch.columns()[op.column].valid(row)) {
          set_ip(batch, op.field, row, v);
        }
        break;
      }
      case OpKind::TimeSec: set_int(batch, op.field, row, load_be(p, len) * 1000); break;
      case OpKind::TimeMs: set_int(batch, op.field, row, load_be(p, len)); break;
      case OpKind::TimeNtp:
        set_int(batch, op.field, row, static_cast<std::uint64_t>(ntp_to_ms(load_be(p, 8))));
        break;
      case OpKind::TimeUptime:
        (op.field == FieldId::First ? uptime_first : uptime_last) =
            static_cast<std::uint32_t>(load_be(p, len));
        break;
      case OpKind::SystemInit: init_ms = static_cast<std::int64_t>(load_be(p, len)); break;
      case OpKind::SamplerId: sampler_id = static_cast<std::uint32_t>(load_be(p, len)); break;
      case OpKind::IfIndex:
      case OpKind::IfName:
      case OpKind::IfDescr: break;  // options data only (apply_options)
      case OpKind::AppId: {
        // RFC 6759 §4: one byte of classification engine id, then the selector id. Shown as
        // "engine:selector" with the selector as a number when it fits 8 bytes, else in hex.
        char text[3 + 1 + 2 * 32 + 1];
        int n;
        const auto engine = static_cast<unsigned>(static_cast<std::uint8_t>(p[0]));
        if (len - 1 <= 8) {
          n = std::snprintf(text, sizeof text, "%u:%llu", engine,
                            static_cast<unsigned long long>(len > 1 ? load_be(p + 1, len - 1) : 0));
        } else {
          n = std::snprintf(text, sizeof text, "%u:", engine);
          for (std::size_t i = 1; i < len && i <= 32; ++i) {
            n += std::snprintf(text + n, sizeof text - static_cast<std::size_t>(n), "%02x",
                               static_cast<unsigned>(static_cast<std::uint8_t>(p[i])));
          }
        }
        batch.set<FieldId::Application>(row, std::string_view(text, static_cast<std::size_t>(n)));
        break;
      }
    }
    p += len;
  }

  // RFC 3954 §8 (v9) and IE 21/22: uptime-relative times. v9 anchors them to the header's
  // sysUpTime and export time; IPFIX to systemInitTimeMilliseconds from the record or options
  // data. The difference is taken modulo 2^32 so that an uptime wrap stays correct.
  if (uptime_first || uptime_last) {
    auto resolve = [&](std::uint32_t value) -> std::optional<std::int64_t> {
      if (ctx.sys_uptime) {
        auto behind = static_cast<std::int32_t>(*ctx.sys_uptime - value);
        return ctx.export_ms - behind;
      }
      std::optional<std::int64_t> base = init_ms;
      if (!base && dom != nullptr) base = dom->system_init_ms;
      if (!base) return std::nullopt;
      // As in v9: the record's age at export, modulo 2^32. An uptime just below 2^32 is a
      // time before systemInitTime (softflowd reading an older pcap sends those), not one 49.7
      // days after it; counted as an uptime wrap (nfdump reads them the same way).
      const auto uptime_at_export = static_cast<std::uint32_t>(ctx.export_ms - *base);
      const std::int64_t t = ctx.export_ms - static_cast<std::int32_t>(uptime_at_export - value);
      if (t != *base + value) ++stats_.of(ctx.key.exporter).uptime_wraps;
      return t;
    };
    if (uptime_first) {
      if (auto t = resolve(*uptime_first)) batch.set<FieldId::First>(row, *t);
    }
    if (uptime_last) {
      if (auto t = resolve(*uptime_last)) batch.set<FieldId::Last>(row, *t);
    }
  }

  if (!tpl.sets_sampling && dom != nullptr) {
    std::uint32_t interval = dom->default_sampling;
    if (sampler_id) {
      for (const auto& [id, value] : dom->samplers) {
        if (id == *sampler_id) interval = value;
      }
    }
    if (interval != 0) batch.set<FieldId::Sampling>(row, interval);
  }
  if (options_.scale_sampled) {
    std::uint32_t interval = batch.get<FieldId::Sampling>(row);
    if (interval > 1) {
      batch.set<FieldId::FlowPackets>(row, batch.get<FieldId::FlowPackets>(row) * interval);
      batch.set<FieldId::FlowBytes>(row, batch.get<FieldId::FlowBytes>(row) * interval);
    }
  }
  batch.set<FieldId::Exporter>(row, ctx.key.exporter);
  batch.set<FieldId::Version>(row, ctx.key.version);
  batch.set<FieldId::SourceId>(row, ctx.key.domain);
}

void TemplateEngine::apply_options(const CompiledTemplate& tpl, const DomainKey& key,
                                   DomainState& dom, const std::byte* p) {
  std::optional<std::uint32_t> sampler_id;
  std::optional<std::uint32_t> interval;
  std::optional<std::uint32_t> if_index;
  std::string_view if_name;
  std::string_view if_descr;
  auto text = [](const std::byte* data, std::size_t len) {
    // Names are NUL-padded to their fixed length by many exporters.
    std::string_view s(reinterpret_cast<const char*>(data), len);
    const std::size_t nul = s.find('\0');
    return nul == std::string_view::npos ? s : s.substr(0, nul);
  };
  for (const FieldOp& op : tpl.ops) {
    const std::size_t len = field_length(op, p);  // steps past a length prefix
    if (op.kind == OpKind::IfIndex || (op.kind == OpKind::UInt && op.field == FieldId::InIf)) {
      if_index = static_cast<std::uint32_t>(load_be(p, len));
    } else if (op.kind == OpKind::IfName) {
      if_name = text(p, len);
    } else if (op.kind == OpKind::IfDescr) {
      if_descr = text(p, len);
    } else if (op.kind == OpKind::SamplerId) {
      sampler_id = static_cast<std::uint32_t>(load_be(p, len));
    } else if (op.kind == OpKind::SystemInit) {
      dom.system_init_ms = static_cast<std::int64_t>(load_be(p, len));
    } else if (op.kind == OpKind::UInt && op.field == FieldId::Sampling) {
      interval = static_cast<std::uint32_t>(load_be(p, len));
    }
    p += len;
  }
  if (if_index && (!if_name.empty() || !if_descr.empty())) {
    if (interface_names_.size() < options_.limits.max_interface_names) {
      interface_names_.push_back(InterfaceName{key.exporter, key.domain, *if_index,
                                               std::string(if_name), std::string(if_descr)});
    } else {
      ++interface_names_dropped_;
    }
  }
  if (!interval) return;
  if (!sampler_id) {
    dom.default_sampling = *interval;
    return;
  }
  for (auto& [id, value] : dom.samplers) {
    if (id == *sampler_id) {
      value = *interval;
      return;
    }
  }
  if (dom.samplers.size() < kMaxSamplersPerDomain)
    dom.samplers.emplace_back(*sampler_id, *interval);
}

}  // namespace flowscope::decode
