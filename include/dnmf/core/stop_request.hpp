#pragma once
// Stopping on request: SIGTERM and SIGUSR1 (what Slurm sends before a time limit or preemption)
// only set a flag. Solvers read it at the next iteration boundary and fold it into a collective
// that already runs, so every rank stops at the same iteration, writes a checkpoint and exits
// with kExitStoppedBySignal.

namespace dnmf {

/// The exit code of a run stopped by a signal (after writing its checkpoint, if it has one):
/// EX_TEMPFAIL, "try again later". Batch scripts turn it into a requeue.
constexpr int kExitStoppedBySignal = 75;

/// Installs the SIGTERM and SIGUSR1 handlers.
void install_stop_handlers();

/// The signal this process received (0 if none).
int stop_signal();

/// Forgets a received signal (for tests).
void clear_stop_signal();

}  // namespace dnmf
