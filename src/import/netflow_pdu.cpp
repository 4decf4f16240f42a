#include "import/netflow_pdu.h"

#include <fmt/format.h>

#include "core/byte_reader.h"
#include "core/byte_writer.h"

namespace flowscope::import {
namespace {

using F = FtField;

struct VersionShape {
  std::uint16_t version;
  std::size_t header;
  std::size_t record;
  std::size_t max_count;
};
// v8's record size and limit depend on the aggregation: see kV8Shapes.
constexpr VersionShape kShapes[] = {{1, 16, 48, 24}, {5, 24, 48, 30}, {7, 24, 52, 28}};
constexpr std::size_t kV8Header = 28;

const VersionShape* shape_of(std::uint16_t version) {
  for (const VersionShape& s : kShapes) {
    if (s.version == version) return &s;
  }
  return nullptr;
}

// The v8 aggregation records as Cisco exports them (big-endian; the layouts and per-PDU limits
// flow-tools reads, docs/python.md "FlowPDU"): where each field sits in the wire record. Every
// field has the width of its flow-tools field (import/flowtools_format.h), so one generic
// big-endian reader and writer (decode_ft_record/encode_ft_record) handles them all; bytes not
// listed are pads and reserved, written as zero.
#define V8_COUNTS \
  {F::DFlows, 0}, {F::DPkts, 4}, {F::DOctets, 8}, {F::First, 12}, { F::Last, 16 }
constexpr FtSlot kW8_1[] = {
    V8_COUNTS, {F::SrcAs, 20}, {F::DstAs, 22}, {F::Input, 24}, {F::Output, 26}};
constexpr FtSlot kW8_2[] = {V8_COUNTS, {F::Prot, 20}, {F::Srcport, 24}, {F::Dstport, 26}};
constexpr FtSlot kW8_3[] = {
    V8_COUNTS, {F::Srcaddr, 20}, {F::SrcMask, 24}, {F::SrcAs, 26}, {F::Input, 28}};
constexpr FtSlot kW8_4[] = {
    V8_COUNTS, {F::Dstaddr, 20}, {F::DstMask, 24}, {F::DstAs, 26}, {F::Output, 28}};
constexpr FtSlot kW8_5[] = {V8_COUNTS,        {F::Srcaddr, 20}, {F::Dstaddr, 24},
                            {F::DstMask, 28}, {F::SrcMask, 29}, {F::SrcAs, 32},
                            {F::DstAs, 34},   {F::Input, 36},   {F::Output, 38}};
constexpr FtSlot kW8_6[] = {
    {F::Dstaddr, 0}, {F::DPkts, 4}, {F::DOctets, 8},    {F::First, 12},     {F::Last, 16},
    {F::Output, 20}, {F::Tos, 22},  {F::MarkedTos, 23}, {F::ExtraPkts, 24}, {F::RouterSc, 28}};
constexpr FtSlot kW8_7[] = {{F::Dstaddr, 0},    {F::Srcaddr, 4},    {F::DPkts, 8},
                            {F::DOctets, 12},   {F::First, 16},     {F::Last, 20},
                            {F::Output, 24},    {F::Input, 26},     {F::Tos, 28},
                            {F::MarkedTos, 29}, {F::ExtraPkts, 32}, {F::RouterSc, 36}};
constexpr FtSlot kW8_8[] = {
    {F::Dstaddr, 0},  {F::Srcaddr, 4}, {F::Dstport, 8},    {F::Srcport, 10},   {F::DPkts, 12},
    {F::DOctets, 16}, {F::First, 20},  {F::Last, 24},      {F::Output, 28},    {F::Input, 30},
    {F::Tos, 32},     {F::Prot, 33},   {F::MarkedTos, 34}, {F::ExtraPkts, 36}, {F::RouterSc, 40}};
constexpr FtSlot kW8_9[] = {V8_COUNTS,      {F::SrcAs, 20},  {F::DstAs, 22},
                            {F::Input, 24}, {F::Output, 26}, {F::Tos, 28}};
constexpr FtSlot kW8_10[] = {V8_COUNTS,        {F::Prot, 20},  {F::Tos, 21},   {F::Srcport, 24},
                             {F::Dstport, 26}, {F::Input, 28}, {F::Output, 30}};
constexpr FtSlot kW8_11[] = {V8_COUNTS,    {F::Srcaddr, 20}, {F::SrcMask, 24},
                             {F::Tos, 25}, {F::SrcAs, 26},   {F::Input, 28}};
constexpr FtSlot kW8_12[] = {V8_COUNTS,    {F::Dstaddr, 20}, {F::DstMask, 24},
                             {F::Tos, 25}, {F::DstAs, 26},   {F::Output, 28}};
constexpr FtSlot kW8_13[] = {V8_COUNTS,        {F::Srcaddr, 20}, {F::Dstaddr, 24}, {F::DstMask, 28},
                             {F::SrcMask, 29}, {F::Tos, 30},     {F::SrcAs, 32},   {F::DstAs, 34},
                             {F::Input, 36},   {F::Output, 38}};
constexpr FtSlot kW8_14[] = {V8_COUNTS,        {F::Srcaddr, 20}, {F::Dstaddr, 24}, {F::DstMask, 28},
                             {F::SrcMask, 29}, {F::Tos, 30},     {F::Prot, 31},    {F::Srcport, 32},
                             {F::Dstport, 34}, {F::Input, 36},   {F::Output, 38}};
#undef V8_COUNTS

struct V8Shape {
  FtLayout wire;  // version 8, the aggregation, the wire record size and its slots
  std::size_t max_count;
};
constexpr V8Shape kV8Shapes[] = {
    {{8, 1, 28, kW8_1, 0}, 51},   {{8, 2, 28, kW8_2, 0}, 51},   {{8, 3, 32, kW8_3, 0}, 44},
    {{8, 4, 32, kW8_4, 0}, 44},   {{8, 5, 40, kW8_5, 0}, 35},   {{8, 6, 32, kW8_6, 0}, 44},
    {{8, 7, 40, kW8_7, 0}, 35},   {{8, 8, 44, kW8_8, 0}, 32},   {{8, 9, 32, kW8_9, 0}, 44},
    {{8, 10, 32, kW8_10, 0}, 44}, {{8, 11, 32, kW8_11, 0}, 44}, {{8, 12, 32, kW8_12, 0}, 44},
    {{8, 13, 40, kW8_13, 0}, 35}, {{8, 14, 40, kW8_14, 0}, 35},
};

const V8Shape* v8_shape_of(std::uint8_t agg_method) {
  for (const V8Shape& s : kV8Shapes) {
    if (s.wire.agg_method == agg_method) return &s;
  }
  return nullptr;
}

Error unsupported_aggregation(std::uint8_t agg_method, std::string_view what) {
  return Error{ErrorCode::Unsupported,
               fmt::format("NetFlow v8.{} aggregation is not supported {} (8.1 to 8.14 are)",
                           agg_method, what)};
}

}  // namespace

Result<NetflowPdu> decode_netflow_pdu(std::uint32_t exporter, std::span<const std::byte> bytes) {
  ByteReader r(bytes);
  NetflowPdu pdu;
  pdu.exporter = exporter;
  pdu.version = r.u16be();
  pdu.count = r.u16be();
  if (r.failed()) {
    return Error{ErrorCode::Truncated,
                 fmt::format("NetFlow PDU of {} bytes is shorter than a header", bytes.size())};
  }
  std::size_t header = 0, record = 0, max_count = 0;
  const V8Shape* v8 = nullptr;
  if (const VersionShape* shape = shape_of(pdu.version)) {
    header = shape->header;
    record = shape->record;
    max_count = shape->max_count;
  } else if (pdu.version == 8) {
    // The record layout depends on the aggregation, byte 22 of the 28-byte header.
    if (bytes.size() < kV8Header) {
      return Error{ErrorCode::Truncated,
                   fmt::format("NetFlow v8 PDU of {} bytes is shorter than its {}-byte header",
                               bytes.size(), kV8Header)};
    }
    pdu.agg_method = std::to_integer<std::uint8_t>(bytes[22]);
    v8 = v8_shape_of(pdu.agg_method);
    if (!v8) return unsupported_aggregation(pdu.agg_method, "by FlowPDU");
    header = kV8Header;
    record = v8->wire.record_size;
    max_count = v8->max_count;
  } else {
    return Error{ErrorCode::Unsupported,
                 fmt::format("NetFlow version {} is not supported by FlowPDU (1, 5, 7, 8.1 to "
                             "8.14, and 9 and 10 with a template cache are)",
                             pdu.version)};
  }
  if (pdu.count == 0 || pdu.count > max_count) {
    return Error{
        ErrorCode::Malformed,
        fmt::format("NetFlow v{} PDU says count {}; a PDU holds 1 to {} records",
                    v8 ? fmt::format("8.{}", pdu.agg_method) : fmt::format("{}", pdu.version),
                    pdu.count, max_count)};
  }
  const std::size_t expected = header + record * pdu.count;
  if (bytes.size() != expected) {
    return Error{ErrorCode::Malformed,
                 fmt::format("NetFlow v{} PDU with count {} must be {} bytes, got {}", pdu.version,
                             pdu.count, expected, bytes.size())};
  }
  pdu.sys_uptime = r.u32be();
  pdu.unix_secs = r.u32be();
  pdu.unix_nsecs = r.u32be();
  if (pdu.version != 1) {
    pdu.flow_sequence = r.u32be();
    if (pdu.version == 5) {
      pdu.engine_type = r.u8();
      pdu.engine_id = r.u8();
      pdu.sampling = r.u16be();
    } else if (pdu.version == 8) {
      pdu.engine_type = r.u8();
      pdu.engine_id = r.u8();
      pdu.agg_method = r.u8();
      pdu.agg_version = r.u8();
      r.skip(4);  // reserved
    } else {
      r.skip(4);  // v7: reserved
    }
  }
  auto layout = find_ft_layout(pdu.version, pdu.agg_method);
  if (!layout) return unsupported_aggregation(pdu.agg_method, "by FlowPDU");
  pdu.layout = *layout;
  pdu.records.resize(pdu.count);
  for (FtRecord& rec : pdu.records) {
    ByteReader f = r.take(record);
    rec.set(F::UnixSecs, pdu.unix_secs);
    rec.set(F::UnixNsecs, pdu.unix_nsecs);
    rec.set(F::SysUpTime, pdu.sys_uptime);
    rec.set(F::Exaddr, exporter);
    if (v8) {
      decode_ft_record(v8->wire, true, f.rest(), rec);
      rec.set(F::EngineType, pdu.engine_type);
      rec.set(F::EngineId, pdu.engine_id);
      continue;
    }
    rec.set(F::Srcaddr, f.u32be());
    rec.set(F::Dstaddr, f.u32be());
    rec.set(F::Nexthop, f.u32be());
    rec.set(F::Input, f.u16be());
    rec.set(F::Output, f.u16be());
    rec.set(F::DPkts, f.u32be());
    rec.set(F::DOctets, f.u32be());
    rec.set(F::First, f.u32be());
    rec.set(F::Last, f.u32be());
    rec.set(F::Srcport, f.u16be());
    rec.set(F::Dstport, f.u16be());
    if (pdu.version == 1) {
      f.skip(2);  // pad
      rec.set(F::Prot, f.u8());
      rec.set(F::Tos, f.u8());
      rec.set(F::TcpFlags, f.u8());
      continue;  // the rest is padding and reserved
    }
    f.skip(1);  // pad
    rec.set(F::TcpFlags, f.u8());
    rec.set(F::Prot, f.u8());
    rec.set(F::Tos, f.u8());
    rec.set(F::SrcAs, f.u16be());
    rec.set(F::DstAs, f.u16be());
    rec.set(F::SrcMask, f.u8());
    rec.set(F::DstMask, f.u8());
    if (pdu.version == 5) {
      rec.set(F::EngineType, pdu.engine_type);
      rec.set(F::EngineId, pdu.engine_id);
    } else {
      f.skip(2);  // v7 flags
      rec.set(F::RouterSc, f.u32be());
    }
  }
  if (r.failed()) return Error{ErrorCode::Truncated, "NetFlow PDU records are cut short"};
  return pdu;
}

Result<std::vector<std::byte>> encode_netflow_pdu(const NetflowPdu& pdu) {
  std::size_t max_count = 0;
  const V8Shape* v8 = nullptr;
  if (const VersionShape* shape = shape_of(pdu.version)) {
    max_count = shape->max_count;
  } else if (pdu.version == 8) {
    v8 = v8_shape_of(pdu.agg_method);
    if (!v8) return unsupported_aggregation(pdu.agg_method, "for encoding");
    max_count = v8->max_count;
  } else {
    return Error{ErrorCode::Unsupported,
                 fmt::format("NetFlow version {} cannot be encoded (1, 5, 7 and 8.1 to 8.14 can)",
                             pdu.version)};
  }
  if (pdu.records.empty() || pdu.records.size() > max_count) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("a NetFlow v{} PDU holds 1 to {} records, not {}", pdu.version,
                             max_count, pdu.records.size())};
  }
  std::vector<std::byte> out;
  ByteWriter w(out);
  w.u16be(pdu.version);
  w.u16be(static_cast<std::uint16_t>(pdu.records.size()));
  w.u32be(pdu.sys_uptime);
  w.u32be(pdu.unix_secs);
  w.u32be(pdu.unix_nsecs);
  if (pdu.version != 1) {
    w.u32be(pdu.flow_sequence);
    if (pdu.version == 5) {
      w.u8(pdu.engine_type);
      w.u8(pdu.engine_id);
      w.u16be(pdu.sampling);
    } else if (pdu.version == 8) {
      w.u8(pdu.engine_type);
      w.u8(pdu.engine_id);
      w.u8(pdu.agg_method);
      w.u8(pdu.agg_version);
      w.zeros(4);
    } else {
      w.zeros(4);
    }
  }
  for (const FtRecord& rec : pdu.records) {
    if (v8) {
      const std::size_t at = out.size();
      w.zeros(v8->wire.record_size);
      encode_ft_record(v8->wire, true, rec, std::span(out).subspan(at));
      continue;
    }
    w.u32be(rec.get(F::Srcaddr));
    w.u32be(rec.get(F::Dstaddr));
    w.u32be(rec.get(F::Nexthop));
    w.u16be(static_cast<std::uint16_t>(rec.get(F::Input)));
    w.u16be(static_cast<std::uint16_t>(rec.get(F::Output)));
    w.u32be(rec.get(F::DPkts));
    w.u32be(rec.get(F::DOctets));
    w.u32be(rec.get(F::First));
    w.u32be(rec.get(F::Last));
    w.u16be(static_cast<std::uint16_t>(rec.get(F::Srcport)));
    w.u16be(static_cast<std::uint16_t>(rec.get(F::Dstport)));
    auto u8 = [&](F f) { w.u8(static_cast<std::uint8_t>(rec.get(f))); };
    if (pdu.version == 1) {
      w.zeros(2);
      u8(F::Prot);
      u8(F::Tos);
      u8(F::TcpFlags);
      w.zeros(7);
      continue;
    }
    w.zeros(1);
    u8(F::TcpFlags);
    u8(F::Prot);
    u8(F::Tos);
    w.u16be(static_cast<std::uint16_t>(rec.get(F::SrcAs)));
    w.u16be(static_cast<std::uint16_t>(rec.get(F::DstAs)));
    u8(F::SrcMask);
    u8(F::DstMask);
    if (pdu.version == 5) {
      w.zeros(2);
    } else {
      w.zeros(2);
      w.u32be(rec.get(F::RouterSc));
    }
  }
  return out;
}

}  // namespace flowscope::import
