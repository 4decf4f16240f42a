#include "probe/probe.h"

#include <algorithm>
#include <ctime>
#include <memory>
#include <utility>

#include <fmt/format.h>
#include <glob.h>
#include <nlohmann/json.hpp>

#include "core/flow_packet.h"
#include "core/time.h"
#include "probe/settings_schedule.h"

namespace flowscope::probe {
namespace {

StopFlag g_stop_signal = 0;
extern "C" void on_probe_stop_signal(int) { g_stop_signal = 1; }

std::int64_t wall_ns() {
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  return std::int64_t{now.tv_sec} * 1'000'000'000 + now.tv_nsec;
}

// An error of a component (source, exporter, sink) is never a usage error of the probe's
// settings: InvalidArgument is kept for those (probe/probe.h).
Error failure(Error e, const std::string& prefix = {}) {
  if (e.code == ErrorCode::InvalidArgument) e.code = ErrorCode::Io;
  e.message = prefix + e.message;
  return e;
}

// One run: the meter, the schedule, the exporter and the batch handed on, with the loop over
// the inputs.
class Run {
 public:
  Run(const ProbeOptions& options, const SessionSink& sink)
      : opt_(options),
        sink_(sink),
        live_(!options.interface.empty()),
        meter_(options.meter),
        sessions_(std::max<std::size_t>(options.flush_rows, 1)),
        schedule_(options.config_path, options.config_name, options.scheduled),
        filter_(options.filter),
        idle_ns_(options.meter.idle_timeout),
        active_ns_(options.meter.active_timeout),
        max_flows_(options.meter.max_flows) {}

  Result<ProbeSummary> run();

 private:
  Result<void> read(const std::string& input);
  Result<void> run_schedule(std::int64_t now_ms);
  void reload(std::int64_t wall);
  Result<void> open_exporter(capture::TimeNs first_ns);
  Result<void> drain(bool force);
  bool stopped() const { return opt_.stop != nullptr && *opt_.stop != 0; }
  void note(const std::string& text) const {
    if (opt_.on_note) opt_.on_note(text);
  }
  void warn(const std::string& text) const {
    if (opt_.on_warning) opt_.on_warning(text);
  }

  const ProbeOptions& opt_;
  const SessionSink& sink_;
  const bool live_;
  capture::FlowMeter meter_;
  SessionBatch sessions_;
  SettingsSchedule schedule_;
  std::string filter_;
  capture::TimeNs idle_ns_;
  capture::TimeNs active_ns_;
  std::size_t max_flows_;
  capture::PcapSource* current_source_ = nullptr;
  std::unique_ptr<SessionExporter> exporter_;
  capture::TimeNs last_ts_ = 0;
  std::uint64_t handed_on_ = 0;
  std::uint64_t kernel_drops_ = 0;
  std::string read_error_;
};

// Applies every scheduled block whose start_at the clock reached: the meter's timeouts and
// table size at once, a filter on the open source.
Result<void> Run::run_schedule(std::int64_t now_ms) {
  while (auto block = schedule_.next_due(now_ms)) {
    const capture::ProbeSettings& s = block->settings;
    if (s.idle_timeout) {
      auto ns = seconds_to_ns(*s.idle_timeout, "idle_timeout");
      if (!ns) return std::move(ns).error();
      idle_ns_ = *ns;
    }
    if (s.active_timeout) {
      auto ns = seconds_to_ns(*s.active_timeout, "active_timeout");
      if (!ns) return std::move(ns).error();
      active_ns_ = *ns;
    }
    if (s.max_flows) max_flows_ = *s.max_flows;
    meter_.reconfigure(idle_ns_, active_ns_, max_flows_);
    if (s.filter) {
      filter_ = *s.filter;
      if (current_source_ != nullptr) {
        if (auto r = current_source_->set_filter(filter_); !r) {
          warn(schedule_.path() + ":" + std::to_string(block->line) + ": " + r.error().message +
               "; the filter is unchanged");
        }
      }
    }
    note("config: " + schedule_.name() + ": settings of line " + std::to_string(block->line) +
         " in effect from " + format_time(block->start_at));
  }
  return {};
}

void Run::reload(std::int64_t wall) {
  if (auto warning = schedule_.reload(wall)) warn(*warning);
}

// Uptime starts an hour before the first packet, as on a probe that was running.
Result<void> Run::open_exporter(capture::TimeNs first_ns) {
  auto e = SessionExporter::open(*opt_.exporter, time_from_ms(first_ns / 1'000'000 - 3'600'000));
  if (!e) return failure(std::move(e).error(), "export: ");
  exporter_ = std::move(*e);
  return {};
}

// Hands the metered sessions on once a batch is full (or when `force`, at the end).
Result<void> Run::drain(bool force) {
  if (sessions_.empty() || (!force && sessions_.size() < opt_.flush_rows)) return {};
  if (sink_) {
    if (auto r = sink_(sessions_); !r) return failure(std::move(r).error());
  }
  handed_on_ += sessions_.size();
  if (exporter_) {
    if (auto r = exporter_->add(sessions_, time_from_ms(last_ts_ / 1'000'000)); !r) {
      return failure(std::move(r).error(), "export: ");
    }
  }
  sessions_.clear();
  return {};
}

Result<void> Run::read(const std::string& input) {
  auto source =
      live_ ? capture::PcapSource::open_live(input, opt_.snap_length, true, 500, opt_.buffer_bytes)
            : capture::PcapSource::open(input);
  if (!source) return failure(std::move(source).error());
  if (!filter_.empty()) {
    if (auto r = source->set_filter(filter_); !r) {
      return Error{ErrorCode::InvalidArgument, r.error().message};
    }
  }
  current_source_ = &*source;
  // Said once the interface is open, so scripts (and tests) know packets are being seen.
  if (live_) note("capture: listening on " + input);
  const LinkType link = source->link_type();
  capture::TimeNs first_ts = 0;
  std::uint64_t seen = 0;
  // After a stop a live capture still meters what the kernel has already captured (it stops
  // waiting for more), so the last packets before the signal are not lost. The drain is
  // bounded in time: a busy interface never empties its ring.
  bool draining = false;
  std::int64_t drain_until = 0;
  while (true) {
    if (stopped() && !draining) {
      if (!live_) break;
      draining = true;
      drain_until = wall_ns() + 1'000'000'000;
      source->set_wait(0);
    }
    if (draining && wall_ns() > drain_until) break;
    auto pkt = source->next();
    if (!pkt) {
      read_error_ = pkt.error().message;
      break;
    }
    if (!pkt->has_value()) break;
    const capture::CapturedPacket& p = **pkt;
    if (p.data.empty() && draining) break;  // the ring is empty
    if (p.data.empty()) {                   // live read timeout: run the timers on wall time
      const std::int64_t now = wall_ns();
      reload(now);
      if (auto r = run_schedule(now / 1'000'000); !r) return r;
      meter_.advance(now, sessions_);
    } else {
      if (live_ && (seen & 0xFFFF) == 0) reload(wall_ns());
      if (schedule_.pending()) {
        if (auto r = run_schedule(p.timestamp_ns / 1'000'000); !r) return r;
        if (!source->matches(p)) continue;  // read before a scheduled filter took effect
      }
      if (exporter_ == nullptr && opt_.exporter) {
        if (auto r = open_exporter(p.timestamp_ns); !r) return r;
      }
      if (first_ts == 0) first_ts = p.timestamp_ns;
      last_ts_ = std::max(last_ts_, p.timestamp_ns);
      meter_.add(link, p.data, p.wire_length, p.timestamp_ns, sessions_);
      ++seen;
    }
    if (auto r = drain(false); !r) return r;
    if (opt_.count != 0 && seen >= opt_.count) break;
    if (live_ && opt_.duration > 0 && first_ts != 0 &&
        last_ts_ - first_ts >= static_cast<capture::TimeNs>(opt_.duration * 1e9)) {
      break;
    }
  }
  kernel_drops_ += source->kernel_drops();
  current_source_ = nullptr;
  return {};
}

Result<ProbeSummary> Run::run() {
  if (live_ == !opt_.files.empty()) {
    return Error{ErrorCode::InvalidArgument, "give either pcap files or a live interface"};
  }
  const std::vector<std::string> inputs =
      live_ ? std::vector<std::string>{opt_.interface} : opt_.files;
  for (const std::string& input : inputs) {
    if (auto r = read(input); !r) return std::move(r).error();
    if (!read_error_.empty()) break;
  }
  meter_.flush(sessions_);
  if (opt_.exporter && exporter_ == nullptr) {
    if (auto r = open_exporter(last_ts_); !r) return std::move(r).error();
  }
  if (auto r = drain(true); !r) return std::move(r).error();
  if (exporter_) {
    if (auto r = exporter_->finish(); !r) return failure(std::move(r).error());
  }
  ProbeSummary s;
  s.meter = meter_.stats();
  s.inputs = inputs.size();
  s.kernel_drops = kernel_drops_;
  s.sessions_handed_on = handed_on_;
  if (exporter_) {
    s.exported = ExportSummary{exporter_->flows(), exporter_->datagrams(), exporter_->skipped(),
                               exporter_->destination()};
  }
  s.has_config = schedule_.has_file();
  s.config_name = schedule_.name();
  s.scheduled_applied = schedule_.applied();
  s.scheduled_pending = schedule_.pending_count();
  s.read_error = read_error_;
  return s;
}

}  // namespace

StopFlag* stop_on_signals() {
  std::signal(SIGINT, on_probe_stop_signal);
  std::signal(SIGTERM, on_probe_stop_signal);
  return &g_stop_signal;
}

Result<ProbeSummary> run_probe(const ProbeOptions& options, const SessionSink& sink) {
  return Run(options, sink).run();
}

std::string summary_json(const ProbeSummary& summary, bool interrupted) {
  const capture::MeterStats& s = summary.meter;
  nlohmann::json malformed = nlohmann::json::object();
  for (std::size_t i = 0; i < kPacketIssueCount; ++i) {
    if (s.malformed[i] == 0) continue;
    malformed[std::string(packet_issue_name(static_cast<PacketIssue>(i)))] = s.malformed[i];
  }
  nlohmann::json j = {{"inputs", summary.inputs},
                      {"packets", s.packets},
                      {"bytes", s.frame_bytes},
                      {"metered", s.metered},
                      {"metered_bytes", s.metered_bytes},
                      {"not_ip", s.not_ip},
                      {"malformed", s.malformed_total()},
                      {"malformed_by_kind", malformed},
                      {"snapped", s.snapped},
                      {"tunneled", s.tunneled},
                      {"fragments", s.fragments},
                      {"fragments_unmatched", s.fragments_unmatched},
                      {"out_of_order", s.time_went_back},
                      {"kernel_drops", summary.kernel_drops},
                      {"sessions",
                       {{"total", s.sessions},
                        {"idle", s.closed_idle},
                        {"active", s.closed_active},
                        {"fin", s.closed_fin},
                        {"rst", s.closed_rst},
                        {"port_reuse", s.closed_reuse},
                        {"evicted", s.evicted},
                        {"end_of_input", s.closed_flush},
                        {"ftp_data_tagged", s.ftp_data_tagged}}},
                      {"sessions_written", summary.sessions_handed_on},
                      {"interrupted", interrupted}};
  if (summary.exported) {
    const ExportSummary& e = *summary.exported;
    j["export"] = {{"flows", e.flows},
                   {"datagrams", e.datagrams},
                   {"destination", e.destination},
                   {"skipped_ipv6_in_v5", e.skipped}};
  }
  if (summary.has_config) {
    j["config"] = {{"name", summary.config_name},
                   {"scheduled_applied", summary.scheduled_applied},
                   {"scheduled_pending", summary.scheduled_pending}};
  }
  if (!summary.read_error.empty()) j["read_error"] = summary.read_error;
  return j.dump();
}

std::string summary_text(const ProbeSummary& summary) {
  const capture::MeterStats& s = summary.meter;
  std::string malformed;
  for (std::size_t i = 0; i < kPacketIssueCount; ++i) {
    if (s.malformed[i] == 0) continue;
    malformed += malformed.empty() ? " (" : ", ";
    malformed +=
        fmt::format("{} {}", packet_issue_name(static_cast<PacketIssue>(i)), s.malformed[i]);
  }
  if (!malformed.empty()) malformed += ")";
  std::string out = fmt::format(
      "capture: {} input(s), {} packets ({} bytes), {} metered ({} bytes), {} not IP, "
      "{} malformed{}\n",
      summary.inputs, s.packets, s.frame_bytes, s.metered, s.metered_bytes, s.not_ip,
      s.malformed_total(), malformed);
  out += fmt::format(
      "capture: {} snapped, {} tunneled, {} fragments ({} unmatched), {} out of time order, "
      "{} kernel drops\n",
      s.snapped, s.tunneled, s.fragments, s.fragments_unmatched, s.time_went_back,
      summary.kernel_drops);
  out += fmt::format(
      "sessions: {} (idle {}, active {}, fin {}, rst {}, port reuse {}, evicted {}, end of "
      "input {}), ftp data tagged {}\n",
      s.sessions, s.closed_idle, s.closed_active, s.closed_fin, s.closed_rst, s.closed_reuse,
      s.evicted, s.closed_flush, s.ftp_data_tagged);
  if (summary.exported) {
    const ExportSummary& e = *summary.exported;
    out += fmt::format("export: {} flows in {} datagrams to {} ({} skipped: IPv6 in v5)\n", e.flows,
                       e.datagrams, e.destination, e.skipped);
  }
  if (summary.has_config) {
    out += fmt::format("config: {}: {} scheduled setting(s) applied, {} pending\n",
                       summary.config_name, summary.scheduled_applied, summary.scheduled_pending);
  }
  return out;
}

Result<std::vector<std::string>> expand_inputs(const std::vector<std::string>& args) {
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
    if (rc != 0) return Error{ErrorCode::InvalidArgument, arg + ": no file matches the pattern"};
  }
  return out;
}

Result<capture::TimeNs> seconds_to_ns(double seconds, std::string_view what) {
  if (!(seconds > 0) || seconds > 1e9) {
    return Error{ErrorCode::InvalidArgument,
                 std::string(what) + ": give a positive number of seconds"};
  }
  return static_cast<capture::TimeNs>(seconds * 1e9);
}

}  // namespace flowscope::probe
