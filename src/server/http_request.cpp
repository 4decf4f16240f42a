#include "server/http_request.h"

#include <charconv>

#include <fmt/format.h>

namespace flowscope::server {
namespace {

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `text`, which starts at byte `base` of the whole input (for messages).
Result<std::string> decode(std::string_view text, std::size_t base) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%') {
      const int hi = i + 1 < text.size() ? hex_digit(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? hex_digit(text[i + 2]) : -1;
      if (hi < 0 || lo < 0) {
        return Error{ErrorCode::Parse,
                     fmt::format("a '%' not followed by two hex digits at byte {}; write a "
                                 "literal '%' as %25",
                                 base + i),
                     SourcePos{base + i, 0}};
      }
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Splits "name[a][b][]" into "name" and {"a", "b", ""}; false when the brackets do not close.
bool split_brackets(std::string_view key, std::string_view& base, std::vector<std::string>& path) {
  const std::size_t open = key.find('[');
  base = key.substr(0, open);
  if (open == std::string_view::npos) return true;
  std::string_view rest = key.substr(open);
  while (!rest.empty()) {
    if (rest.front() != '[') return false;
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return false;
    path.emplace_back(rest.substr(1, close - 1));
    if (path.size() > kMaxBracketDepth) return false;
    rest = rest.substr(close + 1);
  }
  return true;
}

}  // namespace

Result<Params> parse_query_string(std::string_view text) {
  Params out;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('&', pos);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view pair = text.substr(pos, end - pos);
    if (!pair.empty()) {
      if (out.size() >= kMaxParams) {
        return Error{ErrorCode::OutOfRange,
                     fmt::format("more than {} parameters; send fewer", kMaxParams)};
      }
      const std::size_t eq = pair.find('=');
      auto name = decode(pair.substr(0, eq), pos);
      if (!name) return name.error();
      std::string value;
      if (eq != std::string_view::npos) {
        auto v = decode(pair.substr(eq + 1), pos + eq + 1);
        if (!v) return v.error();
        value = std::move(*v);
      }
      out.emplace_back(std::move(*name), std::move(value));
    }
    pos = end + 1;
  }
  return out;
}

const std::string* find_param(const Params& params, std::string_view name) {
  for (const auto& [k, v] : params) {
    if (k == name) return &v;
  }
  return nullptr;
}

Result<nlohmann::json> json_param(const Params& params, std::string_view name) {
  if (const std::string* text = find_param(params, name)) {
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(*text);
    } catch (const nlohmann::json::parse_error& e) {
      // nlohmann reports the byte after the one that failed (1-based).
      const std::size_t at = e.byte > 0 ? e.byte - 1 : 0;
      return Error{ErrorCode::Parse,
                   fmt::format("{} is not valid JSON at byte {}; send a JSON object, e.g. {}={{}}",
                               name, at, name),
                   SourcePos{at, 0}};
    } catch (const nlohmann::json::exception& e) {
      // out_of_range: a number beyond double ("1e99999"); nlohmann gives no byte for it.
      return Error{
          ErrorCode::Parse,
          fmt::format("{} is not valid JSON: {}; send numbers within range", name, e.what())};
    }
    return j;
  }
  nlohmann::json out;  // null until a bracket parameter is seen
  for (const auto& [key, value] : params) {
    std::string_view base;
    std::vector<std::string> path;
    if (key.size() <= name.size() || key.compare(0, name.size(), name) != 0 ||
        key[name.size()] != '[') {
      continue;
    }
    if (!split_brackets(key, base, path) || path.empty()) {
      return Error{ErrorCode::Parse,
                   fmt::format("parameter \"{}\": brackets do not close, or nest deeper than {}; "
                               "write {}[a][b]=value",
                               key, kMaxBracketDepth, name)};
    }
    nlohmann::json* node = &out;
    for (std::size_t level = 0; level < path.size(); ++level) {
      const std::string& step = path[level];
      const bool last = level + 1 == path.size();
      if (step.empty()) {  // name[a][]=v: append
        if (!node->is_array()) {
          if (!node->is_null()) {
            return Error{ErrorCode::Parse,
                         fmt::format("parameter \"{}\" mixes [] with named keys", key)};
          }
          *node = nlohmann::json::array();
        }
        node->push_back(last ? nlohmann::json(value) : nlohmann::json());
        node = &node->back();
        continue;
      }
      if (!node->is_object()) {
        if (!node->is_null()) {
          return Error{
              ErrorCode::Parse,
              fmt::format("parameter \"{}\" gives both a value and keys to one name", key)};
        }
        *node = nlohmann::json::object();
      }
      node = &(*node)[step];
      if (last) {
        if (!node->is_null()) {
          return Error{ErrorCode::Parse, fmt::format("parameter \"{}\" is given twice", key)};
        }
        *node = value;
      }
    }
  }
  return out;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = p[i];
    std::size_t len = 0;
    std::uint32_t min = 0;
    if (c < 0x80) {
      len = 1;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      min = 0x10000;
    }
    bool ok = len > 0 && i + len <= n;
    std::uint32_t cp = len == 1 ? c : (c & (0x7F >> len));
    for (std::size_t k = 1; ok && k < len; ++k) {
      ok = (p[i + k] & 0xC0) == 0x80;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    // RFC 3629 §3: no overlong forms, no surrogates, nothing above U+10FFFF.
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (ok) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out += "\xEF\xBF\xBD";
      ++i;
    }
  }
  return out;
}

std::string json_text(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<std::uint64_t> json_uint(const nlohmann::json& value, std::string_view what,
                                std::uint64_t max) {
  std::uint64_t v = 0;
  bool ok = false;
  if (value.is_number_unsigned()) {
    v = value.get<std::uint64_t>();
    ok = true;
  } else if (value.is_number_integer()) {
    ok = value.get<std::int64_t>() >= 0;
    if (ok) v = static_cast<std::uint64_t>(value.get<std::int64_t>());
  } else if (value.is_string()) {
    const std::string& s = value.get_ref<const std::string&>();
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    ok = ec == std::errc() && p == s.data() + s.size() && !s.empty();
  }
  if (!ok || v > max) {
    return Error{ErrorCode::OutOfRange,
                 fmt::format("{} must be a whole number from 0 to {} (got {})", what, max,
                             json_text(value))};
  }
  return v;
}

}  // namespace flowscope::server
