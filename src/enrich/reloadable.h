#pragma once
// Reloadable<T>: the current version of an immutable lookup structure (GeoIP database, IP
// groups, service table), replaced without a restart. Readers take a snapshot once per batch
// (one atomic load) and use it lock-free; a reload builds the new T off the hot path and swaps
// it in; the old one is freed when its last reader lets go.
// Any thread may call snapshot() and store() concurrently.

#include <atomic>
#include <memory>

namespace flowscope::enrich {

template <typename T>
class Reloadable {
 public:
  Reloadable() = default;
  explicit Reloadable(std::shared_ptr<const T> initial) : current_(std::move(initial)) {}
  Reloadable(const Reloadable&) = delete;
  Reloadable& operator=(const Reloadable&) = delete;

  // May be null (nothing loaded yet).
  std::shared_ptr<const T> snapshot() const { return current_.load(std::memory_order_acquire); }
  void store(std::shared_ptr<const T> next) {
    current_.store(std::move(next), std::memory_order_release);
  }

 private:
  std::atomic<std::shared_ptr<const T>> current_;
};

}  // namespace flowscope::enrich
