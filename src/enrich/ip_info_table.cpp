#include "enrich/ip_info_table.h"

namespace flowscope::enrich {

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

std::size_t IpInfoTable::size() const {
  std::lock_guard lock(mutex_);
  return map_.size();
}

std::uint64_t IpInfoTable::refused() const {
  std::lock_guard lock(mutex_);
  return refused_;
}

}  // namespace flowscope::enrich
