#include "enrich/interface_table.h"

namespace flowscope::enrich {

const InterfaceInfo* InterfaceMap::find(const IpAddress& exporter, std::uint32_t if_index) const {
  if (if_index == 0) return nullptr;
  auto it = map_.find(Key{exporter, if_index});
  return it == map_.end() ? nullptr : &it->second;
}

std::size_t InterfaceTable::update(std::span<const InterfaceUpdate> updates) {
  std::lock_guard lock(write_mutex_);
  std::shared_ptr<const InterfaceMap> old = current_.snapshot();
  std::shared_ptr<InterfaceMap> next;  // copied on the first change only
  std::size_t changed = 0;
  for (const InterfaceUpdate& u : updates) {
    if (u.if_index == 0) continue;
    const InterfaceMap& view = next ? *next : *old;
    const InterfaceMap::Key key{u.exporter, u.if_index};
    auto it = view.map_.find(key);
    InterfaceInfo merged = u.info;
    if (it != view.map_.end()) {
      const InterfaceInfo& cur = it->second;
      if (u.info.source == InterfaceSource::OptionsData &&
          cur.source != InterfaceSource::OptionsData) {
        continue;  // SNMP and configuration win over what the exporter announces
      }
      if (merged.speed_bps == 0) merged.speed_bps = cur.speed_bps;
      InterfaceInfo same = merged;
      same.updated = cur.updated;
      if (same == cur) continue;  // re-announced unchanged: no copy
    } else if (view.map_.size() >= max_entries_) {
      ++refused_;
      continue;
    }
    if (!next) next = std::make_shared<InterfaceMap>(*old);
    next->map_[key] = std::move(merged);
    ++changed;
  }
  if (next) current_.store(std::move(next));
  return changed;
}

std::uint64_t InterfaceTable::refused() const {
  std::lock_guard lock(write_mutex_);
  return refused_;
}

}  // namespace flowscope::enrich
