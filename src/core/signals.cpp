// See signals.hpp.
#include "core/signals.hpp"

#include <cstring>

namespace boltzmap {

namespace {
// Written only by the handler (and by SignalGuard before the handlers are in place).
volatile std::sig_atomic_t g_pending = 0;

extern "C" void record_signal(int sig) {
  if (g_pending == 0) g_pending = sig;
}
}  // namespace

SignalGuard::SignalGuard() {
  g_pending = 0;
  for (int k = 0; k < 4; ++k) {
    struct sigaction sa;
    std::memset(&sa, 0, sizeof sa);
    sa.sa_handler = record_signal;
    sigemptyset(&sa.sa_mask);
    // SA_RESTART: a read or an MPI poll interrupted by the signal resumes instead of failing.
    sa.sa_flags = SA_RESTART | (kSignals[k] == SIGINT ? SA_RESETHAND : 0);
    sigaction(kSignals[k], &sa, &previous_[k]);
    // nohup (SIGHUP) and `cmd &` in a script (SIGINT) ask for these to be ignored: keep it so.
    if ((kSignals[k] == SIGHUP || kSignals[k] == SIGINT) && previous_[k].sa_handler == SIG_IGN)
      sigaction(kSignals[k], &previous_[k], nullptr);
  }
}

SignalGuard::~SignalGuard() {
  for (int k = 0; k < 4; ++k) sigaction(kSignals[k], &previous_[k], nullptr);
}

int pending_signal() { return g_pending; }

}  // namespace boltzmap
