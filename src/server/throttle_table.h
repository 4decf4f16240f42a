#pragma once
// Internal to flowscope_server: other modules use its public headers.
// ThrottleTable: the failed logins of one kind of key (client address, user name) that the
// throttling of AuthService counts (docs/users.md "Throttling"). Bounded: at `cap` entries, a new
// key evicts, in this order,
//   1. an entry whose lockout has passed (the one locked longest ago),
//   2. the least recently failed entry that is not locked out,
//   3. only when every entry is locked out: the lockout that ends first.
// So an attacker who fills the table from many addresses or with many names pushes out its own
// quiet entries, never an active lockout while a quiet entry remains; each eviction is counted
// by reason. (Emptying the table wholesale at the cap, as before, reset every lockout.)
//
// A plain value, not thread-safe: AuthService holds it under its mutex.

#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace flowscope::server {

struct Failures {
  std::vector<TimeMs> times;  // within the failure window
  TimeMs locked_until{};      // refused until then
};

enum class ThrottleEviction : std::uint8_t { LockPassed, Quiet, Locked };
inline constexpr std::size_t kThrottleEvictionCount = 3;

constexpr std::string_view throttle_eviction_name(ThrottleEviction why) {
  switch (why) {
    case ThrottleEviction::LockPassed: return "lock_passed";
    case ThrottleEviction::Quiet: return "quiet";
    case ThrottleEviction::Locked: return "locked";
  }
  return "quiet";
}

template <typename Key>
class ThrottleTable {
 public:
  static constexpr std::size_t kDefaultCap = 65536;

  explicit ThrottleTable(std::size_t cap = kDefaultCap) : cap_(cap < 1 ? 1 : cap) {}

  // The entry of `key`, or null: looking does not create one.
  const Failures* find(const Key& key) const {
    auto it = entries_.find(key);
    return it == entries_.end() ? nullptr : &it->second.failures;
  }

  // Calls `update(Failures&)` on the entry of `key` (created, evicting another at the cap, when
  // absent), then files the entry as locked or quiet by its locked_until against `now`.
  template <typename F>
  void update(const Key& key, TimeMs now, F&& update) {
    auto it = entries_.find(key);
    if (it == entries_.end()) {
      if (entries_.size() >= cap_) evict(now);
      it = entries_.emplace(key, Entry{}).first;
    } else {
      unlink(it->second);
    }
    update(it->second.failures);
    link(it, now);
  }

  void erase(const Key& key) {
    auto it = entries_.find(key);
    if (it == entries_.end()) return;
    unlink(it->second);
    entries_.erase(it);
  }

  std::size_t size() const { return entries_.size(); }
  std::size_t cap() const { return cap_; }
  std::uint64_t evictions(ThrottleEviction why) const {
    return evictions_[static_cast<std::size_t>(why)];
  }
  std::uint64_t evictions() const {
    std::uint64_t n = 0;
    for (std::uint64_t e : evictions_) n += e;
    return n;
  }

 private:
  using Order = std::list<Key>;
  struct Entry {
    Failures failures;
    bool locked = false;
    typename Order::iterator pos;  // in locked_ or quiet_
  };
  using Map = std::map<Key, Entry>;

  void link(typename Map::iterator it, TimeMs now) {
    Entry& e = it->second;
    e.locked = e.failures.locked_until > now;
    Order& order = e.locked ? locked_ : quiet_;
    e.pos = order.insert(order.end(), it->first);
  }

  void unlink(Entry& e) { (e.locked ? locked_ : quiet_).erase(e.pos); }

  // REQUIRES: the table is not empty. locked_ is in order of locking, and with one lockout
  // duration (a reload may change it) that is the order of locked_until.
  void evict(TimeMs now) {
    ThrottleEviction why = ThrottleEviction::Locked;
    const Key* victim = nullptr;
    if (!locked_.empty() && entries_.at(locked_.front()).failures.locked_until <= now) {
      why = ThrottleEviction::LockPassed;
      victim = &locked_.front();
    } else if (!quiet_.empty()) {
      why = ThrottleEviction::Quiet;
      victim = &quiet_.front();
    } else {
      victim = &locked_.front();
    }
    ++evictions_[static_cast<std::size_t>(why)];
    auto it = entries_.find(*victim);
    unlink(it->second);  // destroys *victim: `it` holds its own copy of the key
    entries_.erase(it);
  }

  std::size_t cap_;
  Map entries_;
  Order quiet_;   // not locked, least recently failed first
  Order locked_;  // locked out, locked first first
  std::array<std::uint64_t, kThrottleEvictionCount> evictions_{};
};

}  // namespace flowscope::server
