#include "enrich/ip_info_table.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

namespace flowscope::enrich {
namespace {

constexpr std::string_view kHeader = "# flowscope ipinfo 1";
constexpr std::array<std::pair<NameState, std::string_view>, 5> kStateNames{{
    {NameState::New, "new"},
    {NameState::Queued, "queued"},
    {NameState::Resolved, "resolved"},
    {NameState::NotFound, "notfound"},
    {NameState::Failed, "failed"},
}};

}  // namespace

std::string_view name_state_name(NameState s) {
  for (const auto& [state, name] : kStateNames) {
    if (state == s) return name;
  }
  return "?";
}

std::optional<IpInfo> IpInfoTable::get(const IpAddress& address) const {
  std::lock_guard lock(mutex_);
  auto it = map_.find(address);
  if (it == map_.end()) return std::nullopt;
  return it->second;
}

bool IpInfoTable::claim_for_query(const IpAddress& address, TimeMs now, DurationMs positive_ttl,
                                  DurationMs negative_ttl) {
  std::lock_guard lock(mutex_);
  auto it = map_.find(address);
  if (it == map_.end()) {
    if (!insert_allowed()) {
      ++refused_;
      return false;
    }
    map_.emplace(address, IpInfo{"", NameState::Queued, now});
    return true;
  }
  IpInfo& info = it->second;
  switch (info.state) {
    case NameState::Queued: return false;
    case NameState::Resolved:
      if (now - info.updated < positive_ttl) return false;
      break;
    case NameState::NotFound:
    case NameState::Failed:
      if (now - info.updated < negative_ttl) return false;
      break;
    case NameState::New: break;
  }
  info.state = NameState::Queued;
  return true;
}

void IpInfoTable::mark_new(const IpAddress& address) {
  std::lock_guard lock(mutex_);
  auto it = map_.find(address);
  if (it != map_.end()) it->second.state = NameState::New;
}

void IpInfoTable::set(const IpAddress& address, IpInfo info) {
  std::lock_guard lock(mutex_);
  auto it = map_.find(address);
  if (it != map_.end()) {
    it->second = std::move(info);
  } else if (insert_allowed()) {
    map_.emplace(address, std::move(info));
  } else {
    ++refused_;
  }
}

std::vector<IpAddress> IpInfoTable::refresh_candidates(bool all) const {
  std::lock_guard lock(mutex_);
  std::vector<IpAddress> out;
  for (const auto& [address, info] : map_) {
    if (all ? info.state != NameState::Queued : info.state == NameState::New) {
      out.push_back(address);
    }
  }
  return out;
}

bool IpInfoTable::add_new(const IpAddress& address) {
  std::lock_guard lock(mutex_);
  if (map_.contains(address)) return false;
  if (!insert_allowed()) {
    ++refused_;
    return false;
  }
  map_.emplace(address, IpInfo{"", NameState::New, TimeMs{}});
  return true;
}

std::vector<std::pair<IpAddress, IpInfo>> IpInfoTable::entries() const {
  std::vector<std::pair<IpAddress, IpInfo>> out;
  {
    std::lock_guard lock(mutex_);
    out.assign(map_.begin(), map_.end());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

Result<void> IpInfoTable::save(const std::filesystem::path& path) const {
  std::string text(kHeader);
  text += '\n';
  for (const auto& [address, info] : entries()) {
    // Names come from DNS: keep tabs and line breaks out of the file.
    std::string name = info.name;
    std::replace_if(
        name.begin(), name.end(), [](char c) { return c == '\t' || c == '\n' || c == '\r'; }, ' ');
    text += fmt::format("{}\t{}\t{}\t{}\n", address.to_string(), name_state_name(info.state),
                        to_ms(info.updated), name);
  }
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) {
      return Error{ErrorCode::Io, fmt::format("{}: cannot write the IP-info file; check space and "
                                              "permissions of the data directory",
                                              tmp.string())};
    }
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    return Error{ErrorCode::Io, fmt::format("{}: cannot replace the IP-info file: {}",
                                            path.string(), ec.message())};
  }
  return ok();
}

Result<void> IpInfoTable::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorCode::NotFound,
                 fmt::format("{}: cannot open the IP-info file", path.string())};
  }
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line_no == 1) {
      if (line != kHeader) {
        return Error{ErrorCode::Unsupported,
                     fmt::format("{}:1: not a flowscope IP-info file (expected \"{}\"); move it "
                                 "away and run `flowscope ipinfo refresh` to rebuild it",
                                 path.string(), kHeader)};
      }
      continue;
    }
    if (line.empty()) continue;
    std::array<std::string_view, 4> cols{};
    std::string_view rest = line;
    for (std::size_t c = 0; c < 4; ++c) {
      const std::size_t tab = c < 3 ? rest.find('\t') : std::string_view::npos;
      if (c < 3 && tab == std::string_view::npos) {
        return Error{ErrorCode::Parse,
                     fmt::format("{}:{}: expected 4 tab-separated columns (address, state, "
                                 "updated, name)",
                                 path.string(), line_no)};
      }
      cols[c] = rest.substr(0, tab);
      if (tab != std::string_view::npos) rest.remove_prefix(tab + 1);
    }
    auto address = IpAddress::parse(cols[0]);
    if (!address) {
      return Error{ErrorCode::Parse, fmt::format("{}:{}: \"{}\" is not an IP address",
                                                 path.string(), line_no, cols[0])};
    }
    IpInfo info;
    auto state = std::find_if(kStateNames.begin(), kStateNames.end(),
                              [&](const auto& p) { return p.second == cols[1]; });
    if (state == kStateNames.end()) {
      return Error{ErrorCode::Parse,
                   fmt::format("{}:{}: unknown state \"{}\" (new, resolved, notfound, failed)",
                               path.string(), line_no, cols[1])};
    }
    info.state = state->first == NameState::Queued ? NameState::New : state->first;
    std::int64_t ms = 0;
    if (std::sscanf(std::string(cols[2]).c_str(), "%ld", &ms) != 1) {
      return Error{ErrorCode::Parse, fmt::format("{}:{}: \"{}\" is not a time in ms", path.string(),
                                                 line_no, cols[2])};
    }
    info.updated = time_from_ms(ms);
    info.name = std::string(cols[3]);
    set(*address, std::move(info));
  }
  return ok();
}

std::size_t IpInfoTable::size() const {
  std::lock_guard lock(mutex_);
  return map_.size();
}

std::uint64_t IpInfoTable::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

}  // namespace flowscope::enrich
