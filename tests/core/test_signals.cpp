// SignalGuard (src/core/signals.hpp): TERM, USR1, INT and HUP are recorded (the first one wins),
// the previous handlers come back when the guard ends, and an ignored SIGHUP (nohup) stays ignored.
// Across ranks and with a checkpoint: tests/mpi/signals.sh.
#include <gtest/gtest.h>

#include <csignal>

#include "core/signals.hpp"

namespace boltzmap {
namespace {

volatile std::sig_atomic_t g_outer = 0;
extern "C" void outer_handler(int sig) { g_outer = sig; }

TEST(SignalGuard, RecordsTheFirstSignalAndRestoresThePreviousHandlers) {
  for (int sig : {SIGTERM, SIGUSR1, SIGINT, SIGHUP}) {
    std::signal(sig, outer_handler);
    g_outer = 0;
    {
      const SignalGuard guard;
      EXPECT_EQ(pending_signal(), 0);
      std::raise(sig);
      EXPECT_EQ(pending_signal(), sig);
      std::raise(SIGUSR1);  // a later signal does not replace the first
      EXPECT_EQ(pending_signal(), sig);
      EXPECT_EQ(g_outer, 0) << "signal " << sig << " reached the previous handler";
    }
    std::raise(sig);
    EXPECT_EQ(g_outer, sig) << "the previous handler of signal " << sig << " was not restored";
    std::signal(sig, SIG_DFL);
  }
  { const SignalGuard again; EXPECT_EQ(pending_signal(), 0); }  // a new guard starts clean
}

TEST(SignalGuard, KeepsAnIgnoredHangupIgnored) {
  std::signal(SIGHUP, SIG_IGN);
  {
    const SignalGuard guard;
    std::raise(SIGHUP);
    EXPECT_EQ(pending_signal(), 0);
  }
  std::signal(SIGHUP, SIG_DFL);
}

}  // namespace
}  // namespace boltzmap
