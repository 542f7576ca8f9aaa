// boltzmap sample FILE [--system A|B] [--set key=value ...]: the reference MCMC data sets.
// SIGTERM, SIGUSR1, SIGINT and SIGHUP on any rank checkpoint the system being sampled and exit 0
// (the systems not yet sampled are left); the same command resumes it (sampling/sample.hpp). A
// checkpoint of another input is refused (exit 3). Tests: tests/app/sample_resume.sh.
#include <omp.h>

#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/commands.hpp"
#include "app/job_input.hpp"
#include "app/resources.hpp"
#include "app/stage_start.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/signals.hpp"
#include "io/data_sets.hpp"
#include "io/files.hpp"
#include "io/run_folder.hpp"
#include "io/run_lock.hpp"
#include "io/summary.hpp"
#include "sampling/sample.hpp"
#include "version.hpp"

namespace boltzmap {

namespace {
int g_stop_signal = 0;
bool g_interrupted = false;
}  // namespace

int sample_stop_signal() { return g_stop_signal; }
bool sample_was_interrupted() { return g_interrupted; }

int cmd_sample(const SampleArgs& args, const Comm& comm, const Accelerators& acc) {
  const SignalGuard signals;  // on every rank, before anything moves: a signal from here on checkpoints
  g_stop_signal = 0;
  g_interrupted = false;
  const Experiment e = load_job_input(args.input, args.sets, comm);
  const Backend backend = resolve_stage_backend(e, PipelineStage::sample, acc);
  const std::string run = e.output_dir;
  const RunFolder folder{run};
  const RunLock lock(run, comm, "sample");  // before anything is written there
  if (comm.root()) {
    // Before any walker moves: the folders the data, log and summary go to must take a file.
    check_writable_directory(run);
    check_writable_directory(folder.data());
    write_text_atomic(folder.input(), e.resolved_toml);
  }
  comm.barrier();
  log_to_file(folder.log());
  spdlog::info("boltzmap {} (git {}, CUDA {}) sample {} → {}", build::version, build::git_hash,
               build::cuda ? "compiled in" : "not compiled", args.input, run);
  log_stage_start(comm, "sampler", backend);

  std::vector<char> systems;
  if (args.system.empty() || args.system == "A") systems.push_back('A');
  if (args.system.empty() || args.system == "B") systems.push_back('B');
  // Before any walker moves: what the systems will need.
  for (char label : systems) {
    require_memory(fmt::format("sampling system {}", label), fmt::format("systems.{}.sampler.walkers = {}", label, e.system(label).sampler.walkers),
                   sampling_bytes_per_rank(e, label, comm.size()), Holders::every_rank, comm);
    require_memory(fmt::format("the checkpoints of system {} (rank 0 gathers every walker)", label),
                   fmt::format("systems.{}.sampler.checkpoint_every_saves = {}", label, e.system(label).sampler.checkpoint_every_saves),
                   sampling_checkpoint_bytes(e, label), Holders::rank_0, comm);
    warn_if_long_sampling(e, label, comm, omp_get_max_threads());
  }
  // A checkpoint of another input is refused before anything is removed or sampled.
  for (char label : systems) {
    const std::string ckpt = folder.sample_checkpoint(label);
    std::string why;
    if (comm.root() && e.system(label).datasets.total() > 0 && std::filesystem::exists(ckpt) &&
        !sample_checkpoint_fits(ckpt, e, label))
      why = ckpt + ": written for a different input — " + sample_checkpoint_difference(ckpt, e, label) + "; move " +
            folder.sample_state(label) + " away to start over, or restore the input";
    comm.broadcast(why);
    if (!why.empty()) throw input_error(why);
  }
  for (char label : systems) {
    if (const int sig = comm.max(pending_signal()); sig != 0) {
      // A signal during the previous system's last writes: that system is complete, this one waits.
      g_stop_signal = sig;
      g_interrupted = true;
      if (comm.root())
        spdlog::warn("signal {} ({}) received: stopping before system {}; run the same command to sample it", sig,
                     strsignal(sig), label);
      return 0;
    }
    if (e.system(label).datasets.total() == 0) {
      spdlog::warn("system {}: all data-set sizes are 0; nothing to sample", label);
      continue;
    }
    // The files of the system about to be redone go first: killed part-way, this run must not
    // leave the old data beside the new input for the next stage to use.
    if (comm.root())
      for (const char* set : {"train", "validation", "evaluation"}) {
        const std::string old = folder.data_set(label, set);
        std::error_code ec;
        if (std::filesystem::remove(old, ec)) spdlog::info("system {}: removed the earlier {}", label, old);
        if (ec) throw io_error(old + ": cannot remove the earlier file before sampling again: " + ec.message());
      }
    comm.barrier();
    SampleOptions opt;
    opt.run_dir = run;
    opt.progress = args.progress;
    opt.engine = backend.kind == BackendKind::cuda ? McEngineKind::cuda : McEngineKind::cpu;
    const SampleStats st = sample_system(e, label, comm, opt);
    if (st.stopped != 0) {
      g_stop_signal = st.stopped;
      g_interrupted = true;
      return 0;
    }
    if (comm.root()) {
      nlohmann::json s = {{"acceptance", st.acceptance},
                          {"equilibration_acceptance", st.equilibration_acceptance},
                          {"mean_energy_per_particle", st.mean_energy_per_particle},
                          {"mean_energy_per_particle_err", st.mean_energy_per_particle_err},
                          {"mean_excess_pressure", st.mean_excess_pressure},
                          {"mean_excess_pressure_err", st.mean_excess_pressure_err},
                          {"tau_int", st.tau_int},
                          {"ess_per_sample", st.ess_per_sample},
                          {"step_size", st.step_size},
                          {"trial_moves_per_second", st.trial_moves_per_second},
                          {"seconds", st.seconds},
                          {"saves", st.saves},
                          {"max_energy_drift", st.max_energy_drift},
                          {"energy_autocorrelation", st.rho}};
      merge_summary(folder.summary(), {{"sample", {{std::string(1, label), s}}}});
      for (const auto& f : st.files) spdlog::info("wrote {}", f);
    }
  }
  if (comm.root()) spdlog::info("summary: {}", folder.summary());
  g_stop_signal = comm.max(pending_signal());  // one that came during the last writes: `run` stops after this stage
  return 0;
}

}  // namespace boltzmap
