// libFuzzer target: raw NetFlow PDUs as Python's flowtools.FlowPDU parses them
// (import/netflow_pdu.h: v1/v5/v7 and the v8 aggregations 8.1 to 8.14; import/template_pdu.h:
// v9/IPFIX with a template cache). Any bytes give a PDU or an error, never a crash.
//   * The whole input as one PDU: a v1-v8 PDU that parses encodes back to bytes that parse to
//     the same header and records; a v9/IPFIX one goes through a fresh template cache.
//   * The input as a sequence of PDUs, each prefixed by its length (u16, big-endian), through
//     one template cache: templates of one PDU apply to data sets of the next ones. Every
//     record's IPv4 addresses are in its flow-tools fields, and each record has its addresses.
#include <cstddef>
#include <cstdint>
#include <span>

#include "import/netflow_pdu.h"
#include "import/template_pdu.h"

namespace {

using flowscope::import::decode_netflow_pdu;
using flowscope::import::decode_template_pdu;
using flowscope::import::FtField;
using flowscope::import::NetflowPdu;
using flowscope::import::PduTemplateCache;

void check_template_pdu(const NetflowPdu& pdu) {
  if (pdu.version != 9 && pdu.version != 10) __builtin_trap();
  if (pdu.addresses.size() != pdu.records.size()) __builtin_trap();
  const FtField fields[] = {FtField::Srcaddr, FtField::Dstaddr, FtField::Nexthop};
  for (std::size_t i = 0; i < pdu.records.size(); ++i) {
    for (std::size_t a = 0; a < 3; ++a) {
      const auto& addr = pdu.addresses[i][a];
      if (addr.is_v4() && pdu.records[i].get(fields[a]) != addr.v4_value()) __builtin_trap();
    }
    if (pdu.records[i].get(FtField::UnixSecs) != pdu.unix_secs) __builtin_trap();
  }
}

void round_trip(std::span<const std::byte> bytes) {
  auto pdu = decode_netflow_pdu(0x0A000001, bytes);
  if (!pdu) return;
  auto again = flowscope::import::encode_netflow_pdu(*pdu);
  if (!again) __builtin_trap();  // what parsed must encode
  auto back = decode_netflow_pdu(0x0A000001, *again);
  if (!back) __builtin_trap();
  if (back->version != pdu->version || back->count != pdu->count ||
      back->sys_uptime != pdu->sys_uptime || back->unix_secs != pdu->unix_secs ||
      back->flow_sequence != pdu->flow_sequence || back->agg_method != pdu->agg_method ||
      back->records.size() != pdu->records.size()) {
    __builtin_trap();
  }
  for (std::size_t i = 0; i < pdu->records.size(); ++i) {
    if (back->records[i].values != pdu->records[i].values) __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto bytes = std::as_bytes(std::span(data, size));
  round_trip(bytes);
  {
    PduTemplateCache cache;
    if (auto pdu = decode_template_pdu(cache, 0x0A000001, bytes)) check_template_pdu(*pdu);
  }
  PduTemplateCache cache;
  std::size_t pos = 0;
  while (pos + 2 <= size) {
    const std::size_t len = (std::size_t{data[pos]} << 8) | data[pos + 1];
    pos += 2;
    if (len > size - pos) break;
    const auto pdu_bytes = bytes.subspan(pos, len);
    pos += len;
    // Two exporters share the cache: templates must stay with theirs.
    const std::uint32_t exporter = (pos & 1) ? 0x0A000001 : 0x0A000002;
    if (auto pdu = decode_template_pdu(cache, exporter, pdu_bytes)) check_template_pdu(*pdu);
    round_trip(pdu_bytes);
  }
  return 0;
}
