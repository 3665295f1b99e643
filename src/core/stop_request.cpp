#include "dnmf/core/stop_request.hpp"

#include <csignal>

namespace dnmf {
namespace {

volatile std::sig_atomic_t received_signal = 0;

extern "C" void remember_signal(int number) { received_signal = number; }

}  // namespace

void install_stop_handlers() {
  struct sigaction action {};
  action.sa_handler = remember_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGUSR1, &action, nullptr);
}

int stop_signal() { return received_signal; }

void clear_stop_signal() { received_signal = 0; }

}  // namespace dnmf
