#include "decode/flow_encoder.h"

#include <string>
#include <utility>

#include "decode/netflow_v5_encoder.h"
#include "decode/sflow_encoder.h"
#include "decode/template_encoder.h"

namespace flowscope::decode {

std::uint16_t default_port(ExportFormat f) {
  switch (f) {
    case ExportFormat::Ipfix: return 4739;
    case ExportFormat::Sflow: return 6343;
    default: return 2055;
  }
}

std::string_view format_name(ExportFormat f) {
  switch (f) {
    case ExportFormat::NetflowV5: return "v5";
    case ExportFormat::NetflowV9: return "v9";
    case ExportFormat::Ipfix: return "ipfix";
    case ExportFormat::Sflow: return "sflow";
  }
  return "?";
}

Result<ExportFormat> parse_export_format(std::string_view text) {
  for (ExportFormat f : {ExportFormat::NetflowV5, ExportFormat::NetflowV9, ExportFormat::Ipfix,
                         ExportFormat::Sflow}) {
    if (text == format_name(f)) return f;
  }
  std::string message = "\"";
  message.append(text);
  message.append("\" is not an export format; use v5, v9, ipfix or sflow");
  return Error{ErrorCode::InvalidArgument, std::move(message)};
}

std::unique_ptr<FlowEncoder> make_encoder(ExportFormat format, const ExporterConfig& config,
                                          TimeMs boot) {
  switch (format) {
    case ExportFormat::NetflowV5: return std::make_unique<NetflowV5Encoder>(config, boot);
    case ExportFormat::NetflowV9:
    case ExportFormat::Ipfix: return std::make_unique<TemplateEncoder>(format, config, boot);
    case ExportFormat::Sflow: return std::make_unique<SflowEncoder>(config, boot);
  }
  return nullptr;
}

}  // namespace flowscope::decode
