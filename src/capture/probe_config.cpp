#include "capture/probe_config.h"

#include <algorithm>
#include <fstream>
#include <limits>
#include <span>
#include <sstream>
#include <tuple>

#include "core/toml_section.h"

namespace flowscope::capture {
namespace {

// The keys a [[scheduled]] block may set; the others need a restart or belong at the top.
constexpr std::string_view kScheduledKeys[] = {"start_at", "idle_timeout", "active_timeout",
                                               "max_flows", "filter"};
constexpr std::string_view kFormats[] = {"csv", "json", "v5", "v9", "ipfix"};
constexpr std::string_view kBytes[] = {"ip", "frame"};

Result<void> read_settings(TomlSection& t, ProbeSettings& out) {
  for (const char* key : {"idle_timeout", "active_timeout"}) {
    std::optional<double>& field =
        std::string_view(key) == "idle_timeout" ? out.idle_timeout : out.active_timeout;
    double v = 0;
    if (auto r = t.number(key, v, 0, kNoLimit, "seconds"); !r) return r;
    if (t.find(key) != nullptr) field = v;
  }
  std::size_t flows = 0;
  if (auto r = t.integer("max_flows", flows, 1, std::numeric_limits<std::int64_t>::max()); !r) {
    return r;
  }
  if (t.find("max_flows") != nullptr) out.max_flows = flows;
  if (auto r = t.string("filter", out.filter); !r) return r;
  if (auto r = t.string("export", out.export_target); !r) return r;
  for (auto [key, allowed, field] :
       {std::tuple{"format", std::span<const std::string_view>(kFormats), &out.format},
        std::tuple{"bytes", std::span<const std::string_view>(kBytes), &out.bytes}}) {
    if (t.find(key) == nullptr) continue;
    std::string v;
    if (auto r = t.choice(key, v, allowed); !r) return r;
    *field = v;
  }
  if (t.find("dpi") != nullptr) {
    bool v = false;
    if (auto r = t.boolean("dpi", v); !r) return r;
    out.dpi = v;
  }
  return {};
}

}  // namespace

Result<ProbeConfig> parse_probe_config(std::string_view text, std::string_view source) {
  auto parsed = parse_toml(text, source);
  if (!parsed) return parsed.error();
  const toml::table& root = *parsed;
  ProbeConfig config;
  TomlSection top(&root, source, "");
  if (auto r = top.string("name", config.name); !r) return std::move(r).error();
  if (auto r = top.string("interface", config.interface); !r) return std::move(r).error();
  if (const toml::node* at = top.find("start_at")) {
    return top.key_error(at, "start_at", "belongs in a [[scheduled]] block");
  }
  const toml::node* list_node = top.find("scheduled");
  if (auto r = read_settings(top, config.settings); !r) return std::move(r).error();
  if (auto r = top.check_keys(); !r) return std::move(r).error();
  if (list_node != nullptr) {
    const toml::array* list = list_node->as_array();
    if (list == nullptr) {
      return top.key_error(list_node, "scheduled", "must be [[scheduled]] tables");
    }
    for (const toml::node& node : *list) {
      TomlSection t(node.as_table(), source, "[scheduled]");
      if (node.as_table() == nullptr) {
        return top.key_error(&node, "scheduled", "must be [[scheduled]] tables");
      }
      ScheduledSettings s;
      s.line = static_cast<int>(node.source().begin.line);
      const toml::node* at = t.find("start_at");
      std::string at_text;
      if (auto r = t.string("start_at", at_text); !r) return std::move(r).error();
      if (at == nullptr) {
        return t.error_at(&node, "a [[scheduled]] block needs start_at = \"2026-11-25T06:00:00Z\"");
      }
      auto when = parse_time(at_text, TimeContext::system());
      if (!when) return t.key_error(at, "start_at", when.error().message);
      s.start_at = *when;
      for (const char* key :
           {"name", "interface", "scheduled", "export", "format", "bytes", "dpi"}) {
        if (const toml::node* n = node.as_table()->get(key)) {
          return t.key_error(n, key,
                             "cannot change without a restart; a [[scheduled]] block may set "
                             "idle_timeout, active_timeout, max_flows and filter");
        }
      }
      if (auto r = t.check_keys(kScheduledKeys); !r) return std::move(r).error();
      if (auto r = read_settings(t, s.settings); !r) return std::move(r).error();
      config.scheduled.push_back(std::move(s));
    }
  }
  std::stable_sort(config.scheduled.begin(), config.scheduled.end(),
                   [](const ScheduledSettings& a, const ScheduledSettings& b) {
                     return a.start_at < b.start_at;
                   });
  return config;
}

Result<ProbeConfig> load_probe_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{ErrorCode::Io, path + ": cannot read the probe configuration"};
  std::stringstream text;
  text << in.rdbuf();
  return parse_probe_config(text.str(), path);
}

}  // namespace flowscope::capture
