// trafMon's ipInfo.ini style for IpGroups (docs/enrich.md):
//
//   ; comment                      # comment too
//   [Campus]
//   location = Main site
//   activity = University
//   net = 10.0.0.0/8
//   [Physics]
//   parent = Campus
//   range = 10.1.5.10 - 10.1.5.20
//   net = 10.1.0.0/16, 2001:db8:1::/48
//
// A section is a group; address keys may repeat and hold several items separated by commas.
#include <charconv>

#include "enrich/ip_groups.h"
#include "enrich/ip_range.h"

namespace flowscope::enrich {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool is_address_key(const std::string& key) {
  return key == "net" || key == "range" || key == "host" || key == "address" || key == "ip" ||
         key == "cidr" || key == "subnet" || key == "addresses";
}

}  // namespace

Result<IpGroups> IpGroups::from_ini(std::string_view text, std::string_view source) {
  std::vector<IpGroup> groups;
  std::vector<std::string> parents;
  std::size_t line_no = 0;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = trim(text.substr(start, end - start));
    start = end + 1;
    ++line_no;
    const std::string where = std::string(source) + ":" + std::to_string(line_no) + ": ";
    if (line.empty() || line.front() == ';' || line.front() == '#') continue;
    if (line.front() == '[') {
      if (line.back() != ']' || line.size() < 3) {
        return Error{ErrorCode::Parse, where + "a section header is \"[group name]\""};
      }
      groups.push_back(IpGroup{});
      groups.back().name = std::string(trim(line.substr(1, line.size() - 2)));
      parents.emplace_back();
      continue;
    }
    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return Error{ErrorCode::Parse, where + "expected \"key = value\" or \"[group name]\""};
    }
    if (groups.empty()) {
      return Error{ErrorCode::Parse,
                   where + "\"" + std::string(line) + "\" comes before any [group] section"};
    }
    const std::string key = lower(trim(line.substr(0, eq)));
    const std::string_view value = trim(line.substr(eq + 1));
    IpGroup& g = groups.back();
    if (key == "parent") {
      parents.back() = std::string(value);
    } else if (key == "location") {
      g.location = std::string(value);
    } else if (key == "activity") {
      g.activity = std::string(value);
    } else if (key == "id") {
      unsigned long id = 0;
      auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), id);
      if (ec != std::errc() || p != value.data() + value.size() || id == 0 ||
          id >= PrefixTable::kNoValue) {
        return Error{ErrorCode::InvalidArgument,
                     where + "id must be a number between 1 and 4294967294"};
      }
      g.id = static_cast<std::uint32_t>(id);
    } else if (is_address_key(key)) {
      std::size_t item_start = 0;
      while (item_start <= value.size()) {
        std::size_t comma = value.find(',', item_start);
        if (comma == std::string_view::npos) comma = value.size();
        std::string_view item = trim(value.substr(item_start, comma - item_start));
        item_start = comma + 1;
        if (item.empty()) continue;
        if (auto r = parse_address_item(item, g.prefixes); !r) {
          return Error{r.error().code, where + r.error().message};
        }
      }
    } else {
      return Error{ErrorCode::InvalidArgument,
                   where + "unknown key \"" + key +
                       "\"; use net, range, host, parent, location, activity or id"};
    }
  }
  return build(std::move(groups), std::move(parents), source);
}

}  // namespace flowscope::enrich
