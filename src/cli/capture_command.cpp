// `flowscope capture (-r FILE... | -i IFACE) [BPF expression]`: meters packets into two-way
// sessions (capture/flow_meter.h) and writes them as CSV or JSON lines, or exports them to a
// collector as NetFlow v5, v9 or IPFIX (cli/capture_export.h). A summary of what was counted
// goes to standard error (docs/capture.md).
#include <sys/stat.h>

#include <csignal>
#include <cstdio>
#include <iostream>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <glob.h>
#include <nlohmann/json.hpp>

#include "capture/flow_meter.h"
#include "capture/pcap_source.h"
#include "capture/probe_config.h"
#include "cli/capture_export.h"
#include "cli/commands.h"
#include "core/field_format.h"
#include "core/field_registry.h"

namespace flowscope::cli {
namespace {

constexpr std::size_t kFlushRows = 4096;

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
  bool no_dpi = false;
  std::string config;  // probe configuration file
  // Filled from `config` (apply_config): scheduled settings, and the file's identity.
  std::string config_name;
  std::vector<capture::ScheduledSettings> scheduled;
};

// Set by SIGINT/SIGTERM during a live capture: the loop ends and open sessions are flushed.
volatile std::sig_atomic_t g_stop = 0;
extern "C" void on_capture_stop_signal(int) { g_stop = 1; }

std::vector<std::string> expand_inputs(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  for (const std::string& arg : args) {
    if (arg == "-" || arg.find_first_of("*?[") == std::string::npos) {
      out.push_back(arg);
      continue;
    }
    glob_t g{};
    const int rc = ::glob(arg.c_str(), 0, nullptr, &g);
    if (rc == 0) {
      for (std::size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
    }
    ::globfree(&g);
    if (rc != 0) throw UserError{"-r " + arg + ": no file matches the pattern", kExitUsage};
  }
  return out;
}

std::vector<FieldId> parse_fields(const std::string& list) {
  std::vector<FieldId> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t end = std::min(list.find(',', start), list.size());
    const std::string name = list.substr(start, end - start);
    start = end + 1;
    if (name.empty()) continue;
    auto id = find_field(RecordKind::Session, name);
    if (!id || SessionBatch::column_index(*id) < 0) {
      throw UserError{"--fields: \"" + name +
                          "\" is not a stored session field; see 'flowscope fields --kind "
                          "session'",
                      kExitUsage};
    }
    out.push_back(*id);
  }
  if (out.empty()) throw UserError{"--fields: the list is empty", kExitUsage};
  return out;
}

// CSV (RFC 4180) or JSON lines of session rows, written once per batch.
class SessionWriter {
 public:
  SessionWriter(std::FILE* out, bool json, std::vector<FieldId> fields)
      : out_(out), json_(json), fields_(std::move(fields)) {
    if (!json_) {
      for (std::size_t i = 0; i < fields_.size(); ++i) {
        buffer_ += i ? "," : "";
        buffer_ += field_info(fields_[i]).name;
      }
      buffer_ += '\n';
    }
  }

  void write(const SessionBatch& batch) {
    for (std::size_t row = 0; row < batch.size(); ++row) {
      if (json_) {
        nlohmann::json obj = nlohmann::json::object();
        for (FieldId id : fields_) {
          const Column& col = batch.column(id);
          if (!col.valid(row)) continue;
          auto number = numeric_field(col, row);
          if (number && field_info(id).type != FieldType::Time) {
            obj[std::string(field_info(id).name)] = *number;
          } else {
            obj[std::string(field_info(id).name)] = format_field(col, row);
          }
        }
        buffer_ += obj.dump();
      } else {
        for (std::size_t i = 0; i < fields_.size(); ++i) {
          if (i) buffer_ += ',';
          const std::size_t from = buffer_.size();
          append_field(buffer_, batch.column(fields_[i]), row);
          if (buffer_.find_first_of(",\"\n", from) != std::string::npos) {
            std::string value = buffer_.substr(from);
            buffer_.resize(from);
            buffer_ += '"';
            for (char c : value) buffer_.append(c == '"' ? 2 : 1, c);
            buffer_ += '"';
          }
        }
      }
      buffer_ += '\n';
    }
    std::fwrite(buffer_.data(), 1, buffer_.size(), out_);
    buffer_.clear();
  }

 private:
  std::FILE* out_;
  bool json_;
  std::vector<FieldId> fields_;
  std::string buffer_;
};

capture::TimeNs seconds_to_ns(double s, const char* option) {
  if (!(s > 0) || s > 1e9) {
    throw UserError{std::string(option) + ": give a positive number of seconds", kExitUsage};
  }
  return static_cast<capture::TimeNs>(s * 1e9);
}

void print_summary(const capture::MeterStats& s, std::size_t files, std::uint64_t kernel_drops,
                   const SessionExporter* exporter) {
  std::string malformed;
  for (std::size_t i = 0; i < kPacketIssueCount; ++i) {
    if (s.malformed[i] == 0) continue;
    malformed += malformed.empty() ? " (" : ", ";
    malformed += std::string(packet_issue_name(static_cast<PacketIssue>(i))) + " " +
                 std::to_string(s.malformed[i]);
  }
  if (!malformed.empty()) malformed += ")";
  std::fprintf(
      stderr,
      "capture: %zu input(s), %llu packets (%llu bytes), %llu metered (%llu bytes), "
      "%llu not IP, %llu malformed%s\n",
      files, static_cast<unsigned long long>(s.packets),
      static_cast<unsigned long long>(s.frame_bytes), static_cast<unsigned long long>(s.metered),
      static_cast<unsigned long long>(s.metered_bytes), static_cast<unsigned long long>(s.not_ip),
      static_cast<unsigned long long>(s.malformed_total()), malformed.c_str());
  std::fprintf(stderr,
               "capture: %llu snapped, %llu tunneled, %llu fragments (%llu unmatched), "
               "%llu out of time order, %llu kernel drops\n",
               static_cast<unsigned long long>(s.snapped),
               static_cast<unsigned long long>(s.tunneled),
               static_cast<unsigned long long>(s.fragments),
               static_cast<unsigned long long>(s.fragments_unmatched),
               static_cast<unsigned long long>(s.time_went_back),
               static_cast<unsigned long long>(kernel_drops));
  std::fprintf(
      stderr,
      "sessions: %llu (idle %llu, active %llu, fin %llu, rst %llu, port reuse %llu, "
      "evicted %llu, end of input %llu), ftp data tagged %llu\n",
      static_cast<unsigned long long>(s.sessions), static_cast<unsigned long long>(s.closed_idle),
      static_cast<unsigned long long>(s.closed_active),
      static_cast<unsigned long long>(s.closed_fin), static_cast<unsigned long long>(s.closed_rst),
      static_cast<unsigned long long>(s.closed_reuse), static_cast<unsigned long long>(s.evicted),
      static_cast<unsigned long long>(s.closed_flush),
      static_cast<unsigned long long>(s.ftp_data_tagged));
  if (exporter != nullptr) {
    std::fprintf(stderr, "export: %llu flows in %llu datagrams to %s (%llu skipped: IPv6 in v5)\n",
                 static_cast<unsigned long long>(exporter->flows()),
                 static_cast<unsigned long long>(exporter->datagrams()),
                 exporter->destination().c_str(),
                 static_cast<unsigned long long>(exporter->skipped()));
  }
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

std::int64_t file_mtime_ns(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return std::int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec;
}

std::int64_t wall_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

void run(const CaptureOptions& opt) {
  const bool live = !opt.interface.empty();
  if (live == !opt.files.empty()) {
    throw UserError{"give either -r FILE... or -i INTERFACE", kExitUsage};
  }
  const bool exporting = !opt.export_target.empty() || !opt.export_pcap.empty();
  std::string format = opt.format.empty() ? (exporting ? "ipfix" : "csv") : opt.format;
  const bool text = format == "csv" || format == "json";
  if (exporting && text) {
    throw UserError{"--export sends v5, v9 or ipfix; use --format v5|v9|ipfix", kExitUsage};
  }
  if (!exporting && !text) {
    throw UserError{"--format " + format + " needs --export HOST:PORT (or --export-pcap FILE)",
                    kExitUsage};
  }
  capture::MeterConfig config;
  config.active_timeout = seconds_to_ns(opt.active_timeout, "--active-timeout");
  config.idle_timeout = seconds_to_ns(opt.idle_timeout, "--idle-timeout");
  if (opt.max_flows == 0) throw UserError{"--max-flows: give at least 1", kExitUsage};
  config.max_flows = opt.max_flows;
  config.bytes = opt.bytes == "frame" ? capture::ByteCount::Frame : capture::ByteCount::Layer3;
  config.application_labels = !opt.no_dpi;
  std::string filter = opt.filter;
  for (const std::string& w : opt.filter_words) filter += (filter.empty() ? "" : " ") + w;

  std::vector<FieldId> fields;
  std::FILE* out = stdout;
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> out_file(nullptr, &std::fclose);
  std::unique_ptr<SessionWriter> writer;
  if (text) {
    fields = parse_fields(opt.fields);
    if (opt.output != "-") {
      out_file.reset(std::fopen(opt.output.c_str(), "w"));
      if (!out_file) throw UserError{"-w " + opt.output + ": cannot create the file"};
      out = out_file.get();
    }
    writer = std::make_unique<SessionWriter>(out, format == "json", fields);
  }

  std::vector<std::string> inputs =
      live ? std::vector<std::string>{opt.interface} : expand_inputs(opt.files);
  capture::FlowMeter meter(config);
  SessionBatch sessions(kFlushRows);
  // Scheduled settings (a probe configuration's [[scheduled]] blocks) apply when the clock
  // (packet time; wall time on a quiet live link) reaches their start_at. A live probe re-reads
  // the file when it changes, so blocks added while it runs are picked up too.
  std::vector<capture::ScheduledSettings> scheduled = opt.scheduled;
  std::size_t next_scheduled = 0;
  std::int64_t last_applied_ms = std::numeric_limits<std::int64_t>::min();
  std::uint64_t applied = 0;
  std::int64_t config_mtime = opt.config.empty() ? -1 : file_mtime_ns(opt.config);
  std::int64_t next_config_check = 0;
  capture::TimeNs idle_ns = config.idle_timeout, active_ns = config.active_timeout;
  std::size_t max_flows = config.max_flows;
  capture::PcapSource* current_source = nullptr;
  auto run_schedule = [&](std::int64_t now_ms) {
    while (next_scheduled < scheduled.size() &&
           to_ms(scheduled[next_scheduled].start_at) <= now_ms) {
      const capture::ScheduledSettings& block = scheduled[next_scheduled++];
      const capture::ProbeSettings& s = block.settings;
      if (s.idle_timeout) idle_ns = seconds_to_ns(*s.idle_timeout, "idle_timeout");
      if (s.active_timeout) active_ns = seconds_to_ns(*s.active_timeout, "active_timeout");
      if (s.max_flows) max_flows = *s.max_flows;
      meter.reconfigure(idle_ns, active_ns, max_flows);
      if (s.filter) {
        filter = *s.filter;
        if (current_source != nullptr) {
          if (auto r = current_source->set_filter(filter); !r) {
            std::fprintf(stderr, "flowscope: warning: %s:%d: %s; the filter is unchanged\n",
                         opt.config.c_str(), block.line, r.error().message.c_str());
          }
        }
      }
      last_applied_ms = to_ms(block.start_at);
      ++applied;
      if (!opt.quiet) {
        std::fprintf(stderr, "config: %s: settings of line %d in effect from %s\n",
                     opt.config_name.c_str(), block.line, format_time(block.start_at).c_str());
      }
    }
  };
  auto reload_config = [&](std::int64_t wall) {
    if (opt.config.empty() || wall < next_config_check) return;
    next_config_check = wall + 1'000'000'000;
    const std::int64_t mtime = file_mtime_ns(opt.config);
    if (mtime == config_mtime) return;
    config_mtime = mtime;
    auto loaded = capture::load_probe_config(opt.config);
    if (!loaded) {
      std::fprintf(stderr, "flowscope: warning: %s; keeping the running configuration\n",
                   loaded.error().message.c_str());
      return;
    }
    scheduled.clear();
    for (const capture::ScheduledSettings& block : loaded->scheduled) {
      if (to_ms(block.start_at) > last_applied_ms) scheduled.push_back(block);
    }
    next_scheduled = 0;
  };
  std::unique_ptr<SessionExporter> exporter;
  capture::TimeNs last_ts = 0;
  auto drain = [&](bool force) {
    if (sessions.empty() || (!force && sessions.size() < kFlushRows)) return;
    if (writer) writer->write(sessions);
    if (exporter) {
      if (auto r = exporter->add(sessions, time_from_ms(last_ts / 1'000'000)); !r) {
        throw UserError{"--export: " + r.error().message};
      }
    }
    sessions.clear();
  };

  std::uint64_t kernel_drops = 0;
  std::string read_error;
  if (live) {
    std::signal(SIGINT, on_capture_stop_signal);
    std::signal(SIGTERM, on_capture_stop_signal);
  }
  for (const std::string& input : inputs) {
    auto source = live ? capture::PcapSource::open_live(input, opt.snap_length, true, 500,
                                                        opt.buffer_kib * 1024)
                       : capture::PcapSource::open(input);
    if (!source) throw UserError{source.error().message};
    if (!filter.empty()) {
      if (auto r = source->set_filter(filter); !r) throw UserError{r.error().message, kExitUsage};
    }
    current_source = &*source;
    if (live && !opt.quiet) {
      // Said once the interface is open, so scripts (and tests) know packets are being seen.
      std::fprintf(stderr, "capture: listening on %s\n", input.c_str());
      std::fflush(stderr);
    }
    const LinkType link = source->link_type();
    capture::TimeNs first_ts = 0;
    std::uint64_t seen = 0;
    // After SIGINT/SIGTERM a live capture still meters what the kernel has already captured
    // (it stops waiting for more), so the last packets before the signal are not lost.
    // The drain is bounded in time: a busy interface never empties its ring.
    bool draining = false;
    std::int64_t drain_until = 0;
    while (true) {
      if (g_stop != 0 && !draining) {
        if (!live) break;
        draining = true;
        drain_until = wall_ns() + 1'000'000'000;
        source->set_wait(0);
      }
      if (draining && wall_ns() > drain_until) break;
      auto pkt = source->next();
      if (!pkt) {
        read_error = pkt.error().message;
        break;
      }
      if (!pkt->has_value()) break;
      const capture::CapturedPacket& p = **pkt;
      if (p.data.empty() && draining) break;  // the ring is empty
      if (p.data.empty()) {                   // live read timeout: run the timers on wall time
        const std::int64_t now = wall_ns();
        reload_config(now);
        run_schedule(now / 1'000'000);
        meter.advance(now, sessions);
      } else {
        if (live && (seen & 0xFFFF) == 0) reload_config(wall_ns());
        if (next_scheduled < scheduled.size()) {
          run_schedule(p.timestamp_ns / 1'000'000);
          if (!source->matches(p)) continue;  // read before a scheduled filter took effect
        }
        if (exporter == nullptr && exporting) {
          // Uptime starts an hour before the first packet, as on a probe that was running.
          auto e = SessionExporter::open(
              {*decode::parse_export_format(format), opt.export_target, opt.export_pcap, 1},
              time_from_ms(p.timestamp_ns / 1'000'000 - 3'600'000));
          if (!e) throw UserError{"--export: " + e.error().message};
          exporter = std::move(*e);
        }
        if (first_ts == 0) first_ts = p.timestamp_ns;
        last_ts = std::max(last_ts, p.timestamp_ns);
        meter.add(link, p.data, p.wire_length, p.timestamp_ns, sessions);
        ++seen;
      }
      drain(false);
      if (opt.count != 0 && seen >= opt.count) break;
      if (live && opt.duration > 0 && first_ts != 0 &&
          last_ts - first_ts >= static_cast<capture::TimeNs>(opt.duration * 1e9)) {
        break;
      }
    }
    kernel_drops += source->kernel_drops();
    current_source = nullptr;
    if (!read_error.empty()) break;
  }
  meter.flush(sessions);
  if (exporting && exporter == nullptr) {
    auto e = SessionExporter::open(
        {*decode::parse_export_format(format), opt.export_target, opt.export_pcap, 1},
        time_from_ms(last_ts / 1'000'000 - 3'600'000));
    if (!e) throw UserError{"--export: " + e.error().message};
    exporter = std::move(*e);
  }
  drain(true);
  if (exporter) {
    if (auto r = exporter->finish(); !r) throw UserError{r.error().message};
  }
  if (out_file) {
    if (std::fclose(out_file.release()) != 0)
      throw UserError{"-w " + opt.output + ": write failed"};
  } else {
    std::fflush(stdout);
  }
  if (!opt.quiet) {
    print_summary(meter.stats(), inputs.size(), kernel_drops, exporter.get());
    if (!opt.config.empty()) {
      std::fprintf(stderr, "config: %s: %llu scheduled setting(s) applied, %zu pending\n",
                   opt.config_name.c_str(), static_cast<unsigned long long>(applied),
                   scheduled.size() - next_scheduled);
    }
  }
  if (!read_error.empty()) throw UserError{read_error};
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
  cmd->add_option("-w,--output", opt->output, "Write csv/json here instead of standard output");
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
  cmd->add_option("-c,--count", opt->count, "Stop after this many packets (per input)");
  cmd->add_option("--duration", opt->duration, "Live: stop after this many seconds of traffic");
  cmd->add_option("-s,--snaplen", opt->snap_length, "Live: bytes captured per packet")
      ->capture_default_str();
  cmd->add_option("-B,--buffer-size", opt->buffer_kib,
                  "Live: the kernel's capture ring in KiB, as tcpdump -B (a small ring drops "
                  "bursts: see 'kernel drops' in the summary)")
      ->check(CLI::Range(256, 1 << 21))
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", opt->quiet, "No summary on standard error");
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
