#pragma once
// A NetFlow v1, v5, v7 or v8 export packet (PDU) turned into flow-tools records, as flow-tools'
// ftpdu_verify/fts3rec_pdu_decode do for flow-capture and pyflowtools' FlowPDU: the header's
// fields, and one record per flow with the header's times and the exporter address filled in
// (layout: import/flowtools_format.h). Lengths are checked against the count before anything
// is read (Cisco NetFlow export formats: v1 header 16 bytes + 48 per record, at most 24; v5 24
// + 48, at most 30; v7 24 + 52, at most 28; v8 a 28-byte header and, by aggregation 8.1 to
// 8.14, records of 28 to 44 bytes, at most 32 to 51 as flow-tools; docs/python.md "FlowPDU").
// NetFlow v9 and IPFIX PDUs need a template cache: import/template_pdu.h.
// Pure functions; any thread.

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "core/ip_address.h"
#include "core/result.h"

#include "import/flowtools_format.h"

namespace flowscope::import {

struct NetflowPdu {
  std::uint16_t version = 0;
  std::uint16_t count = 0;
  std::uint32_t sys_uptime = 0;
  std::uint32_t unix_secs = 0;
  std::uint32_t unix_nsecs = 0;
  std::uint32_t flow_sequence = 0;      // v5, v7, v8; 0 for v1, which has none
  std::uint8_t engine_type = 0;         // v5, v8
  std::uint8_t engine_id = 0;           // v5, v8
  std::uint8_t agg_method = 0;          // v8: the aggregation scheme (1 = AS matrix)
  std::uint8_t agg_version = 0;         // v8: its version (2 in Cisco's exports)
  std::uint16_t sampling = 0;           // v5 sampling_interval (mode in the top 2 bits)
  std::uint32_t source_id = 0;          // v9 source id, IPFIX observation domain
  std::uint32_t missing_templates = 0;  // v9/IPFIX data sets skipped: template not known
  std::uint32_t options_records = 0;    // v9/IPFIX options data records read (not flows)
  std::uint32_t exporter = 0;
  const FtLayout* layout = nullptr;  // the flow-tools layout of the same version
  std::vector<FtRecord> records;
  // v9/IPFIX: each record's source, destination and next-hop address, IPv6 included (a
  // record's own address fields hold them only when they are IPv4). Empty for v1 to v8.
  std::vector<std::array<IpAddress, 3>> addresses;
};

// Errors name what is wrong: a version other than 1, 5, 7 or 8 (v8: an aggregation other than
// 8.1 to 8.14), a count over the version's limit, a length that does not match the count.
Result<NetflowPdu> decode_netflow_pdu(std::uint32_t exporter, std::span<const std::byte> pdu);

// The reverse, for tests and tools: one PDU from up to the version's limit of records.
Result<std::vector<std::byte>> encode_netflow_pdu(const NetflowPdu& pdu);

}  // namespace flowscope::import
