#pragma once
// SpscQueue<T>: the bounded queue between pipeline stages (docs/conventions.md "Threads"): one
// producer, one consumer, a fixed ring of `capacity` slots. try_push/try_pop never block and never
// allocate (items are moved in and out of preallocated slots). The classic single-producer ring:
// the producer alone writes `tail_`, the consumer alone writes `head_`; each publishes with a
// release store that the other reads with acquire, so an item is fully written before the
// consumer can see it. Several producers may share one queue only when something else
// serializes them (the collector's dispatcher does, under the lock that orders its log).
//
// Waiting is not the queue's business: callers wait on a condition with a deadline
// (server/pipeline.h) and poll; items are whole batches, so polls are few.

#include <atomic>
#include <cstddef>
#include <new>
#include <optional>
#include <vector>

namespace flowscope {

template <typename T>
class SpscQueue {
 public:
  // REQUIRES: capacity >= 1.
  explicit SpscQueue(std::size_t capacity) : slots_(capacity + 1) {}
  SpscQueue(const SpscQueue&) = delete;
  SpscQueue& operator=(const SpscQueue&) = delete;

  // Producer. False when full; `item` is left untouched then.
  bool try_push(T& item) {
    const std::size_t tail = tail_.load(std::memory_order_relaxed);
    const std::size_t next = tail + 1 == slots_.size() ? 0 : tail + 1;
    if (next == head_.load(std::memory_order_acquire)) return false;
    slots_[tail] = std::move(item);
    tail_.store(next, std::memory_order_release);
    return true;
  }

  // Consumer. An item, or nullopt when empty.
  std::optional<T> try_pop() {
    const std::size_t head = head_.load(std::memory_order_relaxed);
    if (head == tail_.load(std::memory_order_acquire)) return std::nullopt;
    std::optional<T> item(std::move(slots_[head]));
    slots_[head] = T{};
    head_.store(head + 1 == slots_.size() ? 0 : head + 1, std::memory_order_release);
    return item;
  }

  // Either side; exact only on the consumer side (the producer may be adding meanwhile).
  bool empty() const {
    return head_.load(std::memory_order_acquire) == tail_.load(std::memory_order_acquire);
  }
  std::size_t size() const {
    const std::size_t head = head_.load(std::memory_order_acquire);
    const std::size_t tail = tail_.load(std::memory_order_acquire);
    return tail >= head ? tail - head : tail + slots_.size() - head;
  }
  std::size_t capacity() const { return slots_.size() - 1; }

 private:
  std::vector<T> slots_;
  // Apart, so that producer and consumer do not share a cache line.
  alignas(64) std::atomic<std::size_t> head_{0};
  alignas(64) std::atomic<std::size_t> tail_{0};
};

}  // namespace flowscope
