#include "import/flowtools_format.h"

#include <algorithm>

#include <fmt/format.h>
#include <zlib.h>

namespace flowscope::import {
namespace {

constexpr std::uint8_t kMagic1 = 0xCF;
constexpr std::uint8_t kMagic2 = 0x10;
constexpr std::uint8_t kStreamVersion = 3;

enum Tlv : std::uint16_t {
  kTlvExVer = 0x2,
  kTlvAggVer = 0x3,
  kTlvAggMethod = 0x4,
  kTlvExporterIp = 0x5,
  kTlvCapStart = 0x6,
  kTlvCapEnd = 0x7,
  kTlvHeaderFlags = 0x8,
  kTlvRotSchedule = 0x9,
  kTlvFlowCount = 0xa,
  kTlvFlowLost = 0xb,
  kTlvFlowMisordered = 0xc,
  kTlvPktCorrupt = 0xd,
  kTlvSeqReset = 0xe,
  kTlvCapHostname = 0xf,
  kTlvComments = 0x10,
};

using F = FtField;

// The common start of every record: what the PDU header said, and the exporter.
#define FT_HEAD \
  {F::UnixSecs, 0}, {F::UnixNsecs, 4}, {F::SysUpTime, 8}, { F::Exaddr, 12 }
// v1/v5/v6/v7/v1005 share bytes 16..55.
#define FT_V1_BODY                                                                       \
  {F::Srcaddr, 16}, {F::Dstaddr, 20}, {F::Nexthop, 24}, {F::Input, 28}, {F::Output, 30}, \
      {F::DPkts, 32}, {F::DOctets, 36}, {F::First, 40}, {F::Last, 44}, {F::Srcport, 48}, \
      {F::Dstport, 50}, {F::Prot, 52}, {F::Tos, 53}, {                                   \
    F::TcpFlags, 54                                                                      \
  }
// v5 adds after a pad byte at 55.
#define FT_V5_TAIL                                                                              \
  {F::EngineType, 56}, {F::EngineId, 57}, {F::SrcMask, 58}, {F::DstMask, 59}, {F::SrcAs, 60}, { \
    F::DstAs, 62                                                                                \
  }

constexpr FtSlot kV1[] = {FT_HEAD, FT_V1_BODY};
constexpr FtSlot kV5[] = {FT_HEAD, FT_V1_BODY, FT_V5_TAIL};
constexpr FtSlot kV6[] = {FT_HEAD,           FT_V1_BODY,         FT_V5_TAIL,
                          {F::InEncaps, 64}, {F::OutEncaps, 65}, {F::PeerNexthop, 68}};
constexpr FtSlot kV7[] = {FT_HEAD, FT_V1_BODY, FT_V5_TAIL, {F::RouterSc, 64}};
constexpr FtSlot kV1005[] = {FT_HEAD, FT_V1_BODY, FT_V5_TAIL, {F::SrcTag, 64}, {F::DstTag, 68}};
// v8.1, the AS matrix aggregation.
constexpr FtSlot kV8_1[] = {FT_HEAD,          {F::DFlows, 16},     {F::DPkts, 20},
                            {F::DOctets, 24}, {F::First, 28},      {F::Last, 32},
                            {F::SrcAs, 36},   {F::DstAs, 38},      {F::Input, 40},
                            {F::Output, 42},  {F::EngineType, 44}, {F::EngineId, 45}};
// The v8 aggregations after 8.1, as flow-tools stores them. 8.3, 8.11 and 8.12 store the
// exporter before sysUpTime; 8.6 to 8.8 have no flow count.
#define FT_V8_HEAD(ex, up) \
  {F::UnixSecs, 0}, {F::UnixNsecs, 4}, {F::SysUpTime, up}, { F::Exaddr, ex }
#define FT_V8_COUNTS \
  {F::DFlows, 16}, {F::DPkts, 20}, {F::DOctets, 24}, {F::First, 28}, { F::Last, 32 }
#define FT_V8_TOS_COUNTS \
  {F::DPkts, 16}, {F::DOctets, 20}, {F::First, 24}, { F::Last, 28 }
constexpr FtSlot kV8_2[] = {FT_V8_HEAD(12, 8), FT_V8_COUNTS,     {F::Prot, 36},
                            {F::Srcport, 40},  {F::Dstport, 42}, {F::EngineType, 44},
                            {F::EngineId, 45}};
constexpr FtSlot kV8_3[] = {FT_V8_HEAD(8, 12),   FT_V8_COUNTS,     {F::Srcaddr, 36},
                            {F::SrcMask, 40},    {F::SrcAs, 42},   {F::Input, 44},
                            {F::EngineType, 46}, {F::EngineId, 47}};
constexpr FtSlot kV8_4[] = {FT_V8_HEAD(12, 8), FT_V8_COUNTS,        {F::Dstaddr, 36},
                            {F::DstMask, 40},  {F::EngineType, 42}, {F::EngineId, 43},
                            {F::DstAs, 44},    {F::Output, 46}};
constexpr FtSlot kV8_5[] = {FT_V8_HEAD(12, 8),   FT_V8_COUNTS,      {F::Srcaddr, 36},
                            {F::Dstaddr, 40},    {F::DstMask, 44},  {F::SrcMask, 45},
                            {F::EngineType, 46}, {F::EngineId, 47}, {F::SrcAs, 48},
                            {F::DstAs, 50},      {F::Input, 52},    {F::Output, 54}};
constexpr FtSlot kV8_6[] = {FT_V8_HEAD(12, 8),  FT_V8_TOS_COUNTS,   {F::Dstaddr, 32},
                            {F::ExtraPkts, 36}, {F::RouterSc, 40},  {F::Output, 44},
                            {F::Tos, 48},       {F::MarkedTos, 49}, {F::EngineType, 50},
                            {F::EngineId, 51}};
constexpr FtSlot kV8_7[] = {FT_V8_HEAD(12, 8),  FT_V8_TOS_COUNTS,    {F::Dstaddr, 32},
                            {F::Srcaddr, 36},   {F::ExtraPkts, 40},  {F::RouterSc, 44},
                            {F::Output, 48},    {F::Input, 50},      {F::Tos, 52},
                            {F::MarkedTos, 53}, {F::EngineType, 54}, {F::EngineId, 55}};
constexpr FtSlot kV8_8[] = {FT_V8_HEAD(12, 8),   FT_V8_TOS_COUNTS,   {F::Dstaddr, 32},
                            {F::Srcaddr, 36},    {F::ExtraPkts, 40}, {F::RouterSc, 44},
                            {F::Dstport, 48},    {F::Srcport, 50},   {F::Output, 52},
                            {F::Input, 54},      {F::Tos, 56},       {F::MarkedTos, 57},
                            {F::EngineType, 58}, {F::EngineId, 59},  {F::Prot, 60}};
constexpr FtSlot kV8_9[] = {FT_V8_HEAD(12, 8),   FT_V8_COUNTS,      {F::SrcAs, 36},
                            {F::DstAs, 38},      {F::Input, 40},    {F::Output, 42},
                            {F::EngineType, 44}, {F::EngineId, 45}, {F::Tos, 46}};
constexpr FtSlot kV8_10[] = {
    FT_V8_HEAD(12, 8), FT_V8_COUNTS,        {F::Srcport, 36},  {F::Dstport, 38}, {F::Input, 40},
    {F::Output, 42},   {F::EngineType, 44}, {F::EngineId, 45}, {F::Prot, 46},    {F::Tos, 47}};
constexpr FtSlot kV8_11[] = {FT_V8_HEAD(8, 12), FT_V8_COUNTS,        {F::Srcaddr, 36},
                             {F::SrcMask, 40},  {F::Tos, 41},        {F::SrcAs, 42},
                             {F::Input, 44},    {F::EngineType, 46}, {F::EngineId, 47}};
constexpr FtSlot kV8_12[] = {FT_V8_HEAD(8, 12), FT_V8_COUNTS,        {F::Dstaddr, 36},
                             {F::Output, 40},   {F::DstAs, 42},      {F::DstMask, 44},
                             {F::Tos, 45},      {F::EngineType, 46}, {F::EngineId, 47}};
constexpr FtSlot kV8_13[] = {
    FT_V8_HEAD(12, 8),   FT_V8_COUNTS,      {F::Srcaddr, 36}, {F::Dstaddr, 40}, {F::SrcAs, 44},
    {F::DstAs, 46},      {F::Input, 48},    {F::Output, 50},  {F::DstMask, 52}, {F::SrcMask, 53},
    {F::EngineType, 54}, {F::EngineId, 55}, {F::Tos, 56}};
constexpr FtSlot kV8_14[] = {
    FT_V8_HEAD(12, 8),   FT_V8_COUNTS,      {F::Srcaddr, 36}, {F::Dstaddr, 40}, {F::Srcport, 44},
    {F::Dstport, 46},    {F::Input, 48},    {F::Output, 50},  {F::DstMask, 52}, {F::SrcMask, 53},
    {F::EngineType, 54}, {F::EngineId, 55}, {F::Tos, 56},     {F::Prot, 57}};
#undef FT_V8_HEAD
#undef FT_V8_COUNTS
#undef FT_V8_TOS_COUNTS
#undef FT_HEAD
#undef FT_V1_BODY
#undef FT_V5_TAIL

constexpr std::uint64_t mask_of(std::span<const FtSlot> slots) {
  std::uint64_t m = 0;
  for (const FtSlot& s : slots) m |= std::uint64_t{1} << static_cast<unsigned>(s.field);
  return m;
}

constexpr FtLayout kLayouts[] = {
    {1, 0, 60, kV1, mask_of(kV1)},          {5, 0, 64, kV5, mask_of(kV5)},
    {6, 0, 72, kV6, mask_of(kV6)},          {7, 0, 68, kV7, mask_of(kV7)},
    {8, 1, 48, kV8_1, mask_of(kV8_1)},      {8, 2, 48, kV8_2, mask_of(kV8_2)},
    {8, 3, 48, kV8_3, mask_of(kV8_3)},      {8, 4, 48, kV8_4, mask_of(kV8_4)},
    {8, 5, 56, kV8_5, mask_of(kV8_5)},      {8, 6, 52, kV8_6, mask_of(kV8_6)},
    {8, 7, 56, kV8_7, mask_of(kV8_7)},      {8, 8, 64, kV8_8, mask_of(kV8_8)},
    {8, 9, 48, kV8_9, mask_of(kV8_9)},      {8, 10, 48, kV8_10, mask_of(kV8_10)},
    {8, 11, 48, kV8_11, mask_of(kV8_11)},   {8, 12, 48, kV8_12, mask_of(kV8_12)},
    {8, 13, 60, kV8_13, mask_of(kV8_13)},   {8, 14, 60, kV8_14, mask_of(kV8_14)},
    {1005, 0, 72, kV1005, mask_of(kV1005)},
};

// NetFlow v9 and IPFIX records as FlowPDU gives them: the fields of v5 (no flow-tools file
// has these versions; the record size is v5's).
constexpr FtLayout kTemplateLayouts[] = {{9, 0, 64, kV5, mask_of(kV5)},
                                         {10, 0, 64, kV5, mask_of(kV5)}};

std::uint32_t load(const std::byte* p, unsigned width, bool big) {
  std::uint32_t v = 0;
  for (unsigned i = 0; i < width; ++i) {
    const unsigned shift = big ? 8 * (width - 1 - i) : 8 * i;
    v |= std::to_integer<std::uint32_t>(p[i]) << shift;
  }
  return v;
}

void store(std::byte* p, unsigned width, bool big, std::uint32_t v) {
  for (unsigned i = 0; i < width; ++i) {
    const unsigned shift = big ? 8 * (width - 1 - i) : 8 * i;
    p[i] = static_cast<std::byte>(v >> shift);
  }
}

void put(std::string& out, std::uint32_t v, unsigned width, bool big) {
  std::byte b[4];
  store(b, width, big, v);
  out.append(reinterpret_cast<const char*>(b), width);
}

}  // namespace

std::string FtLayout::name() const {
  return agg_method ? fmt::format("{}.{}", version, agg_method) : fmt::format("{}", version);
}

Result<const FtLayout*> find_ft_layout(std::uint16_t version, std::uint8_t agg_method) {
  for (const FtLayout& l : kLayouts) {
    if (l.version == version && (version != 8 || l.agg_method == agg_method)) return &l;
  }
  const std::string what =
      version == 8 ? fmt::format("8.{}", agg_method) : fmt::format("{}", version);
  return Error{ErrorCode::Unsupported,
               fmt::format("flow-tools export version {} is not supported (1, 5, 6, 7, 8.1 to "
                           "8.14 and 1005 are)",
                           what)};
}

const FtLayout& ft_template_layout(std::uint16_t version) {
  return version == 10 ? kTemplateLayouts[1] : kTemplateLayouts[0];
}

void decode_ft_record(const FtLayout& layout, bool big_endian, std::span<const std::byte> bytes,
                      FtRecord& out) {
  for (const FtSlot& s : layout.slots) {
    out.set(s.field, load(bytes.data() + s.offset, ft_field_info(s.field).width, big_endian));
  }
}

void encode_ft_record(const FtLayout& layout, bool big_endian, const FtRecord& record,
                      std::span<std::byte> bytes) {
  std::fill(bytes.begin(), bytes.end(), std::byte{0});  // pads are zero, as flow-tools leaves them
  for (const FtSlot& s : layout.slots) {
    store(bytes.data() + s.offset, ft_field_info(s.field).width, big_endian, record.get(s.field));
  }
}

FtTime ft_absolute_time(const FtRecord& r, std::uint32_t t) {
  // The export time minus the uptime is the router's boot time; add t. All in u32 as
  // flow-tools does, so a First greater than sysUpTime (seen in real v5 data) wraps the same way.
  const std::uint32_t up = r.get(F::SysUpTime);
  FtTime out{r.get(F::UnixSecs), r.get(F::UnixNsecs) / 1'000'000u};
  out.secs -= up / 1000;
  if (up % 1000 > out.msecs) {
    --out.secs;
    out.msecs += 1000;
  }
  out.msecs -= up % 1000;
  out.secs += t / 1000;
  out.msecs += t % 1000;
  if (out.msecs >= 1000) {
    out.msecs -= 1000;
    ++out.secs;
  }
  return out;
}

Result<FlowtoolsHeader> parse_ft_header(std::span<const std::byte> file, std::string_view name,
                                        std::size_t& data_offset) {
  if (file.size() < 8 || std::to_integer<std::uint8_t>(file[0]) != kMagic1 ||
      std::to_integer<std::uint8_t>(file[1]) != kMagic2) {
    return Error{ErrorCode::Malformed,
                 fmt::format("{}: not a flow-tools file (no 0xCF10 magic in the first {} bytes)",
                             name, std::min<std::size_t>(file.size(), 2))};
  }
  const auto order = std::to_integer<std::uint8_t>(file[2]);
  const auto stream_version = std::to_integer<std::uint8_t>(file[3]);
  if (stream_version != kStreamVersion || (order != 1 && order != 2)) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("{}: flow-tools stream version {} (byte order {}) is not supported; "
                             "convert it with 'flow-cat' from a current flow-tools",
                             name, stream_version, order)};
  }
  FlowtoolsHeader h;
  h.big_endian = order == 2;
  const std::uint32_t header_size = load(file.data() + 4, 4, h.big_endian);
  if (header_size < 8 || header_size > file.size()) {
    return Error{ErrorCode::Truncated,
                 fmt::format("{}: header says {} bytes but the file has {}; it is cut short", name,
                             header_size, file.size())};
  }
  std::size_t pos = 8;
  while (pos + 4 <= header_size) {
    const auto type = static_cast<std::uint16_t>(load(file.data() + pos, 2, h.big_endian));
    const std::uint32_t len = load(file.data() + pos + 2, 2, h.big_endian);
    if (type == 0 && len == 0) break;  // the zero padding after the last TLV
    if (pos + 4 + len > header_size) {
      return Error{ErrorCode::Malformed,
                   fmt::format("{}: header TLV 0x{:x} at byte {} runs past the header end ({})",
                               name, type, pos, header_size)};
    }
    const std::byte* v = file.data() + pos + 4;
    pos += 4 + len;
    auto u = [&](unsigned width) -> std::uint32_t {
      return len >= width ? load(v, width, h.big_endian) : 0;
    };
    auto text = [&] {
      std::string s(reinterpret_cast<const char*>(v), len);
      if (auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
      return s;
    };
    switch (type) {
      case kTlvExVer: h.version = static_cast<std::uint16_t>(u(2)); break;
      case kTlvAggVer: h.agg_version = static_cast<std::uint8_t>(u(1)); break;
      case kTlvAggMethod: h.agg_method = static_cast<std::uint8_t>(u(1)); break;
      case kTlvExporterIp: h.exporter_ip = u(4); break;
      case kTlvCapStart: h.cap_start = u(4); break;
      case kTlvCapEnd: h.cap_end = u(4); break;
      case kTlvHeaderFlags: h.flags = u(4); break;
      case kTlvRotSchedule: h.rot_schedule = u(4); break;
      case kTlvFlowCount: h.flow_count = u(4); break;
      case kTlvFlowLost: h.flows_lost = u(4); break;
      case kTlvFlowMisordered: h.flows_misordered = u(4); break;
      case kTlvPktCorrupt: h.pkts_corrupt = u(4); break;
      case kTlvSeqReset: h.seq_reset = u(4); break;
      case kTlvCapHostname: h.hostname = text(); break;
      case kTlvComments: h.comments = text(); break;
      default:
        h.other.emplace_back(type, std::string(reinterpret_cast<const char*>(v), len));
        break;
    }
  }
  data_offset = header_size;
  return h;
}

std::string encode_ft_header(const FlowtoolsHeader& h) {
  const bool big = h.big_endian;
  std::vector<std::pair<std::uint16_t, std::string>> tlvs;
  auto num = [&](std::uint16_t type, std::uint32_t v, unsigned width) {
    std::string value;
    put(value, v, width, big);
    tlvs.emplace_back(type, std::move(value));
  };
  auto opt = [&](std::uint16_t type, const std::optional<std::uint32_t>& v) {
    if (v) num(type, *v, 4);
  };
  auto text = [&](std::uint16_t type, const std::optional<std::string>& s) {
    if (s) tlvs.emplace_back(type, *s + '\0');  // NUL-terminated; the length counts the NUL
  };
  num(kTlvExVer, h.version, 2);
  if (h.version == 8) {
    num(kTlvAggVer, h.agg_version, 1);
    num(kTlvAggMethod, h.agg_method, 1);
  }
  opt(kTlvExporterIp, h.exporter_ip);
  opt(kTlvCapStart, h.cap_start);
  opt(kTlvCapEnd, h.cap_end);
  num(kTlvHeaderFlags, h.flags, 4);
  opt(kTlvRotSchedule, h.rot_schedule);
  opt(kTlvFlowCount, h.flow_count);
  opt(kTlvFlowLost, h.flows_lost);
  opt(kTlvFlowMisordered, h.flows_misordered);
  opt(kTlvPktCorrupt, h.pkts_corrupt);
  opt(kTlvSeqReset, h.seq_reset);
  text(kTlvCapHostname, h.hostname);
  text(kTlvComments, h.comments);
  tlvs.insert(tlvs.end(), h.other.begin(), h.other.end());
  std::stable_sort(tlvs.begin(), tlvs.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string body;
  for (const auto& [type, value] : tlvs) {
    put(body, type, 2, big);
    put(body, static_cast<std::uint32_t>(value.size()), 2, big);
    body += value;
  }
  std::string out;
  out.push_back(static_cast<char>(kMagic1));
  out.push_back(static_cast<char>(kMagic2));
  out.push_back(static_cast<char>(big ? 2 : 1));
  out.push_back(static_cast<char>(kStreamVersion));
  const std::size_t size = (8 + body.size() + 3) / 4 * 4;
  put(out, static_cast<std::uint32_t>(size), 4, big);
  out += body;
  out.resize(size, '\0');
  return out;
}

Result<std::string> ft_inflate(std::span<const std::byte> in, std::string_view name) {
  z_stream zs{};
  if (inflateInit(&zs) != Z_OK) return Error{ErrorCode::Io, "zlib: cannot initialise"};
  std::string out;
  // zlib's API takes non-const input; it only reads it.
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

}  // namespace flowscope::import
