// libFuzzer target: raw NetFlow v1/v5/v7/v8.1 PDUs as Python's flowtools.FlowPDU parses them
// (import/netflow_pdu.h). Any bytes give a PDU or an error, never a crash; a PDU that parses
// encodes back to bytes that parse to the same header and records.
#include <cstddef>
#include <cstdint>
#include <span>

#include "import/netflow_pdu.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using flowscope::import::decode_netflow_pdu;
  const auto bytes = std::as_bytes(std::span(data, size));
  auto pdu = decode_netflow_pdu(0x0A000001, bytes);
  if (!pdu) return 0;
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
  return 0;
}
