// boltzmap train FILE [--set ...]: trains the flow on the sampled data sets (METHOD.md protocol,
// [flow] and [training]), resuming from model/checkpoints/checkpoint.h5 when it exists; writes
// model/flow.h5, train_log.csv and the train.* keys of summary.json. SIGTERM, SIGUSR1 (SLURM's
// pre-emption warning), SIGINT and SIGHUP, on any rank, end the current epoch, save a checkpoint
// and exit 0 on every rank; running the same command again resumes. Data-parallel: every trainer
// rank (all ranks but the [parallel] sampler_ranks ones) holds the data, the flow and the pool,
// takes its share of each step's batch, and the gradients are summed (parallel/gradient_reducer)
// before the checks and the Adam step, so the ranks stay identical (checked by a hash of the
// state at every checkpoint); rank 0 writes. All ranks join one small collective per epoch
// (join_round), through which a signal any rank saw stops them all. Sampler ranks serve the
// streamed source pool (flow/pool_stream.hpp) between their tests of that collective, until
// trainer 0 stops them after the last round; with sampler_ranks = 0 each trainer keeps a local pool.
// Tests: tests/app/train_resume.sh, tests/mpi/signals.sh, tests/mpi/train_parallel.sh,
// tests/mpi/pool_stream.sh.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/commands.hpp"
#include "app/job_input.hpp"
#include "app/resources.hpp"
#include "app/stage_start.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "core/rng.hpp"
#include "core/signals.hpp"
#include "flow/pool_stream.hpp"
#include "flow/trainer.hpp"
#include "io/data_sets.hpp"
#include "io/files.hpp"
#include "io/h5md.hpp"
#include "io/model_file.hpp"
#include "io/run_folder.hpp"
#include "io/run_lock.hpp"
#include "io/summary.hpp"
#include "physics/experiment_physics.hpp"
#include "version.hpp"

namespace boltzmap {

namespace {

bool g_interrupted = false;

// The per-epoch collective of all ranks: the largest signal number any rank has recorded (0: none)
// and whether rank 0 leaves its epoch loop. Rank 0 joins after each epoch; the others wait in it
// without spinning (rank 0 arrives last, so it waits little). Every rank leaves on the same round:
// the first in which a signal was seen or rank 0 is done.
struct Round {
  int signal;
  bool finished;
};
Round join_round(const Comm& comm, bool finished) {
  std::array<int, 2> v = {pending_signal(), finished ? 1 : 0};
  comm.iallreduce_max(std::span<int>(v), !comm.root());
  return {v[0], v[1] != 0};
}

// A rank that does not train (a sampler rank) while the trainer ranks train: it serves the source
// pool's batches and joins every round (join_round's collective, left pending while it works)
// until the last one; then it serves until trainer 0 stops it (stop_pool_servers). Idle, it polls
// every 0.2 ms: a trainer's request waits at most that long, and the rank leaves its core to the
// others. An error there ends the job through MPI_Abort (main).
int follow_training(const Comm& comm, PoolServer& server) {
  std::array<int, 2> v{};
  Request round;
  const auto post = [&] {
    v = {pending_signal(), 0};
    round = comm.iallreduce_max_begin(std::span<int>(v));
  };
  post();
  bool rounds_over = false;
  while (!rounds_over || !server.stopped()) {
    bool busy = server.poll();
    if (!rounds_over && round.test()) {
      busy = true;
      if (v[0] != 0 || v[1] != 0) {
        rounds_over = true;
        g_interrupted = v[0] != 0;
      } else {
        post();
      }
    }
    if (!busy) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return 0;
}

std::vector<float> load_set(const Experiment& e, char label, const char* set, bool required) {
  if (!required && !std::filesystem::exists(RunFolder{e.output_dir}.data_set(label, set))) return {};
  return std::move(read_data_set(e, label, set).positions);
}

// A metric in the log and train_log.csv: "n/a" when it was not computed (a loss term with λ = 0, a
// missing validation set). Trainer::check_metrics_finite has already refused a computed metric that
// is not finite, so NaN here only ever means "not computed".
std::string metric(double x, int digits) { return std::isnan(x) ? std::string("n/a") : fmt::format("{:.{}g}", x, digits); }
std::string metric_fixed(double x, int decimals) {
  return std::isnan(x) ? std::string("n/a") : fmt::format("{:.{}f}", x, decimals);
}

// An error every trainer rank met alike (a step's checks run on the summed gradient; the metrics are
// the same everywhere): the ranks stop together, and rank 0 reports it (main prints it at once and
// aborts; the others, with ReportedError, wait for that abort).
[[noreturn]] void fail_together(const Comm& trainers, const Error& err) {
  trainers.barrier();
  if (trainers.root()) throw err;
  throw ReportedError(err.code());
}

// The training state's hash (parameters, Adam's moments, the pool, the counters): the same on every
// trainer rank, or the ranks have diverged (a bug, or nodes that compute differently) and nothing
// may be written.
void check_same_state(const Comm& trainers, const Trainer& t) {
  if (trainers.size() == 1) return;
  std::uint64_t h = 1469598103934665603ull;
  const auto mix = [&h](const void* data, std::size_t bytes) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  const TrainingState s = t.state();
  mix(s.parameters.data(), s.parameters.size() * sizeof(s.parameters[0]));
  mix(s.adam_m.data(), s.adam_m.size() * sizeof(double));
  mix(s.adam_v.data(), s.adam_v.size() * sizeof(double));
  mix(s.pool.data(), s.pool.size() * sizeof(float));
  const std::int64_t counters[3] = {s.next_epoch, s.global_step, s.adam_steps};
  mix(counters, sizeof counters);
  if (trainers.min(h) != trainers.max(h))
    fail_together(trainers, Error(ExitCode::failure, fmt::format("the {} trainer ranks' training states differ after epoch {} "
                                                                 "(parameter hashes disagree); nothing was written",
                                                                 trainers.size(), t.next_epoch())));
}

const char* kCsvHeader =
    "epoch,phase,learning_rate,loss_dir_train,loss_inv_train,loss_dir_validation,loss_inv_validation,"
    "fraction_in_range,ress_validation,seconds,steps,out_of_domain_a_to_b,out_of_domain_b_to_a,fraction_in_range_train,"
    "ress_train";

// Keeps the log's rows of the epochs done before a resume, 1 … `done` (epochs are counted from 1, as
// in the log); a resumed run rewrites what follows.
void prepare_log(const std::string& path, std::int64_t done) {
  std::vector<std::string> keep;
  if (std::filesystem::exists(path) && done > 0) {
    std::istringstream in(read_text(path));
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line))
      if (!line.empty() && std::stoll(line.substr(0, line.find(','))) <= done) keep.push_back(line);
  }
  std::string text = std::string(kCsvHeader) + "\n";
  for (const auto& l : keep) text += l + "\n";
  write_text_atomic(path, text);
}

// The resolved input's lines that training depends on (not [analysis]): what must match to resume.
std::vector<std::string> resume_relevant(const std::string& resolved) {
  std::vector<std::string> out;
  std::istringstream in(resolved_sections(resolved, {"", "box", "systems", "preprocess", "flow", "training"}));
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// Refuses to resume a checkpoint written for a different input (data, seed, network, protocol).
void check_resume_input(const std::string& ckpt, const Experiment& e) {
  const auto was = resume_relevant(read_root_attribute(ckpt, "boltzmap_input"));
  const auto now = resume_relevant(e.resolved_toml);
  for (std::size_t i = 0; i < std::max(was.size(), now.size()); ++i) {
    const std::string a = i < was.size() ? was[i] : "(nothing)", b = i < now.size() ? now[i] : "(nothing)";
    if (a != b)
      throw input_error(ckpt + ": written for a different input — it has `" + a + "` where " + e.source_file +
                        " now gives `" + b + "`; move the checkpoint away to start over, or restore the input");
  }
}

}  // namespace

bool train_was_interrupted() { return g_interrupted; }

bool checkpoint_fits_input(const std::string& ckpt, const Experiment& e) {
  return resume_relevant(read_root_attribute(ckpt, "boltzmap_input")) == resume_relevant(e.resolved_toml);
}

int cmd_train(const TrainArgs& args, const Comm& comm, const Accelerators& acc) {
  const SignalGuard signals;  // on every rank, before the data load: a signal from here on checkpoints
  const Experiment e = load_job_input(args.input, args.sets, comm);
  const Backend backend = resolve_stage_backend(e, PipelineStage::train, acc);
  const std::vector<Role> roles = job_roles(e, comm, args.sampler_ranks_given);
  const bool trains = roles[static_cast<std::size_t>(comm.rank())] != Role::sampler;
  const Comm trainers = comm.split(trains ? Role::trainer : Role::sampler);
  require_memory("training (every trainer rank holds the data sets)", "systems.<X>.datasets", training_bytes(e),
                 Holders::every_rank, comm);
  g_interrupted = false;
  const std::string run = e.output_dir;
  const RunFolder folder{run};
  const std::string ckpt_dir = folder.checkpoints(), ckpt = folder.checkpoint();
  const RunLock lock(run, comm, "train");
  const auto t0 = std::chrono::steady_clock::now();
  if (comm.root()) {
    ensure_directory(ckpt_dir);
    check_writable_folder(ckpt_dir);  // found now, not at the first checkpoint
    log_to_file(folder.log());
    spdlog::info("boltzmap {} (git {}) train {} → {}", build::version, build::git_hash, args.input, run);
  }
  bool needs_a = false;  // a phase trains L_inv: A's training set and the source pool
  for (const auto& p : e.training.phases) needs_a |= p.lambda_inv > 0;
  const int samplers = static_cast<int>(std::count(roles.begin(), roles.end(), Role::sampler));
  std::optional<PoolLink> link;  // the streamed pool's ranks, with sampler ranks
  if (samplers > 0) link = PoolLink{comm.duplicate(), comm.size() - samplers};
  log_stage_start(comm, trains ? "trainer" : needs_a ? "sampler" : "sampler (waits)", backend);
  log_role_split(e, comm, roles);
  if (!trains) {
    PoolServer server(pool_params(e), e.training, *link, trainers);  // on a sampler rank: the sampler ranks
    if (backend.kind == BackendKind::cuda) server.use_cuda_engine();  // the pool's walkers on this rank's GPU
    return follow_training(comm, server);
  }
  const int N = e.box.n_particles, D = e.box.dimension;

  TrainingData data;
  data.b_train = load_set(e, 'B', "train", true);
  data.b_validation = load_set(e, 'B', "validation", false);
  data.a_train = load_set(e, 'A', "train", needs_a);
  data.a_validation = load_set(e, 'A', "validation", false);

  // The preprocessing, fitted exactly as `boltzmap preprocess` does (same draws, same result).
  // It works in A's box; B's training set enters it through the box-scaling layer (S⁻¹: x/s).
  const double L = physical_system(e.system('A'), D, N).box.length, L_b = physical_system(e.system('B'), D, N).box.length;
  if (data.a_train.empty()) throw input_error(args.input + ": the preprocessing is fitted on A's and B's training sets; sample A's");
  Preprocessor pre(e.preprocess, N, D, L, L_b);
  std::vector<float> b_fit = data.b_train;
  pre.into_preprocessing_box('B', b_fit);
  const BatchView views[2] = {{data.a_train.data(), static_cast<int>(data.a_train.size() / (N * D)), N, D},
                              {b_fit.data(), static_cast<int>(b_fit.size() / (N * D)), N, D}};
  pre.fit(views, derive_seed(e.seed, 3));
  if (L_b != L)
    spdlog::info("box-scaling layer: L_B/L_A = {:.6g}, log|det| (N − 1)·D·ln s = {:.6g} (A → B)", pre.box_scale(), pre.box_log_det());

  Trainer trainer(e, pre, std::move(data), trainers, nullptr, link ? &*link : nullptr);
  if (backend.kind == BackendKind::cuda) {
    const std::string what = trainer.use_cuda_steps();  // collective over the trainers
    if (comm.root()) spdlog::info("training steps on CUDA: {}", what);
  }
  const std::string flow_text =
      e.flow.kind == "equivariant"
          ? fmt::format("equivariant flow: {} circular couplings, {} spline bins, {} frequencies, width {}{}",
                        e.flow.layers, e.flow.bins, e.flow.frequencies, e.flow.width,
                        e.flow.shift ? ", circular shifts" : "")
          : fmt::format("real-NVP: {} coupling blocks, hidden {}", e.flow.blocks, fmt::join(e.flow.hidden, "×"));
  if (!e.flow.unused_keys.empty())
    spdlog::info("flow.kind = \"{}\" does not use {}", e.flow.kind, fmt::join(e.flow.unused_keys, ", "));
  spdlog::info("flow: {}, {} parameters; {} epochs in {} phase(s), batch {}{}",
               flow_text, trainer.flow().parameter_count(),
               e.training.total_epochs(), e.training.phases.size(), e.training.batch_size,
               trainers.size() > 1 ? fmt::format(" split over {} trainer ranks (gradients: {})", trainers.size(),
                                                 trainer.gradient_reducer_name())
                                   : std::string());
  if (std::filesystem::exists(ckpt)) {
    check_resume_input(ckpt, e);
    trainer.restore(load_checkpoint(ckpt, trainer.flow().parameter_count(), trainer.pool().size()));
    spdlog::info("resuming from {} after epoch {} (step {})", ckpt, trainer.next_epoch(), trainer.global_step());
  }
  // The identity map's metrics, known only to a run that starts from the beginning.
  // They go to summary.json at once, so a run resumed later keeps them (merge_summary keeps keys
  // that a later patch does not name).
  if (trainer.next_epoch() == 0) {
    const EpochMetrics identity = trainer.validate();
    if (comm.root()) merge_summary(folder.summary(), {{"train",
                                           {{"fraction_in_range_identity", identity.fraction_in_range},
                                            {"loss_dir_identity", identity.loss_dir_validation},
                                            {"loss_inv_identity", identity.loss_inv_validation},
                                            {"ress_validation_identity", identity.ress_validation},
                                            {"out_of_domain_a_to_b_identity", identity.out_of_domain_a_to_b},
                                            {"out_of_domain_b_to_a_identity", identity.out_of_domain_b_to_a}}}});
  }
  const std::string log_path = folder.train_log();
  if (comm.root()) prepare_log(log_path, trainer.next_epoch());

  Progress progress("train", static_cast<double>(e.training.total_epochs()), "epochs", args.progress && comm.root(), 10.0);
  EpochMetrics last;
  int stop_signal = 0;  // the signal that stopped the job (on any rank), 0 while none
  if (trainer.done()) {
    spdlog::info("training is already complete ({} epochs); writing flow.h5 and the summary again", trainer.next_epoch());
    last = trainer.validate();
    stop_signal = join_round(comm, true).signal;
  }
  double step_seconds = 0, in_steps = 0, pool_seconds = 0;  // all epoch time, the steps', the pool's part
  std::int64_t steps = 0;
  while (!trainer.done()) {
    const std::int64_t epoch_before = trainer.next_epoch();
    try {
      last = trainer.train_epoch();
    } catch (const Error& err) {
      if (err.code() != ExitCode::numerical) throw;
      // A non-finite loss or gradient stops before its step: the state is still the last good one,
      // saved for diagnosis. A non-finite metric after the epoch means the epoch's updates
      // diverged: nothing is written from that state. Every trainer rank is here alike.
      if (trainer.next_epoch() != epoch_before)
        fail_together(trainers, numerical_error(std::string(err.what()) + "; nothing was written from this state (the "
                                                "last checkpoint, " + ckpt + ", is unchanged)"));
      const std::string failed = folder.failed_checkpoint();
      if (comm.root()) save_checkpoint(failed, pre, trainer.flow(), trainer.state(), e.resolved_toml);
      fail_together(trainers, numerical_error(std::string(err.what()) + "; state saved in " + failed +
                                              " (the last regular checkpoint is unchanged)"));
    }
    step_seconds += last.seconds;
    in_steps += last.step_seconds;
    pool_seconds += last.pool_seconds;
    steps += last.steps;
    if (comm.root()) append_text(log_path,
                fmt::format("{},{},{:.6g},{},{},{},{},{},{},{:.4g},{},{},{},{},{}\n", last.epoch + 1, last.phase + 1,
                            last.learning_rate, metric(last.loss_dir_train, 8), metric(last.loss_inv_train, 8),
                            metric(last.loss_dir_validation, 8), metric(last.loss_inv_validation, 8),
                            metric(last.fraction_in_range, 6), metric(last.ress_validation, 6), last.seconds, last.steps,
                            metric(last.out_of_domain_a_to_b, 6), metric(last.out_of_domain_b_to_a, 6),
                            metric(last.fraction_in_range_train, 6), metric(last.ress_train, 6)));
    progress.update(static_cast<double>(trainer.next_epoch()));
    if (!args.progress || (last.epoch + 1) % 10 == 0 || trainer.done())
      spdlog::info("epoch {} (phase {}, lr {:.2g}): L_dir {} / {} val, L_inv {} / {} val, in range {}, "
                   "RESS {}, outside domain {} (A→B) / {} (B→A), {:.2f} s",
                   last.epoch + 1, last.phase + 1, last.learning_rate, metric_fixed(last.loss_dir_train, 4),
                   metric_fixed(last.loss_dir_validation, 4), metric_fixed(last.loss_inv_train, 4),
                   metric_fixed(last.loss_inv_validation, 4), metric_fixed(last.fraction_in_range, 3),
                   metric_fixed(last.ress_validation, 4), metric_fixed(last.out_of_domain_a_to_b, 3),
                   metric_fixed(last.out_of_domain_b_to_a, 3), last.seconds);
    stop_signal = join_round(comm, trainer.done()).signal;
    if (stop_signal != 0 || trainer.next_epoch() % e.training.checkpoint_every == 0 || trainer.done()) {
      check_same_state(trainers, trainer);
      if (comm.root()) save_checkpoint(ckpt, pre, trainer.flow(), trainer.state(), e.resolved_toml);
    }
    if (stop_signal != 0) break;
  }
  // The training is over on every rank (the last round is behind): the sampler ranks stop.
  const double stall = in_steps > 0 ? pool_seconds / in_steps : 0.0;
  if (needs_a && steps > 0)
    spdlog::info("source pool: {} {:.1f}% of the step time ({:.3g} of {:.3g} s)",
                 link ? "the trainers waited for the sampler ranks' batches" : "the trainers ran its MC",
                 100 * stall, pool_seconds, in_steps);
  if (link && comm.root()) {
    const PoolStats st = stop_pool_servers(*link);
    if (st.batches > 0)
      spdlog::info("source pool: {} sampler rank(s) served {} batches, {} of them ready before asked for ({:.3g} s of MC)",
                   link->samplers(), st.batches, st.prepared, st.busy_seconds);
  }
  // A signal that came with (or after) the last epoch interrupts nothing: the run finishes.
  if (stop_signal != 0 && trainer.done()) {
    spdlog::info("signal {} ({}) received after the last epoch: finishing normally", stop_signal, strsignal(stop_signal));
    stop_signal = 0;
  }
  if (stop_signal != 0) {
    if (comm.root()) spdlog::warn("signal {} ({}) received{}: checkpoint saved after epoch {}; run the same command to resume", stop_signal,
                 strsignal(stop_signal), comm.size() > 1 ? " by one of the ranks" : "", trainer.next_epoch());
    g_interrupted = true;
    return 0;
  }
  progress.finish();
  check_same_state(trainers, trainer);
  if (!comm.root()) return 0;
  save_flow(folder.model_flow(), pre, trainer.flow(), e.resolved_toml);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  nlohmann::json tr = {{"parameters", trainer.flow().parameter_count()},
                       {"flow_kind", trainer.flow().kind()},
                       {"epochs", trainer.next_epoch()},
                       {"seconds_per_step", steps > 0 ? step_seconds / static_cast<double>(steps) : 0.0},
                       {"final_loss_dir", last.loss_dir_validation},
                       {"final_loss_inv", last.loss_inv_validation},
                       {"fraction_in_range", last.fraction_in_range},
                       {"ress_validation", last.ress_validation},
                       {"out_of_domain_a_to_b", last.out_of_domain_a_to_b},
                       {"out_of_domain_b_to_a", last.out_of_domain_b_to_a},
                       {"fraction_in_range_train", last.fraction_in_range_train},
                       {"ress_train", last.ress_train},
                       {"pool_stall_fraction", stall},
                       {"seconds", seconds}};
  merge_summary(folder.summary(), {{"train", tr}});
  spdlog::info("wrote {} and {} ({:.1f} s)", folder.model_flow(), log_path, seconds);
  return 0;
}

}  // namespace boltzmap
