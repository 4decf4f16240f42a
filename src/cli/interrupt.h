#pragma once
// Ctrl-C in the long commands (import, gen flows, capture -r; query and stat through their
// CancelToken, cli/query_common.h): docs/conventions.md "The command line". The SIGINT handler
// only sets a flag; the command stops at its next check, flushes what it owns (the batches it
// stored, the pcap it wrote, its output) and exits kExitInterrupted. Main thread only; one
// InterruptFlag at a time.

#include <atomic>

namespace flowscope::cli {

// 128 + SIGINT: what a shell reports for a process that SIGINT ended.
inline constexpr int kExitInterrupted = 130;

// Installs the SIGINT handler while alive; restores the previous one after.
class InterruptFlag {
 public:
  InterruptFlag();
  ~InterruptFlag();
  InterruptFlag(const InterruptFlag&) = delete;
  InterruptFlag& operator=(const InterruptFlag&) = delete;

  bool raised() const { return flag_.load(std::memory_order_relaxed); }
  const std::atomic<bool>* flag() const { return &flag_; }

 private:
  std::atomic<bool> flag_{false};
  void (*previous_)(int) = nullptr;
};

}  // namespace flowscope::cli
