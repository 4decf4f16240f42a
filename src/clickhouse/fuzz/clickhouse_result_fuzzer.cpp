// RowBinary SELECT results and error bodies as ClickHouse (or anything answering on its port)
// may send them: decode_rows and parse_server_error must reject, never overrun.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "clickhouse/schema.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using flowscope::clickhouse::ResultItem;
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  (void)flowscope::clickhouse::parse_server_error(body);
  // A scan's layout (validity words, then every stored field) and a grouping's.
  std::vector<ResultItem> scan;
  for (std::uint32_t w = 0; w < flowscope::clickhouse::kValidWords; ++w) {
    scan.push_back({ResultItem::Kind::Valid, w, flowscope::FieldId::StartTime});
  }
  for (flowscope::FieldId f : flowscope::fields_of(flowscope::RecordKind::Session, true)) {
    scan.push_back({ResultItem::Kind::Field, 0, f});
  }
  std::vector<ResultItem> group = {{ResultItem::Kind::Field, 0, flowscope::FieldId::StartTime},
                                   {ResultItem::Kind::Valid, 0, flowscope::FieldId::StartTime},
                                   {ResultItem::Kind::Field, 0, flowscope::FieldId::ClnAddr},
                                   {ResultItem::Kind::Field, 0, flowscope::FieldId::Service},
                                   {ResultItem::Kind::Aux, 0, flowscope::FieldId::StartTime},
                                   {ResultItem::Kind::Aux, 1, flowscope::FieldId::StartTime}};
  for (const std::vector<ResultItem>* items : {&scan, &group}) {
    flowscope::SessionBatch out;
    std::vector<std::uint64_t> aux;
    std::size_t used = 0;
    (void)flowscope::clickhouse::decode_rows(body, *items, 2, out, aux, 1000, &used);
  }
  return 0;
}
