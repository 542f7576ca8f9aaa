// Graceful stops: SignalGuard installs one handler for SIGTERM, SIGUSR1 (SLURM's pre-emption
// warning), SIGINT (Ctrl-C) and SIGHUP (a closed terminal) that only records the signal, and
// restores the previous handlers when it goes out of scope. The long loops (training's epochs)
// poll pending_signal() at a point where stopping is safe and checkpoint there. The first SIGINT
// is recorded like the others; a second SIGINT kills at once (SA_RESETHAND), so a user pressing
// Ctrl-C twice is never stuck. SIGHUP and SIGINT stay ignored when they were on entry (nohup, a
// background job of a script). Tests: tests/app/train_resume.sh, tests/mpi/signals.sh.
#pragma once
#include <csignal>

namespace boltzmap {

class SignalGuard {
 public:
  SignalGuard();  // clears the pending signal and installs the handlers
  ~SignalGuard();
  SignalGuard(const SignalGuard&) = delete;
  SignalGuard& operator=(const SignalGuard&) = delete;

 private:
  static constexpr int kSignals[4] = {SIGTERM, SIGUSR1, SIGINT, SIGHUP};
  struct sigaction previous_[4];
};

// The first signal recorded since the innermost SignalGuard was installed, or 0.
int pending_signal();

}  // namespace boltzmap
