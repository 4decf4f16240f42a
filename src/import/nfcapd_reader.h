#pragma once
// Reading nfdump 1.7's nfcapd files natively (docs/storage.md "Import"), so `flowscope import`
// needs no nfdump. A file is a 40-byte header (magic 0xA50C, LAYOUT_VERSION_2, compression,
// encryption, number of data blocks) followed by data blocks of 12-byte headers (records,
// size, type, flags) compressed per the file's method (none, LZO, BZ2, LZ4, ZSTD). Flow records
// are nfdump's V3 records: a 12-byte header then elements (type, length) of which the reader
// uses generic flow, IPv4/IPv6 addresses, flow misc, counters, VLAN, AS, IP next hop and the
// exporter's address; other elements are stepped over by their length.
//
// Records become one-sided sessions (client = source) with the values `nfdump -o csv` would
// print for them, so an import gives the same sessions as the old path through nfdump: an
// element a record lacks gives 0 (0.0.0.0 for addresses), as nfdump prints it.
//
// Refused at open, with an error naming the file: layout version 1 (nfdump 1.6) and unknown
// versions, encrypted files, files written on a big-endian machine, unknown compressions.
// Inside a file nothing is fatal: a damaged or cut block, a record of an unknown type or a
// malformed record is skipped and counted by reason (ImportStats), the rest is read.
// Layouts: phaag/nfdump src/include/nffileV2.h, src/include/nfxV3.h (1.7.x). One reader, one
// thread; memory is bounded by one decompressed block (at most 5 MiB, as nfdump's).

#include <cstdint>
#include <filesystem>
#include <istream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/record_batch.h"
#include "core/result.h"

#include "import/csv_import.h"

namespace flowscope::import {

enum class NfcapdCompression : std::uint8_t { None = 0, Lzo = 1, Bz2 = 2, Lz4 = 3, Zstd = 4 };
std::string_view nfcapd_compression_name(NfcapdCompression c);

// What the file header says.
struct NfcapdFileInfo {
  std::uint32_t nfdump_version = 0;  // e.g. 0x01070100 for 1.7.1
  std::int64_t created = 0;          // unix seconds
  NfcapdCompression compression = NfcapdCompression::None;
  std::uint32_t creator = 0;  // 1 nfcapd, 2 nfpcapd, 3 sfcapd, 4 nfdump, ...
  std::uint32_t blocks = 0;   // data blocks (the appendix is not counted)
};

// The same fields as nfdump prints them: `nfdump -q -N -o FORMAT` (with TZ=UTC) gives CSV lines
// whose columns are the flow fields named by kNfdumpCsvColumns. `flowscope import --format
// nfdump` and the differential tests read nfcapd files this way. Note: nfdump prints an ICMP
// flow's destination port as "type.code", which is not a port; the native reader keeps
// type * 256 + code (the registry's dst_port), and fix_nfdump_icmp_port turns the one into the
// other.
inline constexpr const char* kNfdumpCsvFormat =
    "fmt:%ts,%te,%sa,%da,%sp,%dp,%pr,%flg,%ipkt,%ibyt,%opkt,%obyt,%in,%out,%sas,%das,%stos,%nh,"
    "%ra,%svln,%dvln";
inline constexpr const char* kNfdumpCsvColumns =
    "first,last,src_addr,dst_addr,src_port,dst_port,proto,tcp_flags,packets,bytes,out_packets,"
    "out_bytes,in_if,out_if,src_as,dst_as,tos,next_hop,exporter,src_vlan,dst_vlan";

// Rewrites the destination port of one line of kNfdumpCsvFormat output from nfdump's ICMP form
// "type.code" to type * 256 + code, so that the line imports as the native reader reads it.
void fix_nfdump_icmp_port(std::string& line);

// True when `head` (the first bytes of a file) starts with nfdump's magic 0xA50C.
bool is_nfcapd_magic(std::string_view head);

class NfcapdReader {
 public:
  // Opens the file and checks its header. Errors name the file and what to do.
  static Result<NfcapdReader> open(const std::filesystem::path& path);
  // The same over bytes in memory (tests, fuzzing); `name` is used in messages.
  static Result<NfcapdReader> from_bytes(std::string bytes, std::string name);

  NfcapdReader(NfcapdReader&&) noexcept;
  NfcapdReader& operator=(NfcapdReader&&) noexcept;
  ~NfcapdReader();

  // Appends up to `max_rows` flows to `out`; false when no records are left.
  bool read_flows(FlowBatch& out, std::size_t max_rows);
  // The same as one-sided sessions.
  bool read(SessionBatch& out, std::size_t max_rows);

  const ImportStats& stats() const { return stats_; }
  const NfcapdFileInfo& info() const { return info_; }

 private:
  NfcapdReader();
  static Result<NfcapdReader> start(std::unique_ptr<std::istream> in, std::string name);
  bool next_block();
  void parse_record(std::span<const std::byte> record, FlowBatch& out);
  void skip(const std::string& reason, std::uint64_t records, const std::string& detail);

  std::unique_ptr<std::istream> in_;
  std::string name_;
  NfcapdFileInfo info_;
  ImportStats stats_;
  std::uint32_t block_index_ = 0;  // blocks read so far
  std::uint16_t appendix_blocks_ = 0;
  bool done_ = false;
  std::vector<std::byte> raw_;          // the block as stored
  std::unique_ptr<std::byte[]> block_;  // the block decompressed (kMaxBlockBytes)
  std::span<const std::byte> records_;  // what is left of the current block
  std::uint32_t records_left_ = 0;
  std::unique_ptr<FlowBatch> scratch_;  // for read(SessionBatch&)
};

}  // namespace flowscope::import
