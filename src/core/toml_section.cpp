#include "core/toml_section.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace flowscope {

Result<toml::table> parse_toml(std::string_view text, std::string_view source) {
  try {
    return toml::parse(text, source);
  } catch (const toml::parse_error& err) {
    const auto line = static_cast<std::size_t>(err.source().begin.line);
    return Error{ErrorCode::Parse, fmt::format("{}:{}: {}", source, line, err.description()),
                 SourcePos{0, line}};
  }
}

TomlSection::TomlSection(const toml::table* table, std::string_view source, std::string section)
    : table_(table), source_(source), section_(std::move(section)) {}

std::string TomlSection::name(std::string_view key) const {
  return section_.empty() ? std::string(key) : fmt::format("[{}] {}", section_, key);
}

Error TomlSection::error_at(const toml::node* node, std::string_view what) const {
  const toml::node* at = node != nullptr ? node : table_;
  const auto line = at != nullptr ? static_cast<std::size_t>(at->source().begin.line) : 0;
  return Error{ErrorCode::InvalidArgument, fmt::format("{}:{}: {}", source_, line, what),
               SourcePos{0, line}};
}

Error TomlSection::key_error(const toml::node* node, std::string_view key,
                             std::string_view what) const {
  return error_at(node, fmt::format("{}: {}", name(key), what));
}

const toml::node* TomlSection::find(std::string_view key) {
  if (std::find(asked_.begin(), asked_.end(), key) == asked_.end()) asked_.emplace_back(key);
  return table_ != nullptr ? table_->get(key) : nullptr;
}

Result<void> TomlSection::string(std::string_view key, std::string& out) {
  const toml::node* n = find(key);
  if (n == nullptr) return {};
  if (!n->is_string()) return key_error(n, key, "must be a string in quotes");
  out = *n->value<std::string>();
  return {};
}

Result<void> TomlSection::string(std::string_view key, std::optional<std::string>& out) {
  if (find(key) == nullptr) return {};
  std::string v;
  if (auto r = string(key, v); !r) return r;
  out = std::move(v);
  return {};
}

Result<void> TomlSection::choice(std::string_view key, std::string& out,
                                 std::span<const std::string_view> allowed) {
  std::string v = out;
  if (auto r = string(key, v); !r) return r;
  if (find(key) == nullptr) return {};
  if (std::find(allowed.begin(), allowed.end(), v) == allowed.end()) {
    return key_error(find(key), key,
                     fmt::format("\"{}\" is not one of {}", v, fmt::join(allowed, ", ")));
  }
  out = std::move(v);
  return {};
}

Result<void> TomlSection::boolean(std::string_view key, bool& out) {
  const toml::node* n = find(key);
  if (n == nullptr) return {};
  if (!n->is_boolean()) return key_error(n, key, "must be true or false (no quotes)");
  out = *n->value<bool>();
  return {};
}

Result<void> TomlSection::integer(std::string_view key, std::int64_t& out, std::int64_t lo,
                                  std::int64_t hi, std::string_view hint) {
  const toml::node* n = find(key);
  if (n == nullptr) return {};
  const auto v = n->is_integer() ? n->value<std::int64_t>() : std::nullopt;
  if (!v || *v < lo || *v > hi) {
    return key_error(n, key, fmt::format("must be an integer from {} to {}{}", lo, hi, hint));
  }
  out = *v;
  return {};
}

Result<void> TomlSection::number(std::string_view key, double& out, double lo, double hi,
                                 std::string_view what) {
  const toml::node* n = find(key);
  if (n == nullptr) return {};
  const auto v = n->is_number() ? n->value<double>() : std::nullopt;
  if (!v || !(*v > lo) || *v > hi) {
    return key_error(n, key,
                     hi == kNoLimit ? fmt::format("must be a number of {} above {}", what, lo)
                                    : fmt::format("must be a number of {} above {} and at most {}",
                                                  what, lo, hi));
  }
  out = *v;
  return {};
}

Result<void> TomlSection::duration(std::string_view key, DurationMs& out, bool zero_allowed) {
  const toml::node* n = find(key);
  if (n == nullptr) return {};
  if (!n->is_string()) {
    return key_error(n, key, "must be a duration in quotes, e.g. \"30m\" or \"90s\"");
  }
  const std::string text = *n->value<std::string>();
  auto d = parse_duration(text);
  if (!d && d.error().code == ErrorCode::OutOfRange) {
    return key_error(n, key,
                     fmt::format("\"{}\" is too large; the maximum is \"{}d\"", text,
                                 kMaxDuration.count() / 86'400'000));
  }
  if (d && d->count() == 0 && !zero_allowed) {
    return key_error(
        n, key,
        fmt::format("\"{}\" must be more than zero; use e.g. \"30m\", \"12h\", \"90s\"", text));
  }
  if (!d || d->count() < 0) {
    return key_error(
        n, key, fmt::format("\"{}\" is not a duration; use e.g. \"30m\", \"12h\", \"90s\"", text));
  }
  out = *d;
  return {};
}

Result<void> TomlSection::string_list(std::string_view key, std::vector<std::string>& out) {
  const toml::node* n = find(key);
  if (n == nullptr) return {};
  const toml::array* a = n->as_array();
  if (a == nullptr) {
    return key_error(n, key, "must be a list of strings, e.g. [\"a\", \"b\"]");
  }
  std::vector<std::string> items;
  for (const toml::node& item : *a) {
    if (!item.is_string()) return key_error(&item, key, "every item must be a string in quotes");
    items.push_back(*item.value<std::string>());
  }
  out = std::move(items);
  return {};
}

Result<void> TomlSection::check_keys(std::span<const std::string_view> known) const {
  if (table_ == nullptr) return {};
  std::vector<std::string_view> all(known.begin(), known.end());
  for (const std::string& k : asked_) {
    if (std::find(all.begin(), all.end(), k) == all.end()) all.emplace_back(k);
  }
  for (const auto& [key, node] : *table_) {
    if (std::find(all.begin(), all.end(), key.str()) == all.end()) {
      const std::string where = section_.empty() ? std::string() : fmt::format("[{}]: ", section_);
      return error_at(&node, fmt::format("{}unknown key \"{}\"; the keys are {}", where, key.str(),
                                         fmt::join(all, ", ")));
    }
  }
  return {};
}

}  // namespace flowscope
