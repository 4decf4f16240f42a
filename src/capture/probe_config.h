#pragma once
// A named probe configuration file (TOML; trafMon's probe `-n`): the settings of
// `flowscope capture`, plus scheduled settings that take effect at their `start_at` time
// without a restart. A running live probe re-reads the file when it changes, so a scheduled
// block added later is picked up too (docs/capture.md "CONFIGURATION FILE").
//
//   name = "edge-1"
//   interface = "eth0"
//   idle_timeout = 60          # seconds
//   active_timeout = 1800
//   max_flows = 1000000
//   filter = "not port 22"     # BPF
//   export = "127.0.0.1:2055"
//   format = "v9"              # csv, json, v5, v9, ipfix
//   bytes = "ip"               # or "frame"
//   dpi = true
//
//   [[scheduled]]                       # idle_timeout, active_timeout, max_flows, filter
//   start_at = "2026-11-25T06:00:00Z"   # docs/time.md absolute times
//   filter = "tcp"
//   idle_timeout = 30
//
// Loading is a boundary (docs/conventions.md "Errors"): errors name the file and line and say what
// to write. Pure functions; any thread.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"

namespace flowscope::capture {

struct ProbeSettings {
  std::optional<double> idle_timeout;    // seconds
  std::optional<double> active_timeout;  // seconds
  std::optional<std::size_t> max_flows;
  std::optional<std::string> filter;
  std::optional<std::string> export_target;
  std::optional<std::string> format;
  std::optional<std::string> bytes;
  std::optional<bool> dpi;
};

struct ScheduledSettings {
  TimeMs start_at{};
  ProbeSettings settings;
  int line = 0;  // where the block starts, for messages
};

struct ProbeConfig {
  std::string name;
  std::string interface;
  ProbeSettings settings;
  std::vector<ScheduledSettings> scheduled;  // by start_at
};

Result<ProbeConfig> parse_probe_config(std::string_view text, std::string_view source);
Result<ProbeConfig> load_probe_config(const std::string& path);

}  // namespace flowscope::capture
