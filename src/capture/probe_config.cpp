#include "capture/probe_config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

namespace flowscope::capture {
namespace {

Error bad(std::string_view source, const toml::node& node, const std::string& what) {
  return Error{ErrorCode::InvalidArgument,
               std::string(source) + ":" + std::to_string(node.source().begin.line) + ": " + what};
}

Result<void> read_settings(const toml::table& t, std::string_view source, ProbeSettings& out) {
  static constexpr std::string_view kKnown[] = {
      "name",   "interface", "idle_timeout", "active_timeout", "max_flows", "filter", "export",
      "format", "bytes",     "dpi",          "start_at",       "scheduled"};
  for (const auto& [key, node] : t) {
    if (std::find(std::begin(kKnown), std::end(kKnown), key.str()) == std::end(kKnown)) {
      return bad(source, node,
                 "unknown setting \"" + std::string(key.str()) +
                     "\"; settings: idle_timeout, active_timeout, max_flows, filter, export, "
                     "format, bytes, dpi (docs/capture.md)");
    }
  }
  for (const char* key : {"idle_timeout", "active_timeout"}) {
    if (const toml::node* n = t.get(key)) {
      const auto v = n->value<double>();
      if (!v || !(*v > 0))
        return bad(source, *n, std::string(key) + " must be seconds > 0, e.g. 60");
      (std::string_view(key) == "idle_timeout" ? out.idle_timeout : out.active_timeout) = *v;
    }
  }
  if (const toml::node* n = t.get("max_flows")) {
    const auto v = n->value<std::int64_t>();
    if (!v || *v < 1) return bad(source, *n, "max_flows must be a whole number >= 1");
    out.max_flows = static_cast<std::size_t>(*v);
  }
  auto text = [&](const char* key, std::optional<std::string>& field,
                  std::initializer_list<std::string_view> allowed) -> Result<void> {
    const toml::node* n = t.get(key);
    if (n == nullptr) return {};
    const auto v = n->value<std::string>();
    if (!v) return bad(source, *n, std::string(key) + " must be a string");
    if (allowed.size() != 0 && std::find(allowed.begin(), allowed.end(), *v) == allowed.end()) {
      std::string list;
      for (std::string_view a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      return bad(source, *n, std::string(key) + " \"" + *v + "\" is not one of " + list);
    }
    field = *v;
    return {};
  };
  if (auto r = text("filter", out.filter, {}); !r) return r;
  if (auto r = text("export", out.export_target, {}); !r) return r;
  if (auto r = text("format", out.format, {"csv", "json", "v5", "v9", "ipfix"}); !r) return r;
  if (auto r = text("bytes", out.bytes, {"ip", "frame"}); !r) return r;
  if (const toml::node* n = t.get("dpi")) {
    const auto v = n->value<bool>();
    if (!v) return bad(source, *n, "dpi must be true or false");
    out.dpi = *v;
  }
  return {};
}

}  // namespace

Result<ProbeConfig> parse_probe_config(std::string_view text, std::string_view source) {
  // Debian's toml++ is built with exceptions: configuration loading is a boundary where
  // docs/conventions.md "Errors" allows them; the parse error becomes a Result here.
  toml::table root;
  try {
    root = toml::parse(text, source);
  } catch (const toml::parse_error& err) {
    return Error{ErrorCode::Parse, std::string(source) + ":" +
                                       std::to_string(err.source().begin.line) + ": " +
                                       std::string(err.description())};
  }
  ProbeConfig config;
  config.name = root["name"].value_or(std::string());
  config.interface = root["interface"].value_or(std::string());
  if (auto r = read_settings(root, source, config.settings); !r) return std::move(r).error();
  if (const toml::node* list_node = root.get("scheduled")) {
    const toml::array* list = list_node->as_array();
    if (list == nullptr) {
      return bad(source, *list_node, "scheduled must be [[scheduled]] tables");
    }
    for (const toml::node& node : *list) {
      const toml::table* t = node.as_table();
      if (t == nullptr) return bad(source, node, "scheduled must be [[scheduled]] tables");
      ScheduledSettings s;
      s.line = static_cast<int>(node.source().begin.line);
      const toml::node* at = t->get("start_at");
      const auto at_text = at != nullptr ? at->value<std::string>() : std::nullopt;
      if (!at_text) {
        return bad(source, node, "a [[scheduled]] block needs start_at = \"2026-11-25T06:00:00Z\"");
      }
      auto when = parse_time(*at_text, TimeContext::system());
      if (!when) return bad(source, *at, "start_at: " + when.error().message);
      s.start_at = *when;
      for (const char* key :
           {"name", "interface", "scheduled", "export", "format", "bytes", "dpi"}) {
        if (const toml::node* n = t->get(key)) {
          return bad(source, *n,
                     std::string(key) +
                         " cannot change without a restart; a [[scheduled]] block may set "
                         "idle_timeout, active_timeout, max_flows and filter");
        }
      }
      if (auto r = read_settings(*t, source, s.settings); !r) return std::move(r).error();
      config.scheduled.push_back(std::move(s));
    }
  }
  if (root.get("start_at") != nullptr) {
    return bad(source, *root.get("start_at"), "start_at belongs in a [[scheduled]] block");
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
