#include "cli/interrupt.h"

#include <csignal>

namespace flowscope::cli {
namespace {

// The live InterruptFlag's flag, for the handler, which can reach nothing else.
std::atomic<bool>* g_flag = nullptr;

extern "C" void on_sigint(int) {
  if (g_flag != nullptr) g_flag->store(true, std::memory_order_relaxed);
}

}  // namespace

InterruptFlag::InterruptFlag() {
  g_flag = &flag_;
  previous_ = std::signal(SIGINT, on_sigint);
}

InterruptFlag::~InterruptFlag() {
  std::signal(SIGINT, previous_ == SIG_ERR ? SIG_DFL : previous_);
  g_flag = nullptr;
}

}  // namespace flowscope::cli
