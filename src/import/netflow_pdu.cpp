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
constexpr VersionShape kShapes[] = {
    {1, 16, 48, 24}, {5, 24, 48, 30}, {7, 24, 52, 28}, {8, 28, 28, 51}};

const VersionShape* shape_of(std::uint16_t version) {
  for (const VersionShape& s : kShapes) {
    if (s.version == version) return &s;
  }
  return nullptr;
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
  const VersionShape* shape = shape_of(pdu.version);
  if (!shape) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("NetFlow version {} is not supported by FlowPDU (1, 5, 7 and 8.1 are)",
                             pdu.version)};
  }
  if (pdu.count == 0 || pdu.count > shape->max_count) {
    return Error{ErrorCode::Malformed,
                 fmt::format("NetFlow v{} PDU says count {}; a PDU holds 1 to {} records",
                             pdu.version, pdu.count, shape->max_count)};
  }
  const std::size_t expected = shape->header + shape->record * pdu.count;
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
  if (!layout) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("NetFlow v8.{} aggregation is not supported by FlowPDU (8.1, the AS "
                             "matrix, is)",
                             pdu.agg_method)};
  }
  pdu.layout = *layout;
  pdu.records.resize(pdu.count);
  for (FtRecord& rec : pdu.records) {
    ByteReader f = r.take(shape->record);
    rec.set(F::UnixSecs, pdu.unix_secs);
    rec.set(F::UnixNsecs, pdu.unix_nsecs);
    rec.set(F::SysUpTime, pdu.sys_uptime);
    rec.set(F::Exaddr, exporter);
    if (pdu.version == 8) {  // 8.1: flows, packets, octets, first, last, AS pair, interfaces
      rec.set(F::DFlows, f.u32be());
      rec.set(F::DPkts, f.u32be());
      rec.set(F::DOctets, f.u32be());
      rec.set(F::First, f.u32be());
      rec.set(F::Last, f.u32be());
      rec.set(F::SrcAs, f.u16be());
      rec.set(F::DstAs, f.u16be());
      rec.set(F::Input, f.u16be());
      rec.set(F::Output, f.u16be());
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
  const VersionShape* shape = shape_of(pdu.version);
  if (!shape) {
    return Error{
        ErrorCode::Unsupported,
        fmt::format("NetFlow version {} cannot be encoded (1, 5, 7 and 8.1 can)", pdu.version)};
  }
  if (pdu.version == 8 && pdu.agg_method != 1) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("NetFlow v8.{} cannot be encoded (8.1 can)", pdu.agg_method)};
  }
  if (pdu.records.empty() || pdu.records.size() > shape->max_count) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("a NetFlow v{} PDU holds 1 to {} records, not {}", pdu.version,
                             shape->max_count, pdu.records.size())};
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
    if (pdu.version == 8) {
      for (F f : {F::DFlows, F::DPkts, F::DOctets, F::First, F::Last}) w.u32be(rec.get(f));
      for (F f : {F::SrcAs, F::DstAs, F::Input, F::Output}) {
        w.u16be(static_cast<std::uint16_t>(rec.get(f)));
      }
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
