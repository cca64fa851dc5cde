// The SIGINT flag: a lock-free atomic, the only kind of state a signal handler may touch.
#include "autoint/util/interrupt.h"

#include <atomic>
#include <cerrno>
#include <csignal>
#include <system_error>

namespace autoint::util {
namespace {

std::atomic<bool> interrupted{false};
static_assert(std::atomic<bool>::is_always_lock_free, "the SIGINT flag must be lock-free");

extern "C" void on_sigint(int /*signal*/) {
  request_interrupt();
}

}  // namespace

void install_interrupt_handler() {
  struct sigaction action {};
  action.sa_handler = on_sigint;
  sigemptyset(&action.sa_mask);
  // SA_RESTART: a write in progress is not cut short by EINTR. SA_RESETHAND: the second
  // Ctrl-C gets the default action, for a user who does not want to wait for the step.
  action.sa_flags = SA_RESTART | SA_RESETHAND;
  if (sigaction(SIGINT, &action, nullptr) != 0) {
    throw std::system_error(errno, std::generic_category(), "cannot install the SIGINT handler");
  }
}

bool interrupt_requested() {
  return interrupted.load();
}

void request_interrupt() noexcept {
  interrupted.store(true);
}

void clear_interrupt() noexcept {
  interrupted.store(false);
}

}  // namespace autoint::util
