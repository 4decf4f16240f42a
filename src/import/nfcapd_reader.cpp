#include "import/nfcapd_reader.h"

#include <charconv>
#include <fstream>
#include <sstream>

#include <bzlib.h>
#include <fmt/format.h>
#include <lz4.h>
#include <lzo/lzo1x.h>
#include <zstd.h>

#include "core/byte_reader.h"
#include "session/one_sided.h"

namespace flowscope::import {
namespace {

constexpr std::uint16_t kMagic = 0xA50C;
constexpr std::uint16_t kLayoutVersion1 = 1;
constexpr std::uint16_t kLayoutVersion2 = 2;
constexpr std::size_t kFileHeaderSize = 40;
constexpr std::size_t kBlockHeaderSize = 12;
// nfdump's block buffer (BUFFSIZE) is 5 MiB including the block header: no block it writes or
// reads is larger, so neither stored nor decompressed blocks may be.
constexpr std::size_t kMaxBlockBytes = 5 * 1024 * 1024 - kBlockHeaderSize;
constexpr std::uint16_t kBlockTypeRecords = 3;  // DATA_BLOCK_TYPE_3: individual records
constexpr std::uint16_t kBlockTypeArray = 4;    // DATA_BLOCK_TYPE_4: one array record
constexpr std::uint16_t kFlagBlockUncompressed = 0x1;

// Record types (nfdump id.h).
constexpr std::uint16_t kRecordV3 = 11;
constexpr std::uint16_t kRecordExporterInfo = 7;
constexpr std::uint16_t kRecordExporterStat = 8;
constexpr std::uint16_t kRecordSamplerLegacy = 9;
constexpr std::uint16_t kRecordNbar = 12;
constexpr std::uint16_t kRecordIfName = 13;
constexpr std::uint16_t kRecordVrfName = 14;
constexpr std::uint16_t kRecordSampler = 15;
constexpr std::size_t kV3HeaderSize = 12;

// V3 element types (nfxV3.h); lengths there include the 4-byte element header.
enum Element : std::uint16_t {
  kGenericFlow = 1,  // u64 first, last, received, packets, bytes; u16 ports; u8 proto, flags,
                     // fwd status, tos
  kIpv4Flow = 2,     // u32 src, dst
  kIpv6Flow = 3,     // u64[2] src, dst
  kFlowMisc = 4,     // u32 input, output; u8 src mask, dst mask, dir, dst tos, ...
  kCntFlow = 5,      // u64 flows, out packets, out bytes
  kVlan = 6,         // u32 src, dst
  kAsRouting = 7,    // u32 src, dst
  kBgpNextHopV4 = 8,
  kBgpNextHopV6 = 9,
  kIpNextHopV4 = 10,
  kIpNextHopV6 = 11,
  kIpReceivedV4 = 12,  // the exporter's address, as nfcapd received the packet from it
  kIpReceivedV6 = 13,
};

constexpr std::size_t kMaxExamples = 5;

IpAddress v6_from(ByteReader& r) {
  // nfdump keeps an IPv6 address as two host-order u64: the high then the low half.
  const std::uint64_t high = r.u64le();
  const std::uint64_t low = r.u64le();
  return IpAddress::from_u64(high, low);
}

// One record's values; zero-initialised as nfdump's master record is, so an absent element
// gives what nfdump prints for it.
struct FlowValues {
  std::uint64_t first = 0, last = 0, packets = 0, bytes = 0, out_packets = 0, out_bytes = 0;
  IpAddress src = IpAddress::v4(0), dst = IpAddress::v4(0);
  IpAddress next_hop = IpAddress::v4(0), exporter = IpAddress::v4(0);
  std::uint32_t in_if = 0, out_if = 0, src_as = 0, dst_as = 0, src_vlan = 0, dst_vlan = 0;
  std::uint16_t src_port = 0, dst_port = 0;
  std::uint8_t proto = 0, tcp_flags = 0, tos = 0, src_mask = 0, dst_mask = 0, direction = 0;
  bool has_misc = false;
};

// Decompresses into `out`, of kMaxBlockBytes; returns the decompressed size.
Result<std::size_t> inflate_block(NfcapdCompression method, std::span<const std::byte> in,
                                  std::span<std::byte> out) {
  const char* src = reinterpret_cast<const char*>(in.data());
  char* dst = reinterpret_cast<char*>(out.data());
  switch (method) {
    case NfcapdCompression::None: return Error{ErrorCode::InvalidArgument, "not compressed"};
    case NfcapdCompression::Lz4: {
      const int n =
          LZ4_decompress_safe(src, dst, static_cast<int>(in.size()), static_cast<int>(out.size()));
      if (n <= 0) return Error{ErrorCode::Corruption, fmt::format("LZ4 error {}", n)};
      return static_cast<std::size_t>(n);
    }
    case NfcapdCompression::Zstd: {
      const std::size_t n = ZSTD_decompress(dst, out.size(), src, in.size());
      if (ZSTD_isError(n)) {
        return Error{ErrorCode::Corruption, fmt::format("ZSTD: {}", ZSTD_getErrorName(n))};
      }
      return n;
    }
    case NfcapdCompression::Lzo: {
      static const int init = lzo_init();
      if (init != LZO_E_OK) return Error{ErrorCode::Io, "LZO: cannot initialise liblzo2"};
      lzo_uint n = out.size();
      const int rc = lzo1x_decompress_safe(reinterpret_cast<const unsigned char*>(src), in.size(),
                                           reinterpret_cast<unsigned char*>(dst), &n, nullptr);
      if (rc != LZO_E_OK) return Error{ErrorCode::Corruption, fmt::format("LZO error {}", rc)};
      return static_cast<std::size_t>(n);
    }
    case NfcapdCompression::Bz2: {
      bz_stream bs{};
      if (BZ2_bzDecompressInit(&bs, 0, 0) != BZ_OK) {
        return Error{ErrorCode::Io, "BZ2: cannot initialise libbz2"};
      }
      bs.next_in = const_cast<char*>(src);
      bs.avail_in = static_cast<unsigned>(in.size());
      bs.next_out = dst;
      bs.avail_out = static_cast<unsigned>(out.size());
      int rc = BZ_OK;
      while (rc == BZ_OK) {
        const unsigned in_before = bs.avail_in, out_before = bs.avail_out;
        rc = BZ2_bzDecompress(&bs);
        if (rc == BZ_OK && bs.avail_in == in_before && bs.avail_out == out_before) break;
      }
      const std::size_t n = out.size() - bs.avail_out;
      BZ2_bzDecompressEnd(&bs);
      if (rc != BZ_STREAM_END) {
        return Error{ErrorCode::Corruption,
                     rc == BZ_OK ? std::string("BZ2 stream ends early or is too large")
                                 : fmt::format("BZ2 error {}", rc)};
      }
      return n;
    }
  }
  return Error{ErrorCode::Unsupported, "unknown compression"};
}

}  // namespace

std::string_view nfcapd_compression_name(NfcapdCompression c) {
  switch (c) {
    case NfcapdCompression::None: return "none";
    case NfcapdCompression::Lzo: return "LZO";
    case NfcapdCompression::Bz2: return "BZ2";
    case NfcapdCompression::Lz4: return "LZ4";
    case NfcapdCompression::Zstd: return "ZSTD";
  }
  return "unknown";
}

void fix_nfdump_icmp_port(std::string& line) {
  // The destination port is the sixth column.
  std::size_t start = 0;
  for (int comma = 0; comma < 5; ++comma) {
    start = line.find(',', start);
    if (start == std::string::npos) return;
    ++start;
  }
  const std::size_t end = std::min(line.find(',', start), line.size());
  const std::size_t dot = line.find('.', start);
  if (dot >= end) return;
  unsigned type = 0, code = 0;
  const char* first = line.data() + start;
  while (first < line.data() + dot && *first == ' ') ++first;
  auto [p1, e1] = std::from_chars(first, line.data() + dot, type);
  auto [p2, e2] = std::from_chars(line.data() + dot + 1, line.data() + end, code);
  if (e1 != std::errc() || e2 != std::errc() || p1 != line.data() + dot ||
      p2 != line.data() + end || type > 255 || code > 255) {
    return;
  }
  line.replace(start, end - start, std::to_string(type * 256 + code));
}

bool is_nfcapd_magic(std::string_view head) {
  return head.size() >= 2 && static_cast<unsigned char>(head[0]) == (kMagic & 0xFF) &&
         static_cast<unsigned char>(head[1]) == (kMagic >> 8);
}

NfcapdReader::NfcapdReader() = default;
NfcapdReader::NfcapdReader(NfcapdReader&&) noexcept = default;
NfcapdReader& NfcapdReader::operator=(NfcapdReader&&) noexcept = default;
NfcapdReader::~NfcapdReader() = default;

Result<NfcapdReader> NfcapdReader::open(const std::filesystem::path& path) {
  auto in = std::make_unique<std::ifstream>(path, std::ios::binary);
  if (!*in) {
    return Error{ErrorCode::Io,
                 fmt::format("cannot open {}: check the path and permissions", path.string())};
  }
  return start(std::move(in), path.string());
}

Result<NfcapdReader> NfcapdReader::from_bytes(std::string bytes, std::string name) {
  return start(std::make_unique<std::istringstream>(std::move(bytes)), std::move(name));
}

Result<NfcapdReader> NfcapdReader::start(std::unique_ptr<std::istream> in, std::string name) {
  std::byte head[kFileHeaderSize] = {};
  in->read(reinterpret_cast<char*>(head), sizeof head);
  const auto got = static_cast<std::size_t>(in->gcount());
  ByteReader r(head, got);
  const std::uint16_t magic = r.u16le();
  const std::uint16_t version = r.u16le();
  if (r.failed() || (magic != kMagic && magic != 0x0CA5)) {
    return Error{ErrorCode::Malformed,
                 fmt::format("{}: not an nfdump file (no 0xA50C magic)", name)};
  }
  if (magic == 0x0CA5) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("{}: written on a big-endian machine, which is not supported; "
                             "convert it there with 'nfdump -r {} -y -w NEW'",
                             name, name)};
  }
  if (version == kLayoutVersion1) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("{}: nfdump 1.6 file (layout version 1), which is not read; "
                             "convert it with nfdump 1.7: 'nfdump -r {} -y -w NEW' (or import "
                             "it through nfdump: 'flowscope import --format nfdump')",
                             name, name)};
  }
  if (version != kLayoutVersion2) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("{}: unknown nfdump file layout version {} (version 2, nfdump "
                             "1.7, is read); if a newer nfdump wrote it, import it through that "
                             "nfdump: 'flowscope import --format nfdump'",
                             name, version)};
  }
  if (got < kFileHeaderSize) {
    return Error{ErrorCode::Truncated, fmt::format("{}: file header is cut short ({} of {} bytes)",
                                                   name, got, kFileHeaderSize)};
  }
  NfcapdReader reader;
  NfcapdFileInfo& info = reader.info_;
  info.nfdump_version = r.u32le();
  info.created = static_cast<std::int64_t>(r.u64le());
  const std::uint8_t compression = r.u8();
  const std::uint8_t encryption = r.u8();
  reader.appendix_blocks_ = r.u16le();  // ident and statistics, not needed
  info.creator = r.u32le();
  r.u64le();  // appendix offset
  r.u32le();  // block size (unused by nfdump 1.7)
  info.blocks = r.u32le();
  if (encryption != 0) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("{}: the file is encrypted (method {}), which is not supported", name,
                             encryption)};
  }
  if (compression > static_cast<std::uint8_t>(NfcapdCompression::Zstd)) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("{}: unknown compression method {}; rewrite the file with LZ4: "
                             "'nfdump -r {} -y -w NEW'",
                             name, compression, name)};
  }
  info.compression = static_cast<NfcapdCompression>(compression);
  reader.in_ = std::move(in);
  reader.name_ = std::move(name);
  return reader;
}

void NfcapdReader::skip(const std::string& reason, std::uint64_t records,
                        const std::string& detail) {
  stats_.skipped += records;
  stats_.skipped_by_reason[reason] += records;
  if (stats_.examples.size() < kMaxExamples) {
    stats_.examples.push_back(fmt::format("{}: {}", name_, detail));
  }
}

// Reads the next data block into records_; false at the end of the data (or when what follows
// cannot be trusted).
bool NfcapdReader::next_block() {
  while (!done_) {
    if (block_index_ >= info_.blocks) {
      if (info_.blocks == 0 && appendix_blocks_ == 0 &&
          in_->peek() != std::char_traits<char>::eof()) {
        // nfcapd writes the number of blocks into the header when it closes the file.
        skip("unfinished_file", 0,
             "the header lists no data blocks but data follows: a file nfcapd is still writing "
             "(nfcapd.current.*); import it once nfcapd has closed it");
      }
      done_ = true;
      break;
    }
    const std::uint32_t index = block_index_++;
    std::byte head[kBlockHeaderSize];
    in_->read(reinterpret_cast<char*>(head), sizeof head);
    const auto got = static_cast<std::size_t>(in_->gcount());
    ByteReader h(head, got);
    const std::uint32_t num_records = h.u32le();
    const std::uint32_t size = h.u32le();
    const std::uint16_t type = h.u16le();
    const std::uint16_t flags = h.u16le();
    if (h.failed()) {
      skip("truncated_file", 0,
           fmt::format("the file ends in block {} of {} (a file still being written, or cut "
                       "short)",
                       index + 1, info_.blocks));
      done_ = true;
      break;
    }
    if (size == 0 || size > kMaxBlockBytes || num_records == 0) {
      // The sizes of what follows cannot be trusted.
      skip("damaged_block", 0,
           fmt::format("block {} has an impossible header ({} records in {} bytes); the rest "
                       "of the file is not read",
                       index + 1, num_records, size));
      done_ = true;
      break;
    }
    raw_.resize(size);
    in_->read(reinterpret_cast<char*>(raw_.data()), size);
    if (static_cast<std::size_t>(in_->gcount()) != size) {
      skip("truncated_file", num_records,
           fmt::format("block {} of {} is cut short ({} of {} bytes; a file still being "
                       "written, or cut short)",
                       index + 1, info_.blocks, in_->gcount(), size));
      done_ = true;
      break;
    }
    if (type != kBlockTypeRecords) {
      // Array blocks (type 4) hold tables (NBAR names, ...), no flows.
      if (type != kBlockTypeArray) {
        skip("unknown_block_type", num_records,
             fmt::format("block {} is of unknown type {}", index + 1, type));
      }
      continue;
    }
    // Later nfdump releases may store a block plain in a compressed file, and say so.
    if (info_.compression == NfcapdCompression::None || (flags & kFlagBlockUncompressed) != 0) {
      records_ = raw_;
    } else {
      // Not zero-filled: a small file need not pay for clearing 5 MiB.
      if (!block_) block_.reset(new std::byte[kMaxBlockBytes]);
      auto n = inflate_block(info_.compression, raw_, std::span(block_.get(), kMaxBlockBytes));
      if (!n) {
        skip("damaged_block", num_records,
             fmt::format("block {} does not decompress ({})", index + 1, n.error().message));
        continue;
      }
      records_ = std::span<const std::byte>(block_.get(), *n);
    }
    records_left_ = num_records;
    return true;
  }
  records_ = {};
  records_left_ = 0;
  return false;
}

void NfcapdReader::parse_record(std::span<const std::byte> record, FlowBatch& out) {
  if (record.size() < kV3HeaderSize) {
    skip("malformed_record", 1,
         fmt::format("block {}: a flow record of {} bytes is shorter than its header", block_index_,
                     record.size()));
    return;
  }
  ByteReader r(record);
  r.skip(4);  // type and size, checked by the caller
  const std::uint16_t num_elements = r.u16le();
  r.skip(6);  // engine type and id, exporter id, flags, NetFlow version
  FlowValues v;
  for (std::uint16_t element_idx = 0; element_idx < num_elements; ++element_idx) {
    const std::uint16_t type = r.u16le();
    const std::uint16_t length = r.u16le();
    if (r.failed() || length < 4 || length - 4u > r.remaining()) {
      skip("malformed_record", 1,
           fmt::format("block {}: element {} of a flow record overruns it", block_index_,
                       element_idx + 1));
      return;
    }
    ByteReader e = r.take(length - 4u);
    switch (type) {
      case kGenericFlow:
        v.first = e.u64le();
        v.last = e.u64le();
        e.u64le();  // received
        v.packets = e.u64le();
        v.bytes = e.u64le();
        v.src_port = e.u16le();
        v.dst_port = e.u16le();
        v.proto = e.u8();
        v.tcp_flags = e.u8();
        e.u8();  // forwarding status
        v.tos = e.u8();
        break;
      case kIpv4Flow:
        v.src = IpAddress::v4(e.u32le());
        v.dst = IpAddress::v4(e.u32le());
        break;
      case kIpv6Flow:
        v.src = v6_from(e);
        v.dst = v6_from(e);
        break;
      case kFlowMisc:
        v.in_if = e.u32le();
        v.out_if = e.u32le();
        v.src_mask = e.u8();
        v.dst_mask = e.u8();
        v.direction = e.u8();
        v.has_misc = true;
        break;
      case kCntFlow:
        e.u64le();  // aggregated flows
        v.out_packets = e.u64le();
        v.out_bytes = e.u64le();
        break;
      case kVlan:
        v.src_vlan = e.u32le();
        v.dst_vlan = e.u32le();
        break;
      case kAsRouting:
        v.src_as = e.u32le();
        v.dst_as = e.u32le();
        break;
      case kIpNextHopV4: v.next_hop = IpAddress::v4(e.u32le()); break;
      case kIpNextHopV6: v.next_hop = v6_from(e); break;
      case kIpReceivedV4: v.exporter = IpAddress::v4(e.u32le()); break;
      case kIpReceivedV6: v.exporter = v6_from(e); break;
      default: break;  // BGP next hop, MPLS, MACs, latency, NSEL, ...: not imported
    }
    if (e.failed()) {
      skip("malformed_record", 1,
           fmt::format("block {}: element type {} of a flow record is too short ({} bytes)",
                       block_index_, type, length));
      return;
    }
  }
  const std::size_t row = out.add_row();
  out.set<FieldId::First>(row, static_cast<std::int64_t>(v.first));
  out.set<FieldId::Last>(row, static_cast<std::int64_t>(v.last));
  out.set<FieldId::SrcAddr>(row, v.src);
  out.set<FieldId::DstAddr>(row, v.dst);
  out.set<FieldId::SrcPort>(row, v.src_port);
  out.set<FieldId::DstPort>(row, v.dst_port);
  out.set<FieldId::Proto>(row, v.proto);
  out.set<FieldId::TcpFlags>(row, v.tcp_flags);
  out.set<FieldId::FlowPackets>(row, v.packets);
  out.set<FieldId::FlowBytes>(row, v.bytes);
  out.set<FieldId::OutPackets>(row, v.out_packets);
  out.set<FieldId::OutBytes>(row, v.out_bytes);
  out.set<FieldId::InIf>(row, v.in_if);
  out.set<FieldId::OutIf>(row, v.out_if);
  out.set<FieldId::SrcAs>(row, v.src_as);
  out.set<FieldId::DstAs>(row, v.dst_as);
  out.set<FieldId::Tos>(row, v.tos);
  out.set<FieldId::NextHop>(row, v.next_hop);
  out.set<FieldId::Exporter>(row, v.exporter);
  // VLAN ids are 12 bits; nfdump keeps 32. A value that does not fit stays absent.
  if (v.src_vlan <= 0xFFFF) out.set<FieldId::SrcVlan>(row, static_cast<std::uint16_t>(v.src_vlan));
  if (v.dst_vlan <= 0xFFFF) out.set<FieldId::DstVlan>(row, static_cast<std::uint16_t>(v.dst_vlan));
  if (v.has_misc) {
    // Flow-only fields (sessions have none): for callers of read_flows.
    out.set<FieldId::SrcMask>(row, v.src_mask);
    out.set<FieldId::DstMask>(row, v.dst_mask);
    out.set<FieldId::Direction>(row, v.direction);
  }
  ++stats_.records;
}

bool NfcapdReader::read_flows(FlowBatch& out, std::size_t max_rows) {
  std::size_t added = 0;
  while (added < max_rows) {
    if (records_left_ == 0 && !next_block()) return false;
    if (records_.size() < 4) {
      skip("damaged_block", records_left_,
           fmt::format("block {} holds fewer records than its header says", block_index_));
      records_left_ = 0;
      continue;
    }
    const auto type = static_cast<std::uint16_t>(std::to_integer<unsigned>(records_[0]) |
                                                 std::to_integer<unsigned>(records_[1]) << 8);
    const auto size = static_cast<std::uint16_t>(std::to_integer<unsigned>(records_[2]) |
                                                 std::to_integer<unsigned>(records_[3]) << 8);
    if (size < 4 || size > records_.size()) {
      skip("damaged_block", records_left_,
           fmt::format("block {}: a record of {} bytes overruns the block", block_index_, size));
      records_left_ = 0;
      continue;
    }
    const auto record = records_.first(size);
    records_ = records_.subspan(size);
    --records_left_;
    switch (type) {
      case kRecordV3: {
        const std::size_t before = out.size();
        parse_record(record, out);
        added += out.size() - before;
        break;
      }
      case kRecordExporterInfo:
      case kRecordExporterStat:
      case kRecordSamplerLegacy:
      case kRecordNbar:
      case kRecordIfName:
      case kRecordVrfName:
      case kRecordSampler: break;  // tables about exporters and names, no flows
      default:
        skip("unknown_record_type", 1,
             fmt::format("block {}: a record of type {} (not a flow record of nfdump 1.7)",
                         block_index_, type));
        break;
    }
  }
  return records_left_ > 0 || block_index_ < info_.blocks;
}

bool NfcapdReader::read(SessionBatch& out, std::size_t max_rows) {
  if (!scratch_) scratch_ = std::make_unique<FlowBatch>(std::min<std::size_t>(max_rows, 8192));
  scratch_->clear();
  const bool more = read_flows(*scratch_, max_rows);
  session::append_one_sided(*scratch_, out);
  return more;
}

}  // namespace flowscope::import
