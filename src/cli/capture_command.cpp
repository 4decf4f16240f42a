// `flowscope capture (-r FILE... | -i IFACE) [BPF expression]`: the probe (probe/probe.h) meters
// packets into two-way sessions and this command writes them as CSV or JSON lines with query's
// writer (query/output.h), or the probe exports them to a collector as NetFlow v5, v9 or IPFIX.
// A summary of what was counted goes to standard error (docs/capture.md). Option parsing and
// calls only.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "capture/pcap_source.h"
#include "capture/probe_config.h"
#include "cli/commands.h"
#include "cli/interrupt.h"
#include "core/field_registry.h"
#include "core/log.h"
#include "core/record_batch.h"
#include "probe/probe.h"
#include "query/output.h"
#include "query/query_spec.h"

namespace flowscope::cli {
namespace {

struct CaptureOptions {
  std::vector<std::string> files;
  std::string interface;
  std::vector<std::string> filter_words;
  std::string filter;
  std::string format;
  std::string fields = default_column_names(Surface::Capture);  // core/fields.def
  std::string output = "-";
  std::string export_target;
  std::string export_pcap;
  double active_timeout = 1800;
  double idle_timeout = 60;
  std::size_t max_flows = std::size_t{1} << 20;
  std::string bytes = "ip";
  std::uint64_t count = 0;
  double duration = 0;
  int snap_length = 262144;
  int buffer_kib = capture::PcapSource::kDefaultBufferBytes / 1024;
  bool quiet = false;
  bool json = false;  // the summary as one JSON object
  bool no_dpi = false;
  std::string config;  // probe configuration file
  // Filled from `config` (apply_config): scheduled settings, and the file's identity.
  std::string config_name;
  std::vector<capture::ScheduledSettings> scheduled;
};

// A probe error as the user sees it: a setting that is not valid is a usage error (exit 2).
UserError user_error(const Error& e, const std::string& prefix = {}) {
  return UserError{prefix + e.message,
                   e.code == ErrorCode::InvalidArgument ? kExitUsage : kExitError};
}

std::vector<FieldId> parse_fields(const std::string& list) {
  auto fields = query::parse_field_list(list, RecordKind::Session);
  if (!fields) throw UserError{"--fields: " + fields.error().message, kExitUsage};
  return *fields;
}

capture::TimeNs seconds(double s, const char* option) {
  auto ns = probe::seconds_to_ns(s, option);
  if (!ns) throw user_error(ns.error());
  return *ns;
}

// The configuration file's settings for every option not given on the command line.
void apply_config(CaptureOptions& opt, const CLI::App& cmd) {
  if (opt.config.empty()) return;
  auto loaded = capture::load_probe_config(opt.config);
  if (!loaded) throw UserError{loaded.error().message};
  const capture::ProbeConfig& c = *loaded;
  const capture::ProbeSettings& s = c.settings;
  auto unset = [&](const char* option) { return cmd.count(option) == 0; };
  if (opt.files.empty() && opt.interface.empty()) opt.interface = c.interface;
  if (s.idle_timeout && unset("--idle-timeout")) opt.idle_timeout = *s.idle_timeout;
  if (s.active_timeout && unset("--active-timeout")) opt.active_timeout = *s.active_timeout;
  if (s.max_flows && unset("--max-flows")) opt.max_flows = *s.max_flows;
  if (s.filter && unset("--filter") && opt.filter_words.empty()) opt.filter = *s.filter;
  if (s.export_target && unset("--export")) opt.export_target = *s.export_target;
  if (s.format && unset("--format")) opt.format = *s.format;
  if (s.bytes && unset("--bytes")) opt.bytes = *s.bytes;
  if (s.dpi && unset("--no-dpi")) opt.no_dpi = !*s.dpi;
  opt.config_name = c.name.empty() ? opt.config : c.name;
  opt.scheduled = c.scheduled;
}

void run(const CaptureOptions& opt) {
  const bool live = !opt.interface.empty();
  if (live == !opt.files.empty()) {
    throw UserError{"give either -r FILE... or -i INTERFACE", kExitUsage};
  }
  const bool exporting = !opt.export_target.empty() || !opt.export_pcap.empty();
  const std::string format = opt.format.empty() ? (exporting ? "ipfix" : "csv") : opt.format;
  const bool text = format == "csv" || format == "json";
  if (exporting && text) {
    throw UserError{"--export sends v5, v9 or ipfix; use --format v5|v9|ipfix", kExitUsage};
  }
  if (!exporting && !text) {
    throw UserError{"--format " + format + " needs --export HOST:PORT (or --export-pcap FILE)",
                    kExitUsage};
  }
  probe::ProbeOptions p;
  p.meter.active_timeout = seconds(opt.active_timeout, "--active-timeout");
  p.meter.idle_timeout = seconds(opt.idle_timeout, "--idle-timeout");
  if (opt.max_flows == 0) throw UserError{"--max-flows: give at least 1", kExitUsage};
  p.meter.max_flows = opt.max_flows;
  p.meter.bytes = opt.bytes == "frame" ? capture::ByteCount::Frame : capture::ByteCount::Layer3;
  p.meter.application_labels = !opt.no_dpi;
  p.filter = opt.filter;
  for (const std::string& w : opt.filter_words) p.filter += (p.filter.empty() ? "" : " ") + w;
  if (exporting) {
    p.exporter = probe::ExportOptions{*decode::parse_export_format(format), opt.export_target,
                                      opt.export_pcap, 1};
  }
  p.count = opt.count;
  p.duration = opt.duration;
  p.snap_length = opt.snap_length;
  p.buffer_bytes = opt.buffer_kib * 1024;
  p.config_path = opt.config;
  p.config_name = opt.config_name;
  p.scheduled = opt.scheduled;
  if (!opt.quiet) {
    p.on_note = [](const std::string& line) {
      log_always(spdlog::level::info, "capture", line, line);
    };
  }
  p.on_warning = [](const std::string& line) {
    log_always(spdlog::level::warn, "capture", "flowscope: warning: " + line, line);
  };

  // Sessions go through query's writer, created with the first batch: a run that metered no
  // session writes nothing, not even the CSV header.
  std::vector<FieldId> fields = text ? parse_fields(opt.fields) : std::vector<FieldId>{};
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (text && opt.output != "-") {
    file.open(opt.output, std::ios::binary | std::ios::trunc);
    if (!file) throw UserError{"-w " + opt.output + ": cannot create the file"};
    out = &file;
  }
  query::OutputOptions o;
  o.format = format == "json" ? query::OutputFormat::JsonLines : query::OutputFormat::CsvHeader;
  std::unique_ptr<query::RowWriter> writer;
  probe::SessionSink sink;
  if (text) {
    sink = [&](const SessionBatch& batch) -> Result<void> {
      if (!writer) {
        auto w = query::RowWriter::create(*out, fields, o);
        if (!w) return std::move(w).error();
        writer = std::move(*w);
      }
      writer->write(batch);
      return {};
    };
  }
  // SIGINT/SIGTERM end the run: a live capture ends that way (exit 0); -r stops reading, ends
  // every open session, writes them and the summary, and exits 130.
  p.stop = probe::stop_on_signals();
  if (live) {
    p.interface = opt.interface;
  } else {
    auto files = probe::expand_inputs(opt.files);
    if (!files) throw user_error(files.error(), "-r ");
    p.files = std::move(*files);
  }
  auto summary = probe::run_probe(p, sink);
  if (!summary) throw user_error(summary.error());
  if (writer) writer->finish();
  if (file.is_open()) {
    file.close();
    if (!file) throw UserError{"-w " + opt.output + ": write failed"};
  } else {
    std::fflush(stdout);
  }
  const bool interrupted = !live && *p.stop != 0;
  if (opt.json) {
    std::fprintf(stderr, "%s\n", probe::summary_json(*summary, interrupted).c_str());
  } else if (!opt.quiet) {
    std::fputs(probe::summary_text(*summary).c_str(), stderr);
  }
  if (!summary->read_error.empty()) throw UserError{summary->read_error};
  if (interrupted) {
    throw UserError{fmt::format("interrupted; the {} sessions metered so far are written",
                                summary->sessions_handed_on),
                    kExitInterrupted};
  }
}

}  // namespace

void register_capture(CLI::App& app) {
  auto opt = std::make_shared<CaptureOptions>();
  CLI::App* cmd = app.add_subcommand(
      "capture",
      "Meter packets (pcap files or a live interface) into two-way sessions; write "
      "them as CSV/JSON or export them as NetFlow v5/v9 or IPFIX");
  cmd->add_option("-r,--read", opt->files,
                  "Capture files (pcap or pcapng; globs allowed; - for standard input)");
  cmd->add_option("-i,--interface", opt->interface, "Capture live on this interface");
  cmd->add_option("expression", opt->filter_words,
                  "BPF filter expression, as for tcpdump (pcap-filter(7)); after -r files, "
                  "put it after -- or use -f");
  cmd->add_option("-f,--filter", opt->filter, "BPF filter expression (joined with EXPRESSION)");
  cmd->add_option("--format", opt->format,
                  "csv or json: write sessions; v5, v9 or ipfix: the export format (default csv, "
                  "or ipfix with --export)")
      ->check(CLI::IsMember({"csv", "json", "v5", "v9", "ipfix"}));
  cmd->add_option("--fields", opt->fields,
                  "Session fields for csv/json (see 'flowscope fields --kind session')")
      ->capture_default_str();
  cmd->add_option("-w,--write,--output", opt->output,
                  "Write csv/json here instead of standard output");
  cmd->add_option("--export", opt->export_target,
                  "Send the metered flows to this collector, HOST:PORT (UDP)");
  cmd->add_option("--export-pcap", opt->export_pcap,
                  "Also write the export datagrams to this pcap file");
  cmd->add_option("--active-timeout", opt->active_timeout,
                  "Seconds after which a long session is reported and continued")
      ->capture_default_str();
  cmd->add_option("--idle-timeout", opt->idle_timeout,
                  "Seconds without a packet after which a session ends")
      ->capture_default_str();
  cmd->add_option("--max-flows", opt->max_flows,
                  "Open sessions at most; the least recently seen is evicted beyond")
      ->capture_default_str();
  cmd->add_option("--bytes", opt->bytes,
                  "Count IP packet bytes (ip, as NetFlow) or whole frames (frame, as tshark)")
      ->check(CLI::IsMember({"ip", "frame"}))
      ->capture_default_str();
  cmd->add_option("-c,--limit,--count", opt->count, "Stop after this many packets (per input)");
  cmd->add_option("--duration", opt->duration, "Live: stop after this many seconds of traffic");
  cmd->add_option("-s,--snaplen", opt->snap_length, "Live: bytes captured per packet")
      ->capture_default_str();
  cmd->add_option("-B,--buffer-size", opt->buffer_kib,
                  "Live: the kernel's capture ring in KiB, as tcpdump -B (a small ring drops "
                  "bursts: see 'kernel drops' in the summary)")
      ->check(CLI::Range(256, 1 << 21))
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", opt->quiet, "No summary on standard error");
  cmd->add_flag("--json", opt->json, "The summary as one JSON object (on standard error)");
  cmd->add_option("--config", opt->config,
                  "Probe configuration file (TOML): settings, and [[scheduled]] settings that "
                  "take effect at their start_at without a restart (docs/capture.md)");
  cmd->add_flag("--no-dpi", opt->no_dpi,
                "No nDPI application labels (faster; they need a build with libndpi-dev)");
  cmd->footer(
      "Sessions are two-way: the client is the side that sent the first SYN, else the rule of\n"
      "docs/sessions.md. The summary on standard error counts packets, malformed packets by\n"
      "kind, sessions by end reason and evictions (docs/capture.md).\n\n"
      "Examples:\n"
      "  flowscope capture -r day1.pcap day2.pcapng                sessions as CSV\n"
      "  flowscope capture -r 'traces/*.pcap' --format json -f 'tcp port 443'\n"
      "  flowscope capture -r a.pcap b.pcap -- udp and not port 53\n"
      "  flowscope capture -r trace.pcap --export 127.0.0.1:2055 --format v9\n"
      "  flowscope capture -i eth0 --export collector:4739 --idle-timeout 30\n"
      "  flowscope capture --config /etc/flowscope/edge-1.toml     a named probe\n"
      "  tcpdump -w - -i eth0 | flowscope capture -r - --fields cln_addr,srv_addr,cln_rtt");
  cmd->callback([opt, cmd] {
    apply_config(*opt, *cmd);
    run(*opt);
  });
}

}  // namespace flowscope::cli
