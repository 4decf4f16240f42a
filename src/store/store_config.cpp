#include "store/store_config.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "core/time.h"
#include "store/file_util.h"

namespace flowscope::store {
namespace {

constexpr std::string_view kConfigFile = "store.json";
constexpr int kConfigVersion = 1;

bool valid_view_name(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

Result<FieldId> rollup_key(std::string_view name) {
  auto id = find_field(RecordKind::Session, name);
  if (!id || SessionBatch::column_index(*id) < 0) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("\"{}\" is not a stored session field; see 'flowscope fields "
                             "--kind session'",
                             name)};
  }
  return *id;
}

}  // namespace

Result<RollupView> parse_rollup_spec(std::string_view spec) {
  const auto eq = spec.find('=');
  if (eq == std::string_view::npos) {
    return Error{ErrorCode::Parse,
                 fmt::format("rollup \"{}\" needs NAME=field,field (e.g. by_port=srv_port)", spec)};
  }
  RollupView view;
  view.name = std::string(spec.substr(0, eq));
  if (!valid_view_name(view.name)) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("rollup name \"{}\" may only use a-z, 0-9 and _", view.name)};
  }
  std::string_view rest = spec.substr(eq + 1);
  while (!rest.empty()) {
    const auto comma = rest.find(',');
    auto key = rollup_key(rest.substr(0, comma));
    if (!key) return key.error();
    view.keys.push_back(*key);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  if (view.keys.empty()) {
    return Error{ErrorCode::InvalidArgument,
                 fmt::format("rollup \"{}\" has no key fields", view.name)};
  }
  return view;
}

Result<std::optional<StoreConfig>> load_store_config(const std::filesystem::path& dir) {
  const auto path = dir / kConfigFile;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return std::optional<StoreConfig>();
  auto text = read_file(path);
  if (!text) return text.error();
  auto bad = [&](const std::string& what) {
    return Error{ErrorCode::Malformed,
                 fmt::format("{}: {}; fix it or rewrite it with 'flowscope store config'",
                             path.string(), what)};
  };
  const nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return bad("not valid JSON");
  if (j.value("version", 0) != kConfigVersion) {
    return bad(fmt::format("version {} is not supported (this flowscope reads {})",
                           j.value("version", 0), kConfigVersion));
  }
  StoreConfig config;
  if (j.contains("rollups")) {
    if (!j["rollups"].is_array()) return bad("\"rollups\" must be a list");
    for (const auto& r : j["rollups"]) {
      if (!r.is_object() || !r.contains("name") || !r["name"].is_string() || !r.contains("keys") ||
          !r["keys"].is_array()) {
        return bad("each rollup needs \"name\" and \"keys\"");
      }
      std::string spec = r["name"].get<std::string>() + "=";
      for (std::size_t i = 0; i < r["keys"].size(); ++i) {
        if (!r["keys"][i].is_string()) return bad("rollup keys must be field names");
        if (i > 0) spec += ',';
        spec += r["keys"][i].get<std::string>();
      }
      auto view = parse_rollup_spec(spec);
      if (!view) return bad(view.error().message);
      config.rollups.push_back(std::move(*view));
    }
  }
  if (j.contains("keep")) {
    if (!j["keep"].is_object()) return bad("\"keep\" must map levels to durations");
    for (const auto& [level_text, value] : j["keep"].items()) {
      auto level = parse_level(level_text);
      if (!level || !value.is_string()) {
        return bad(
            fmt::format("keep: \"{}\" is not raw, 1m, 1h or 1d with a duration", level_text));
      }
      auto keep = parse_duration(value.get<std::string>());
      if (!keep) return bad(fmt::format("keep {}: {}", level_text, keep.error().message));
      config.keep_ms[static_cast<std::size_t>(*level)] = keep->count();
    }
  }
  return std::optional<StoreConfig>(std::move(config));
}

Result<void> save_store_config(const std::filesystem::path& dir, const StoreConfig& config) {
  nlohmann::json j;
  j["version"] = kConfigVersion;
  j["rollups"] = nlohmann::json::array();
  for (const RollupView& v : config.rollups) {
    nlohmann::json keys = nlohmann::json::array();
    for (FieldId id : v.keys) keys.push_back(field_info(id).name);
    j["rollups"].push_back({{"name", v.name}, {"keys", keys}});
  }
  j["keep"] = nlohmann::json::object();
  for (Level level : kLevels) {
    const std::int64_t ms = config.keep_ms[static_cast<std::size_t>(level)];
    if (ms > 0) j["keep"][std::string(level_name(level))] = format_duration(DurationMs(ms));
  }
  return write_file_atomic(dir / kConfigFile, j.dump(2) + "\n");
}

}  // namespace flowscope::store
