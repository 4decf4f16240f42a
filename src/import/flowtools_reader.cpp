#include "import/flowtools_reader.h"

#include <fmt/format.h>

#include "session/one_sided.h"
#include "store/file_util.h"
#include "store/format.h"

namespace flowscope::import {

using store::as_bytes;
using store::read_file;

Result<FlowtoolsReader> FlowtoolsReader::parse(std::string file, std::string name) {
  FlowtoolsReader reader;
  reader.name_ = std::move(name);
  std::size_t data_offset = 0;
  auto header = parse_ft_header(as_bytes(file), reader.name_, data_offset);
  if (!header) return header.error();
  reader.header_ = std::move(*header);
  auto layout = find_ft_layout(reader.header_.version, reader.header_.agg_method);
  if (!layout) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("{}: {}; 'flow-export -f2' can turn it into CSV", reader.name_,
                             layout.error().message)};
  }
  reader.layout_ = *layout;
  auto body = as_bytes(file).subspan(data_offset);
  if (reader.header_.compressed()) {
    auto inflated = ft_inflate(body, reader.name_);
    if (!inflated) return inflated.error();
    reader.records_ = std::move(*inflated);
  } else {
    file.erase(0, data_offset);
    reader.records_ = std::move(file);
  }
  return reader;
}

Result<FlowtoolsReader> FlowtoolsReader::open_records(const std::filesystem::path& path) {
  auto data = read_file(path);
  if (!data) return data.error();
  return parse(std::move(*data), path.string());
}

Result<FlowtoolsReader> FlowtoolsReader::from_bytes(std::string file, std::string name) {
  return parse(std::move(file), std::move(name));
}

Result<FlowtoolsReader> FlowtoolsReader::open(const std::filesystem::path& path) {
  auto reader = open_records(path);
  // v8 records are aggregates (some with prefixes in the address fields): not sessions.
  if (reader && (reader->layout_->version == 8 || !reader->layout_->has(FtField::Srcaddr))) {
    return Error{ErrorCode::Unsupported,
                 fmt::format("{}: flow-tools export version {} holds aggregates without "
                             "addresses and cannot be imported as sessions (1, 5, 6, 7 and 1005 "
                             "can); 'flow-export -f2' can turn it into CSV",
                             path.string(), reader->layout_->name())};
  }
  return reader;
}

void FlowtoolsReader::note_partial_tail() {
  if (pos_ < records_.size() && records_.size() - pos_ < layout_->record_size) {
    ++stats_.skipped;
    ++stats_.skipped_by_reason["truncated_record"];
    stats_.examples.push_back(
        fmt::format("{}: last {} bytes are a partial record", name_, records_.size() - pos_));
    pos_ = records_.size();
  }
}

bool FlowtoolsReader::next(FtRecord& out) {
  if (records_.size() - pos_ < layout_->record_size) {
    note_partial_tail();
    return false;
  }
  out = FtRecord{};
  decode_ft_record(*layout_, header_.big_endian,
                   as_bytes(records_).subspan(pos_, layout_->record_size), out);
  pos_ += layout_->record_size;
  ++stats_.records;
  return true;
}

std::string_view FlowtoolsReader::take_records() {
  const std::size_t n = remaining();
  const std::string_view records =
      std::string_view(records_).substr(pos_, n * layout_->record_size);
  pos_ += records.size();
  stats_.records += n;
  if (pos_ < records_.size()) note_partial_tail();
  return records;
}

bool FlowtoolsReader::read(SessionBatch& out, std::size_t max_rows) {
  FlowBatch flows(std::min<std::size_t>(max_rows, 4096));
  FtRecord r;
  const bool has_as = layout_->has(FtField::SrcAs);
  while (flows.size() < max_rows && next(r)) {
    using F = FtField;
    // Flow times are router uptimes; the record's export time anchors them (as flow-tools'
    // ftltime does), with uptime wrap-around handled by unsigned subtraction.
    const std::int64_t now_ms =
        std::int64_t{r.get(F::UnixSecs)} * 1000 + r.get(F::UnixNsecs) / 1'000'000;
    const std::uint32_t uptime = r.get(F::SysUpTime);
    const std::size_t row = flows.add_row();
    flows.set<FieldId::Exporter>(row, IpAddress::v4(r.get(F::Exaddr)));
    flows.set<FieldId::SrcAddr>(row, IpAddress::v4(r.get(F::Srcaddr)));
    flows.set<FieldId::DstAddr>(row, IpAddress::v4(r.get(F::Dstaddr)));
    flows.set<FieldId::NextHop>(row, IpAddress::v4(r.get(F::Nexthop)));
    flows.set<FieldId::InIf>(row, r.get(F::Input));
    flows.set<FieldId::OutIf>(row, r.get(F::Output));
    flows.set<FieldId::FlowPackets>(row, r.get(F::DPkts));
    flows.set<FieldId::FlowBytes>(row, r.get(F::DOctets));
    flows.set<FieldId::First>(row, now_ms - static_cast<std::uint32_t>(uptime - r.get(F::First)));
    flows.set<FieldId::Last>(row, now_ms - static_cast<std::uint32_t>(uptime - r.get(F::Last)));
    flows.set<FieldId::SrcPort>(row, static_cast<std::uint16_t>(r.get(F::Srcport)));
    flows.set<FieldId::DstPort>(row, static_cast<std::uint16_t>(r.get(F::Dstport)));
    flows.set<FieldId::Proto>(row, static_cast<std::uint8_t>(r.get(F::Prot)));
    flows.set<FieldId::Tos>(row, static_cast<std::uint8_t>(r.get(F::Tos)));
    flows.set<FieldId::TcpFlags>(row, static_cast<std::uint8_t>(r.get(F::TcpFlags)));
    // v1005 is v5 with tags (flow-tools' own number, wider than the field).
    flows.set<FieldId::Version>(
        row, static_cast<std::uint8_t>(header_.version == 1005 ? 5 : header_.version));
    if (has_as) {
      flows.set<FieldId::SrcAs>(row, r.get(F::SrcAs));
      flows.set<FieldId::DstAs>(row, r.get(F::DstAs));
    }
  }
  session::append_one_sided(flows, out);
  if (remaining() > 0) return true;
  note_partial_tail();
  return false;
}

}  // namespace flowscope::import
