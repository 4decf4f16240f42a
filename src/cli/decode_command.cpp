// `flowscope decode FILE.pcap|-`: decodes the NetFlow/IPFIX export packets in a capture file
// into one-way flow records (canonical field names of the registry) as a table, CSV or JSON
// lines through query/output.h's record writer, or prints the decoder's per-exporter counters
// with --stats.
#include <algorithm>
#include <iostream>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "capture/pcap_source.h"
#include "cli/commands.h"
#include "cli/table_writer.h"
#include "core/field_registry.h"
#include "decode/flow_decoder.h"
#include "query/output.h"
#include "query/query_spec.h"

namespace flowscope::cli {
namespace {

// The usual collector ports: NetFlow 2055, 9995, 9996; IPFIX 4739; sFlow 6343.
constexpr std::uint16_t kDefaultPorts[] = {2055, 9995, 9996, 4739, 6343};
constexpr std::size_t kFlushRows = 4096;

struct DecodeOptions {
  std::string input;
  std::vector<std::uint16_t> ports;
  bool no_default_ports = false;
  std::string format = "table";
  std::string fields = default_column_names(Surface::Decode);  // core/fields.def
  bool stats = false;
  bool json = false;  // --stats as JSON; the records as JSON lines (--format json)
  std::string template_cache;
  bool scale_sampled = false;
};

// Frames that did not reach the flow decoder, by reason.
struct CaptureCounters {
  std::uint64_t frames = 0;
  std::uint64_t flow_datagrams = 0;
  std::uint64_t other_port = 0;
  std::uint64_t not_udp = 0;
  std::uint64_t undecodable = 0;  // truncated or malformed link/IP/UDP headers
};

// --format as query/output.h's writer takes it: decode's table keeps the registry names and
// prints absent values as '-'; its CSV has a header.
query::OutputOptions output_options(const std::string& format) {
  query::OutputOptions out;
  out.format = format == "csv"    ? query::OutputFormat::CsvHeader
               : format == "json" ? query::OutputFormat::JsonLines
                                  : query::OutputFormat::Table;
  out.table_upper_headers = false;
  out.table_absent = "-";
  return out;
}

void print_stats(const decode::DecodeStats& stats, const CaptureCounters& cap) {
  std::cout << "capture: frames=" << cap.frames << " flow_datagrams=" << cap.flow_datagrams
            << " other_port=" << cap.other_port << " not_udp=" << cap.not_udp
            << " undecodable=" << cap.undecodable << "\n\n";
  TableWriter table({{"EXPORTER"},
                     {"PACKETS", TableWriter::Align::Right},
                     {"RECORDS", TableWriter::Align::Right},
                     {"TEMPLATES", TableWriter::Align::Right},
                     {"OPT_TEMPLATES", TableWriter::Align::Right},
                     {"SEQ_GAPS", TableWriter::Align::Right},
                     {"RESTARTS", TableWriter::Align::Right},
                     {"DROPPED", TableWriter::Align::Right},
                     {"DETAILS", TableWriter::Align::Left, 60}});
  for (const auto& [exporter, s] : stats.exporters()) {
    std::string details;
    auto add = [&](std::string_view name, std::uint64_t n) {
      if (n == 0) return;
      if (!details.empty()) details += ' ';
      details += std::string(name) + "=" + std::to_string(n);
    };
    // Every counter that has no column of its own (docs/decode.md "Counters").
    s.for_each_counter([&](std::string_view name, std::uint64_t n) {
      static constexpr std::string_view kColumns[] = {
          "packets",       "records",  "templates", "options_templates",
          "sequence_gaps", "restarts", "dropped"};
      if (std::find(std::begin(kColumns), std::end(kColumns), name) == std::end(kColumns)) {
        add(name, n);
      }
    });
    table.add_row({exporter.to_string(), std::to_string(s.packets), std::to_string(s.records),
                   std::to_string(s.templates), std::to_string(s.options_templates),
                   std::to_string(s.sequence_gaps), std::to_string(s.restarts),
                   std::to_string(s.dropped), details.empty() ? "-" : details});
  }
  table.write(std::cout);
}

// --stats --json: the same counters as one JSON object.
void print_stats_json(const decode::DecodeStats& stats, const CaptureCounters& cap) {
  nlohmann::json exporters = nlohmann::json::array();
  for (const auto& [exporter, s] : stats.exporters()) {
    nlohmann::json errors = nlohmann::json::object();
    for (std::size_t i = 0; i < decode::kDecodeErrorCount; ++i) {
      if (s.errors[i] == 0) continue;
      errors[std::string(decode::decode_error_name(static_cast<decode::DecodeError>(i)))] =
          s.errors[i];
    }
    exporters.push_back({{"exporter", exporter.to_string()},
                         {"packets", s.packets},
                         {"records", s.records},
                         {"templates", s.templates},
                         {"options_templates", s.options_templates},
                         {"sequence_gaps", s.sequence_gaps},
                         {"restarts", s.restarts},
                         {"dropped", s.dropped},
                         {"errors", errors},
                         {"options_records", s.options_records},
                         {"counter_samples", s.counter_samples},
                         {"withdrawals", s.withdrawals},
                         {"uptime_wraps", s.uptime_wraps},
                         {"unknown_elements", s.unknown_elements},
                         {"enterprise_elements", s.enterprise_elements},
                         {"sets_buffered", s.sets_buffered},
                         {"sets_replayed", s.sets_replayed},
                         {"sets_evicted", s.sets_evicted}});
  }
  const nlohmann::json j = {{"capture",
                             {{"frames", cap.frames},
                              {"flow_datagrams", cap.flow_datagrams},
                              {"other_port", cap.other_port},
                              {"not_udp", cap.not_udp},
                              {"undecodable", cap.undecodable}}},
                            {"exporters", exporters}};
  std::cout << j.dump() << '\n';
}

void run(const DecodeOptions& opt) {
  auto fields = query::parse_field_list(opt.fields, RecordKind::Flow);
  if (!fields) throw UserError{"--fields: " + fields.error().message, kExitUsage};
  std::set<std::uint16_t> ports(opt.ports.begin(), opt.ports.end());
  if (!opt.no_default_ports) ports.insert(std::begin(kDefaultPorts), std::end(kDefaultPorts));
  if (ports.empty()) {
    throw UserError{"--no-default-ports needs at least one --port N", kExitUsage};
  }

  auto source = capture::PcapSource::open(opt.input);
  if (!source) throw UserError{source.error().message};

  decode::DecoderConfig config;
  config.engine.scale_sampled = opt.scale_sampled;
  decode::FlowDecoder decoder(config);
  if (!opt.template_cache.empty() && std::filesystem::exists(opt.template_cache)) {
    auto loaded = decoder.templates().load(opt.template_cache);
    if (!loaded) throw UserError{loaded.error().message};
  }

  CaptureCounters cap;
  FlowBatch batch(kFlushRows);
  std::unique_ptr<query::FlowRowWriter> writer;
  if (!opt.stats) {
    auto created = query::FlowRowWriter::create(std::cout, *fields,
                                                output_options(opt.json ? "json" : opt.format));
    if (!created) throw UserError{created.error().message, kExitUsage};
    writer = std::move(*created);
  }
  std::string read_error;
  while (true) {
    auto pkt = source->next();
    if (!pkt) {
      read_error = pkt.error().message;
      break;
    }
    if (!pkt->has_value()) break;
    ++cap.frames;
    auto udp = extract_udp(source->link_type(), (*pkt)->data);
    if (!udp) {
      ++(udp.error().code == ErrorCode::Unsupported ? cap.not_udp : cap.undecodable);
      continue;
    }
    if (!ports.contains(udp->udp.dst_port) && !ports.contains(udp->udp.src_port)) {
      ++cap.other_port;
      continue;
    }
    ++cap.flow_datagrams;
    decoder.decode({udp->udp.payload, udp->ip.src, (*pkt)->timestamp}, batch);
    if (batch.size() >= kFlushRows) {
      if (writer) writer->write(batch);
      batch.clear();
    }
  }
  decoder.finish();
  if (writer) {
    writer->write(batch);
    writer->finish();
  }
  if (opt.stats && opt.json) {
    print_stats_json(decoder.stats(), cap);
  } else if (opt.stats) {
    print_stats(decoder.stats(), cap);
  }
  if (!opt.template_cache.empty()) {
    auto saved = decoder.templates().save(opt.template_cache);
    if (!saved) throw UserError{saved.error().message};
  }
  // The packets before the damage were decoded; say what stopped the rest.
  if (!read_error.empty()) throw UserError{read_error};
}

}  // namespace

void register_decode(CLI::App& app) {
  auto opt = std::make_shared<DecodeOptions>();
  CLI::App* cmd = app.add_subcommand(
      "decode", "Decode NetFlow v1/v5/v7/v9 and IPFIX packets in a pcap/pcapng into flow records");
  cmd->add_option("file", opt->input, "Capture file (pcap or pcapng), or - for standard input")
      ->required();
  cmd->add_option("--port", opt->ports,
                  "Also treat UDP port N as flow export (repeatable; defaults: 2055, 9995, "
                  "9996, 4739, 6343)");
  cmd->add_flag("--no-default-ports", opt->no_default_ports, "Only the ports given with --port");
  cmd->add_option("--format", opt->format, "Output: an aligned table, CSV, or JSON lines")
      ->check(CLI::IsMember({"table", "csv", "json"}))
      ->capture_default_str();
  cmd->add_option("--fields", opt->fields,
                  "Comma-separated canonical field names (see 'flowscope fields --kind flow')")
      ->capture_default_str();
  cmd->add_flag("--stats", opt->stats,
                "Print per-exporter decoder counters (packets, records, templates, sequence "
                "gaps, errors by kind) instead of the records");
  cmd->add_flag("--json", opt->json,
                "JSON: --stats as one object; the records as JSON lines (as --format json)");
  cmd->add_option("--template-cache", opt->template_cache,
                  "Load templates from this file before decoding and save them after "
                  "(docs/decode.md)");
  cmd->add_flag("--scale-sampled", opt->scale_sampled,
                "Multiply packets and bytes by the exporter's sampling interval");
  cmd->footer(
      "Records are one-way flows, with the canonical names of 'flowscope fields --kind flow'.\n"
      "Times are ISO 8601 in UTC; absent values print as '-' (table) or are left out (JSON).\n\n"
      "Examples:\n"
      "  flowscope decode export.pcap                      default fields as a table\n"
      "  flowscope decode export.pcap --format csv --fields src_addr,dst_addr,bytes\n"
      "  flowscope decode nf9.pcap --port 2057 --format json\n"
      "  flowscope decode export.pcap --stats              per-exporter counters\n"
      "  tcpdump -w - udp port 2055 | flowscope decode -   decode a live capture");
  cmd->callback([opt] { run(*opt); });
}

}  // namespace flowscope::cli
