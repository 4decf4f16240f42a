#include "store/flowtools_reader.h"

#include <fmt/format.h>
#include <zlib.h>

#include "core/byte_reader.h"
#include "store/file_util.h"
#include "store/format.h"
#include "store/one_sided.h"

namespace flowscope::store {
namespace {

constexpr std::uint8_t kMagic1 = 0xCF;
constexpr std::uint8_t kMagic2 = 0x10;
constexpr std::uint16_t kTlvExportVersion = 0x2;
constexpr std::uint16_t kTlvHeaderFlags = 0x8;
constexpr std::uint32_t kFlagCompress = 0x2;

// Reads integers in the file's byte order.
struct OrderedReader {
  ByteReader r;
  bool big;
  std::uint16_t u16() { return big ? r.u16be() : r.u16le(); }
  std::uint32_t u32() { return big ? r.u32be() : r.u32le(); }
  std::uint8_t u8() { return r.u8(); }
};

Result<std::string> inflate_all(std::span<const std::byte> in, const std::string& name) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return Error{ErrorCode::Io, "zlib: cannot initialise"};
  std::string out;
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  zs.avail_in = static_cast<uInt>(in.size());
  int rc = Z_OK;
  char buf[1 << 16];
  while (rc == Z_OK) {
    zs.next_out = reinterpret_cast<Bytef*>(buf);
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    out.append(buf, sizeof buf - zs.avail_out);
    if (rc == Z_BUF_ERROR && zs.avail_in == 0) break;  // stream cut short: keep what inflated
  }
  inflateEnd(&zs);
  if (rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
    return Error{ErrorCode::Corruption,
                 fmt::format("{}: compressed records are damaged (zlib error {}) after {} "
                             "bytes",
                             name, rc, out.size())};
  }
  return out;
}

}  // namespace

Result<FlowtoolsReader> FlowtoolsReader::open(const std::filesystem::path& path) {
  FlowtoolsReader reader;
  reader.name_ = path.filename().string();
  auto data = read_file(path);
  if (!data) return data.error();
  ByteReader r(as_bytes(*data));
  const std::uint8_t m1 = r.u8(), m2 = r.u8(), order = r.u8(), stream_version = r.u8();
  if (r.failed() || m1 != kMagic1 || m2 != kMagic2) {
    return Error{ErrorCode::Malformed,
                 fmt::format("{}: not a flow-tools file (no 0xCF10 magic)", path.string())};
  }
  if (stream_version != 3 || (order != 1 && order != 2)) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("{}: flow-tools stream version {} (byte order {}) is not supported; "
                             "convert it with 'flow-cat' from a current flow-tools",
                             path.string(), stream_version, order)};
  }
  reader.big_endian_ = order == 2;
  OrderedReader h{r, reader.big_endian_};
  const std::uint32_t header_size = h.u32();
  if (h.r.failed() || header_size < 8 || header_size > data->size()) {
    return Error{ErrorCode::Truncated, fmt::format("{}: header is cut short", path.string())};
  }
  OrderedReader tlv{ByteReader(as_bytes(*data).subspan(8, header_size - 8)), reader.big_endian_};
  std::uint32_t flags = 0;
  while (tlv.r.remaining() >= 4) {
    const std::uint16_t type = tlv.u16();
    const std::uint16_t len = tlv.u16();
    OrderedReader value{tlv.r.take(len), reader.big_endian_};
    if (type == kTlvExportVersion) reader.version_ = value.u16();
    if (type == kTlvHeaderFlags) flags = value.u32();
  }
  switch (reader.version_) {
    case 1: reader.record_size_ = 60; break;
    case 5: reader.record_size_ = 64; break;
    case 7: reader.record_size_ = 68; break;
    default:
      return Error{ErrorCode::Unsupported,
                   fmt::format("{}: flow-tools export version {} is not supported (1, 5 and 7 "
                               "are); 'flow-export -f2' can turn it into CSV",
                               path.string(), reader.version_)};
  }
  auto body = as_bytes(*data).subspan(header_size);
  if (flags & kFlagCompress) {
    auto inflated = inflate_all(body, path.string());
    if (!inflated) return inflated.error();
    reader.records_ = std::move(*inflated);
  } else {
    reader.records_.assign(reinterpret_cast<const char*>(body.data()), body.size());
  }
  return reader;
}

bool FlowtoolsReader::read(SessionBatch& out, std::size_t max_rows) {
  FlowBatch flows(std::min<std::size_t>(max_rows, 4096));
  while (flows.size() < max_rows && records_.size() - pos_ >= record_size_) {
    OrderedReader r{ByteReader(as_bytes(records_).subspan(pos_, record_size_)), big_endian_};
    pos_ += record_size_;
    const std::uint32_t unix_secs = r.u32(), unix_nsecs = r.u32(), uptime = r.u32();
    const std::uint32_t exaddr = r.u32(), src = r.u32(), dst = r.u32(), nexthop = r.u32();
    const std::uint16_t in_if = r.u16(), out_if = r.u16();
    const std::uint32_t packets = r.u32(), bytes = r.u32(), first = r.u32(), last = r.u32();
    const std::uint16_t src_port = r.u16(), dst_port = r.u16();
    const std::uint8_t proto = r.u8(), tos = r.u8(), flags = r.u8();
    std::uint16_t src_as = 0, dst_as = 0;
    if (version_ != 1) {
      r.u8();  // pad
      r.u8();  // engine type
      r.u8();  // engine id
      r.u8();  // src mask: one-sided sessions have no mask fields
      r.u8();  // dst mask
      src_as = r.u16();
      dst_as = r.u16();
    }
    // Flow times are router uptimes; the record's export time anchors them (as flow-tools'
    // ftltime does), with uptime wrap-around handled by unsigned subtraction.
    const std::int64_t now_ms = std::int64_t{unix_secs} * 1000 + unix_nsecs / 1'000'000;
    const std::size_t row = flows.add_row();
    flows.set<FieldId::Exporter>(row, IpAddress::v4(exaddr));
    flows.set<FieldId::SrcAddr>(row, IpAddress::v4(src));
    flows.set<FieldId::DstAddr>(row, IpAddress::v4(dst));
    flows.set<FieldId::NextHop>(row, IpAddress::v4(nexthop));
    flows.set<FieldId::InIf>(row, in_if);
    flows.set<FieldId::OutIf>(row, out_if);
    flows.set<FieldId::FlowPackets>(row, packets);
    flows.set<FieldId::FlowBytes>(row, bytes);
    flows.set<FieldId::First>(row, now_ms - static_cast<std::uint32_t>(uptime - first));
    flows.set<FieldId::Last>(row, now_ms - static_cast<std::uint32_t>(uptime - last));
    flows.set<FieldId::SrcPort>(row, src_port);
    flows.set<FieldId::DstPort>(row, dst_port);
    flows.set<FieldId::Proto>(row, proto);
    flows.set<FieldId::Tos>(row, tos);
    flows.set<FieldId::TcpFlags>(row, flags);
    flows.set<FieldId::Version>(row, static_cast<std::uint8_t>(version_));
    if (version_ != 1) {
      flows.set<FieldId::SrcAs>(row, src_as);
      flows.set<FieldId::DstAs>(row, dst_as);
    }
    ++stats_.records;
  }
  append_one_sided(flows, out);
  const bool more = records_.size() - pos_ >= record_size_;
  if (!more && pos_ < records_.size()) {
    // A capture still being written (or cut short) ends inside a record.
    ++stats_.skipped;
    ++stats_.skipped_by_reason["truncated_record"];
    stats_.examples.push_back(
        fmt::format("{}: last {} bytes are a partial record", name_, records_.size() - pos_));
    pos_ = records_.size();
  }
  return more;
}

}  // namespace flowscope::store
