#pragma once
// BoundedQueue<T>: a fixed-capacity multi-producer, single-consumer queue between pipeline stages
// (receive workers -> stitcher). Producers never block: try_push() fails when the queue is full
// and the caller counts the drop (never silent, docs/serve.md "Drops"). The consumer waits with
// a deadline so that it can also do timed work (closing idle sessions, committing).
//
// A mutex and a condition variable (docs/conventions.md "Threads": no home-made lock-free
// structures); items are whole batches of thousands of records, so the lock is taken a few thousand
// times a second.
// Internal to flowscope_server: other modules use its public headers.

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>

namespace flowscope::server {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(std::size_t capacity) : capacity_(capacity) {}

  // False when full or closed; `item` is left untouched then.
  bool try_push(T& item) {
    {
      std::lock_guard lock(mutex_);
      if (closed_ || items_.size() >= capacity_) return false;
      items_.push_back(std::move(item));
    }
    cv_.notify_one();
    return true;
  }

  // An item, or nullopt when `timeout` passed or the queue is closed and empty.
  std::optional<T> pop_for(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] { return !items_.empty() || closed_; });
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  // Producers fail from now on; the consumer drains what is left.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    cv_.notify_all();
  }

  bool closed_and_empty() const {
    std::lock_guard lock(mutex_);
    return closed_ && items_.empty();
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  std::size_t capacity() const { return capacity_; }

 private:
  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<T> items_;  // guarded by mutex_
  bool closed_ = false;  // guarded by mutex_
};

}  // namespace flowscope::server
