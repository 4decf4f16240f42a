#pragma once
// The flow-tools file format, shared by the reader (import/flowtools_reader.h), the writer
// (import/flowtools_writer.h), `flowscope export --format flow-tools` and Python's `flowtools`
// module (docs/python.md). A file is: "CF 10", byte order (1 little, 2 big), stream version 3,
// u32 header length, TLVs (u16 type, u16 length, value; zero-padded to a multiple of 4), then
// fixed-size records in the file's byte order, optionally as one zlib stream.
//
// The record fields are one table, FLOWSCOPE_FT_FIELDS: the names are flow-tools' (and so
// pyflowtools' Flow attributes); each export version's layout lists which fields it has at
// which offset (adsr/flow-tools lib/ftlib.h, struct fts3rec_v1, _v5, _v6, _v7, _v8_1 to _v8_14,
// _v1005).
// Everything here is a pure function or a constant: any thread.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace flowscope::import {

// How a field's value reads: a number, an IPv4 address, or a router uptime in ms that is made
// absolute from the record's unix_secs/unix_nsecs/sysUpTime.
enum class FtKind : std::uint8_t { Uint, Addr, Time };

// FLOWSCOPE_FT_FIELD(Id, "flow-tools name", width in bytes, Kind)
#define FLOWSCOPE_FT_FIELDS(M)            \
  M(UnixSecs, "unix_secs", 4, Uint)       \
  M(UnixNsecs, "unix_nsecs", 4, Uint)     \
  M(SysUpTime, "sysUpTime", 4, Uint)      \
  M(Exaddr, "exaddr", 4, Addr)            \
  M(DFlows, "dFlows", 4, Uint)            \
  M(DPkts, "dPkts", 4, Uint)              \
  M(DOctets, "dOctets", 4, Uint)          \
  M(First, "first", 4, Time)              \
  M(Last, "last", 4, Time)                \
  M(EngineType, "engine_type", 1, Uint)   \
  M(EngineId, "engine_id", 1, Uint)       \
  M(Srcaddr, "srcaddr", 4, Addr)          \
  M(Dstaddr, "dstaddr", 4, Addr)          \
  M(Nexthop, "nexthop", 4, Addr)          \
  M(Input, "input", 2, Uint)              \
  M(Output, "output", 2, Uint)            \
  M(Srcport, "srcport", 2, Uint)          \
  M(Dstport, "dstport", 2, Uint)          \
  M(Prot, "prot", 1, Uint)                \
  M(Tos, "tos", 1, Uint)                  \
  M(TcpFlags, "tcp_flags", 1, Uint)       \
  M(SrcMask, "src_mask", 1, Uint)         \
  M(DstMask, "dst_mask", 1, Uint)         \
  M(SrcAs, "src_as", 2, Uint)             \
  M(DstAs, "dst_as", 2, Uint)             \
  M(InEncaps, "in_encaps", 1, Uint)       \
  M(OutEncaps, "out_encaps", 1, Uint)     \
  M(PeerNexthop, "peer_nexthop", 4, Addr) \
  M(RouterSc, "router_sc", 4, Uint)       \
  M(SrcTag, "src_tag", 4, Uint)           \
  M(DstTag, "dst_tag", 4, Uint)           \
  M(ExtraPkts, "extra_pkts", 4, Uint)     \
  M(MarkedTos, "marked_tos", 1, Uint)

enum class FtField : std::uint8_t {
#define FLOWSCOPE_FT_ENUM(id, name, width, kind) id,
  FLOWSCOPE_FT_FIELDS(FLOWSCOPE_FT_ENUM)
#undef FLOWSCOPE_FT_ENUM
};

struct FtFieldInfo {
  FtField id;
  std::string_view name;
  std::uint8_t width;
  FtKind kind;
};

inline constexpr std::array kFtFields = {
#define FLOWSCOPE_FT_INFO(id, name, width, kind) \
  FtFieldInfo{FtField::id, name, width, FtKind::kind},
    FLOWSCOPE_FT_FIELDS(FLOWSCOPE_FT_INFO)
#undef FLOWSCOPE_FT_INFO
};
inline constexpr std::size_t kFtFieldCount = kFtFields.size();

constexpr const FtFieldInfo& ft_field_info(FtField f) {
  return kFtFields[static_cast<std::size_t>(f)];
}

// One record, every field widened to 32 bits; fields the version lacks stay 0.
struct FtRecord {
  std::array<std::uint32_t, kFtFieldCount> values{};
  std::uint32_t get(FtField f) const { return values[static_cast<std::size_t>(f)]; }
  void set(FtField f, std::uint32_t v) { values[static_cast<std::size_t>(f)] = v; }
};

// Where a field sits in one export version's record.
struct FtSlot {
  FtField field;
  std::uint8_t offset;
};

// An export version's record layout. `version` is flow-tools' d_version (1, 5, 6, 7, 8, 1005);
// v8 aggregations are told apart by `agg_method` (8.1 = AS matrix ... 8.14 = prefix-port ToS).
struct FtLayout {
  std::uint16_t version;
  std::uint8_t agg_method;
  std::size_t record_size;
  std::span<const FtSlot> slots;
  std::uint64_t field_mask;  // bit i: the layout has field i
  bool has(FtField f) const { return (field_mask >> static_cast<unsigned>(f)) & 1u; }
  std::string name() const;  // "5", "8.1"
};

// The layout of (version, agg_method), or an error naming the versions there are.
Result<const FtLayout*> find_ft_layout(std::uint16_t version, std::uint8_t agg_method = 0);

// The layout of NetFlow v9 (`version` 9) or IPFIX (10) records in Python's FlowPDU
// (import/template_pdu.h): v5's fields under the name "9" or "10". Not a file layout.
const FtLayout& ft_template_layout(std::uint16_t version);

// Decodes/encodes one record. REQUIRES: bytes.size() == layout.record_size.
void decode_ft_record(const FtLayout& layout, bool big_endian, std::span<const std::byte> bytes,
                      FtRecord& out);
void encode_ft_record(const FtLayout& layout, bool big_endian, const FtRecord& record,
                      std::span<std::byte> bytes);

// flow-tools' ftltime: a router uptime `t` (ms) made absolute from the record's export time,
// as seconds and milliseconds (unsigned 32-bit arithmetic, wrap-around and all).
struct FtTime {
  std::uint32_t secs = 0;
  std::uint32_t msecs = 0;
};
FtTime ft_absolute_time(const FtRecord& r, std::uint32_t t);

// TLV 0x8 header flags.
inline constexpr std::uint32_t kFtFlagDone = 0x1;
inline constexpr std::uint32_t kFtFlagCompress = 0x2;
inline constexpr std::uint32_t kFtFlagStreaming = 0x8;
inline constexpr std::uint32_t kFtFlagPreloaded = 0x20;

// The stream-version-3 header. Optional TLVs are written only when set, in type order, as
// flow-tools' ftio_write_header does; TLVs this struct has no member for are kept in `other`
// (value bytes as read) so that a file read and written again keeps them.
struct FlowtoolsHeader {
  bool big_endian = false;
  std::uint16_t version = 5;                      // TLV 0x2
  std::uint8_t agg_version = 0;                   // TLV 0x3, v8 only
  std::uint8_t agg_method = 0;                    // TLV 0x4, v8 only
  std::uint32_t flags = 0;                        // TLV 0x8
  std::optional<std::uint32_t> exporter_ip;       // 0x5
  std::optional<std::uint32_t> cap_start;         // 0x6, Unix seconds
  std::optional<std::uint32_t> cap_end;           // 0x7
  std::optional<std::uint32_t> rot_schedule;      // 0x9
  std::optional<std::uint32_t> flow_count;        // 0xa
  std::optional<std::uint32_t> flows_lost;        // 0xb
  std::optional<std::uint32_t> flows_misordered;  // 0xc
  std::optional<std::uint32_t> pkts_corrupt;      // 0xd
  std::optional<std::uint32_t> seq_reset;         // 0xe
  std::optional<std::string> hostname;            // 0xf
  std::optional<std::string> comments;            // 0x10
  std::vector<std::pair<std::uint16_t, std::string>> other;
  bool compressed() const { return (flags & kFtFlagCompress) != 0; }
};

// Parses the header at the start of `file`; sets `data_offset` to where the records start.
// `name` is for messages. Errors: not flow-tools, another stream version, cut short.
Result<FlowtoolsHeader> parse_ft_header(std::span<const std::byte> file, std::string_view name,
                                        std::size_t& data_offset);
// The header's bytes, as flow-tools writes them.
std::string encode_ft_header(const FlowtoolsHeader& header);

// Inflates one zlib stream; a stream cut short keeps what inflated (a capture being written),
// damage is an error naming `name`.
Result<std::string> ft_inflate(std::span<const std::byte> in, std::string_view name);

}  // namespace flowscope::import
