#pragma once
// A NetFlow v1, v5, v7 or v8.1 export packet (PDU) turned into flow-tools records, as flow-tools'
// ftpdu_verify/fts3rec_pdu_decode do for flow-capture and pyflowtools' FlowPDU: the header's
// fields, and one record per flow with the header's times and the exporter address filled in
// (layout: import/flowtools_format.h). Lengths are checked against the count before anything
// is read (Cisco NetFlow export formats: v1 header 16 bytes + 48 per record, at most 24; v5 24
// + 48, at most 30; v7 24 + 52, at most 28; v8 28-byte header, the 8.1 AS aggregation 28 per
// record, at most 51, as flow-tools' FT_PDU_V8_1_MAXFLOWS).
// Pure functions; any thread.

#include <cstdint>
#include <span>
#include <vector>

#include "core/result.h"

#include "import/flowtools_format.h"

namespace flowscope::import {

struct NetflowPdu {
  std::uint16_t version = 0;
  std::uint16_t count = 0;
  std::uint32_t sys_uptime = 0;
  std::uint32_t unix_secs = 0;
  std::uint32_t unix_nsecs = 0;
  std::uint32_t flow_sequence = 0;  // v5, v7, v8; 0 for v1, which has none
  std::uint8_t engine_type = 0;     // v5, v8
  std::uint8_t engine_id = 0;       // v5, v8
  std::uint8_t agg_method = 0;      // v8: the aggregation scheme (1 = AS matrix)
  std::uint8_t agg_version = 0;     // v8: its version (2 in Cisco's exports)
  std::uint16_t sampling = 0;       // v5 sampling_interval (mode in the top 2 bits)
  std::uint32_t exporter = 0;
  const FtLayout* layout = nullptr;  // the flow-tools layout of the same version
  std::vector<FtRecord> records;
};

// Errors name what is wrong: a version other than 1, 5, 7 or 8 (v8: an aggregation other than
// 8.1), a count over the version's limit, a length that does not match the count.
Result<NetflowPdu> decode_netflow_pdu(std::uint32_t exporter, std::span<const std::byte> pdu);

// The reverse, for tests and tools: one PDU from up to the version's limit of records.
Result<std::vector<std::byte>> encode_netflow_pdu(const NetflowPdu& pdu);

}  // namespace flowscope::import
