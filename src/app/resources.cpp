// See resources.hpp.
#include "app/resources.hpp"

#include "stats/estimators.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.hpp"
#include "flow/make_flow.hpp"
#include "flow/trainer.hpp"

namespace boltzmap {

namespace {


double frame_bytes(const Experiment& e) { return 4.0 * e.box.n_particles * e.box.dimension; }

// Rates measured on the reference machine (README, Performance; AMD EPYC Zen 4, 2 cores), per thread.
// MC: ≈ 1.2×10⁷ trial moves/s per core for N = 32 (conservative: the AVX2 build, a hot system); a
// move costs O(N).
double mc_moves_per_second(const Experiment& e, int ranks, int threads) {
  return 1.2e7 * 32.0 / e.box.n_particles * ranks * std::max(1, threads);
}
// The flow: 0.23–0.29 s per training step of experiment I (batch 2048, 657 904 parameters, both
// loss terms, 2 threads, the pool's MC included) → ≈ 1.6×10⁻¹⁰ s per configuration, parameter and
// loss term on one thread for the forward and backward pass; a forward pass alone is ≈ 1/3 of it.
constexpr double kFlowSecondsPerConfigParameter = 1.6e-10;
// The input's flow's parameter count.
double flow_parameter_count(const Experiment& e) {
  const int N = e.box.n_particles, D = e.box.dimension;
  if (e.flow.kind == "equivariant")  // the count does not depend on the box side
    return static_cast<double>(EquivariantFlow<float>(equivariant_flow_shape(e, N - 1, D, 1.0), 0).parameter_count());
  return static_cast<double>(RealNvp<float>(flow_shape(e, (N - 1) * D), 0).parameter_count());
}
// The flow's cost per configuration in units of that figure: the real-NVP's parameter count; for
// the equivariant flow, whose pair messages cost far more than its parameters say, per layer
// n(n − 1)·H·(2F(D − 1) + 4) + 6nH² (pairs, then per-particle layers) times 1.7, calibrated on
// 1.19 ms per configuration for the forward and backward pass of 8 layers at n = 31, H = 32,
// F = 4 on one thread (tests/flow/test_equivariant_flow.cpp, CostOfEightLayers).
double flow_cost_parameters(const Experiment& e) {
  const int N = e.box.n_particles, D = e.box.dimension;
  if (e.flow.kind == "equivariant") {
    const double n = N - 1, H = e.flow.width, P = 2.0 * e.flow.frequencies * (D - 1);
    return 1.7 * e.flow.layers * (n * (n - 1) * H * (P + 4) + 6 * n * H * H);
  }
  return flow_parameter_count(e);
}
// The exact relabelling (an N×N assignment, O(N³)) and three energies per mapped configuration:
// ≈ 2.2×10⁻⁵ s per configuration and thread at N = 32 (map ran 3.4×10⁴ configurations/s on 2 threads).
double relabel_seconds(const Experiment& e) { return 2.2e-5 * std::pow(e.box.n_particles / 32.0, 3.0); }
// analyze: 2 × 5×10⁵ configurations with 100 replicates in 20 s on 2 threads, half of it the pair
// distances (O(N²)) and half the replicates' sums.
double analysis_seconds_per_configuration(const Experiment& e) {
  return 2.0e-5 * std::pow(e.box.n_particles / 32.0, 2.0) * (1.0 + e.analysis.bootstrap_replicates / 100.0);
}

double sampling_moves(const Experiment& e, char label) {
  const SystemConfig& s = e.system(label);
  const double W = static_cast<double>(s.sampler.walkers);
  const double saves = std::ceil(static_cast<double>(s.datasets.total()) / W);
  return W * (static_cast<double>(s.sampler.equilibration_moves) + saves * static_cast<double>(s.sampler.moves_between_saves));
}

std::int64_t evaluation_frames(const Experiment& e, const SystemConfig& s) {
  return e.analysis.max_configurations > 0 ? std::min(s.datasets.evaluation, e.analysis.max_configurations)
                                           : s.datasets.evaluation;
}

}  // namespace

double available_memory() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  double have = pages > 0 && page > 0 ? static_cast<double>(pages) * static_cast<double>(page) : 0.0;
  for (const char* limit : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    std::ifstream in(limit);
    double v = 0;
    if (in >> v && v > 0 && (have <= 0 || v < have)) have = v;  // "max" (no limit) fails to parse
  }
  return have;
}

std::string human_bytes(double b) {
  const char* unit[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB"};
  int k = 0;
  while (b >= 1000.0 && k < 6) b /= 1000.0, ++k;
  return fmt::format("{:.3g} {}", b, unit[k]);
}

double sampling_bytes_per_rank(const Experiment& e, char label, int ranks) {
  const SystemConfig& s = e.system(label);
  const double W = static_cast<double>(s.sampler.walkers);
  const double local = std::ceil(W / ranks);
  const double saves = std::ceil(static_cast<double>(s.datasets.total()) / W);
  // Per walker: its configuration and a frame buffer (float32), energy, step and walker buffers,
  // and the saved energy series (double per save).
  return local * (2.0 * frame_bytes(e) + 28.0 + 8.0 * saves);
}

double sampling_checkpoint_bytes(const Experiment& e, char label) {
  const SystemConfig& s = e.system(label);
  const double W = static_cast<double>(s.sampler.walkers);
  const double saves = std::ceil(static_cast<double>(s.datasets.total()) / W);
  const double held = std::min(saves, static_cast<double>(s.sampler.checkpoint_every_saves));
  return W * (frame_bytes(e) + 8.0) * (held + 1.0) + 16.0 * W;
}

double training_bytes(const Experiment& e) {
  double frames = 0;
  for (const SystemConfig& s : e.systems) frames += static_cast<double>(s.datasets.train + s.datasets.validation);
  const double pool = e.training.pool_size > 0 ? static_cast<double>(e.training.pool_size)
                                                : static_cast<double>(e.systems[0].datasets.train);
  // The data sets are read once (HDF5 → vector) and moved; the pool is a copy of A's rows.
  return (frames + pool) * frame_bytes(e) * 2.0;
}

// Map and analyze read a chunk of rows at a time (analysis.chunk_configurations), so their memory does
// not grow with the sample.
double map_bytes(const Experiment& e) {
  // The chunk's source and mapped coordinates, the flow's work space for them (a few latent
  // copies) and its per-configuration observables.
  return static_cast<double>(e.analysis.chunk_configurations) * (6.0 * frame_bytes(e) + 80.0);
}

double analysis_bytes(const Experiment& e) {
  const double chunk = static_cast<double>(e.analysis.chunk_configurations), R1 = e.analysis.bootstrap_replicates + 1.0;
  const double E = e.analysis.energy_bins, G = e.analysis.rdf_bins;
  // Per chunk: three sets of coordinates (own, identity image, mapped) and a scaled copy, about
  // twelve doubles per row, the multiplicities of every replicate, the pair histograms and the
  // BAR coefficients. Kept for the whole run: the sums of 6 sets × 2 weightings × every replicate,
  // the BAR moments and the energy subsamples for the bins.
  const double per_chunk = chunk * (4.0 * frame_bytes(e) + 96.0 + R1 + 8.0 * (G + kTaylorOrder + 3.0));
  const double sums = 8.0 * R1 * (12.0 * (7.0 + E + G) + 4.0 * (kTaylorOrder + 3.0));
  // The multinomial scheme's table of multiplicities, one byte per configuration and replicate of
  // each evaluation set (it couples every configuration, so it is built whole; one rank only).
  double table = 0;
  if (e.analysis.bootstrap_scheme == "multinomial")
    for (const SystemConfig& s : e.systems) {
      const double n = static_cast<double>(s.datasets.evaluation);
      table += R1 * (e.analysis.max_configurations > 0 ? std::min(n, static_cast<double>(e.analysis.max_configurations)) : n);
    }
  return per_chunk + sums + 6.0 * 8.0 * 131072.0 + table;
}

void require_memory(const std::string& what, const std::string& key, double bytes_per_rank, Holders holders,
                    const Comm& comm) {
  const std::vector<std::string> hosts = comm.gather(host_name());
  std::string message;
  if (comm.root()) {
    const auto on_host =
        holders == Holders::every_rank ? std::count(hosts.begin(), hosts.end(), hosts.front()) : std::ptrdiff_t{1};
    const double need = bytes_per_rank * static_cast<double>(on_host), have = available_memory();
    if (have > 0 && need > have)
      message = fmt::format("{}: {} needs about {} of memory per rank ({} on host {} with {} rank(s) there), but the host "
                            "(or this job's memory limit) has {}; make it smaller, or spread the job over more nodes",
                            key, what, human_bytes(bytes_per_rank), human_bytes(need), hosts.front(), on_host,
                            human_bytes(have));
  }
  comm.broadcast(message);
  if (message.empty()) return;
  if (!comm.root()) throw ReportedError(ExitCode::input);
  throw input_error(message);
}

void warn_if_long_sampling(const Experiment& e, char label, const Comm& comm, int threads) {
  if (!comm.root()) return;
  const SystemConfig& s = e.system(label);
  const double W = static_cast<double>(s.sampler.walkers);
  const double saves = std::ceil(static_cast<double>(s.datasets.total()) / W);
  const double moves = sampling_moves(e, label);
  const double hours = moves / mc_moves_per_second(e, comm.size(), threads) / 3600.0;
  if (hours > 24.0)
    spdlog::warn("system {}: {:.3g} trial moves ({} walkers × ({} + {} × {}) moves) will take roughly {:.0f} hours on "
                 "{} rank(s) × {} thread(s) at the measured rate; check systems.{}.sampler and datasets",
                 label, moves, s.sampler.walkers, s.sampler.equilibration_moves, saves, s.sampler.moves_between_saves,
                 hours, comm.size(), threads, label);
}

std::string human_seconds(double t) {
  if (t < 60) return fmt::format("{:.2g} s", t);
  if (t < 3600) return fmt::format("{:.2g} min", t / 60);
  if (t < 86400 * 2) return fmt::format("{:.2g} h", t / 3600);
  return fmt::format("{:.3g} days", t / 86400);
}

std::vector<StagePlan> plan_stages(const Experiment& e, int ranks, int threads) {
  threads = std::max(1, threads);
  const int N = e.box.n_particles, D = e.box.dimension;
  const double frame = frame_bytes(e);
  // A saved frame on disk: positions, then energy, step and walker (and the HDF5 overhead, small).
  const double saved_frame = frame + 28.0;
  std::vector<StagePlan> plans;
  for (const SystemConfig& s : e.systems) {
    const char X = s.label[0];
    const SamplerConfig& sa = s.sampler;
    const double saves = std::ceil(static_cast<double>(s.datasets.total()) / static_cast<double>(sa.walkers));
    StagePlan p;
    p.stage = "sample " + s.label;
    p.work = fmt::format("{} walkers × ({} equilibration + {:.0f} saves × {} moves) = {:.0f} trial moves; keeps {} "
                         "configurations (train {}, validation {}, evaluation {})",
                         sa.walkers, sa.equilibration_moves, saves, sa.moves_between_saves, sampling_moves(e, X),
                         s.datasets.total(), s.datasets.train, s.datasets.validation, s.datasets.evaluation);
    p.writes = fmt::format("data/{}_{{train,validation,evaluation}}.h5 (sets of size > 0)", X);
    p.where = fmt::format("every rank ({} walkers each)", (sa.walkers + ranks - 1) / ranks);
    p.seconds = sampling_moves(e, X) / mc_moves_per_second(e, ranks, threads);
    p.memory = sampling_bytes_per_rank(e, X, ranks);
    // At the peak: the saves in the sampling checkpoint folder and the data sets written from them
    // (the folder is removed after; app/cmd_sample.cpp).
    p.disk = 2.0 * static_cast<double>(s.datasets.total()) * saved_frame;
    plans.push_back(p);
  }
  const SystemConfig &A = e.systems[0], &B = e.systems[1];
  const int latent = (N - 1) * D;
  const double params = flow_cost_parameters(e);
  {
    const TrainingSettings& t = e.training;
    const double batch = t.batch_size;
    const double steps_per_epoch = std::ceil(static_cast<double>(B.datasets.train) / batch);
    double epochs = 0, flow = 0;
    for (const TrainingPhase& ph : t.phases) {
      const double terms = (ph.lambda_dir > 0 ? 1.0 : 0.0) + (ph.lambda_inv > 0 ? 1.0 : 0.0);
      epochs += static_cast<double>(ph.epochs);
      flow += static_cast<double>(ph.epochs) * steps_per_epoch * batch * params * terms;
      // The validation pass after each epoch: forward only, both validation sets.
      flow += static_cast<double>(ph.epochs) * static_cast<double>(A.datasets.validation + B.datasets.validation) *
              params / 3.0;
    }
    const double steps = epochs * steps_per_epoch;
    const double pool_moves = steps * batch * static_cast<double>(t.pool_mc_steps);  // an MC step is one trial move
    StagePlan p;
    p.stage = "train";
    p.work = fmt::format("{:.0f} epochs × {:.0f} steps of batch {} ({} phase(s)); {} on {} "
                         "numbers per configuration; pool MC {} steps per drawn configuration",
                         epochs, steps_per_epoch, t.batch_size, t.phases.size(),
                         e.flow.kind == "equivariant"
                             ? fmt::format("equivariant flow of {} layers (width {})", e.flow.layers, e.flow.width)
                             : fmt::format("real-NVP of {} parameters", static_cast<std::int64_t>(params)),
                         latent, t.pool_mc_steps);
    p.writes = "model/flow.h5, model/checkpoints/checkpoint.h5, train_log.csv";
    // Data-parallel: every trainer rank takes 1/k of each batch (flow and pool MC); the validation
    // metrics are computed on every trainer rank alike, and the allreduce is not counted.
    const int trainers = ranks > 1 ? std::max(1, ranks - e.parallel.sampler_ranks) : 1;
    double validation = 0;
    for (const TrainingPhase& ph : t.phases)
      validation += static_cast<double>(ph.epochs) * static_cast<double>(A.datasets.validation + B.datasets.validation) *
                    params / 3.0;
    p.where = trainers > 1 ? fmt::format("{} trainer ranks, each 1/{} of every batch{}", trainers, trainers,
                                         trainers < ranks ? "; the sampler ranks wait" : "")
                           : std::string("rank 0");
    p.seconds = ((flow - validation) / trainers + validation) * kFlowSecondsPerConfigParameter / threads +
                pool_moves / trainers / mc_moves_per_second(e, 1, threads);
    p.memory = training_bytes(e);
    // flow.h5: float32 parameters; the checkpoint adds Adam's two moments in double.
    const double stored = flow_parameter_count(e);
    p.disk = stored * 4.0 + stored * (4.0 + 16.0);
    plans.push_back(p);
  }
  const double eval = static_cast<double>(evaluation_frames(e, A) + evaluation_frames(e, B));
  {
    StagePlan p;
    p.stage = "map";
    p.work = fmt::format("F on {} of A's and F⁻¹ on {} of B's evaluation configurations", evaluation_frames(e, A),
                         evaluation_frames(e, B));
    p.writes = "mapped/A_to_B.h5, mapped/B_to_A.h5";
    p.where = "every rank (its share of the configurations)";
    p.seconds = eval * (kFlowSecondsPerConfigParameter * params / 3.0 + relabel_seconds(e)) / (ranks * threads);
    p.memory = map_bytes(e);
    // Each mapped frame: the image, and about seven per-frame observables (value, step and time).
    p.disk = eval * (frame + 7.0 * 24.0 + 28.0);
    plans.push_back(p);
  }
  {
    StagePlan p;
    p.stage = "analyze";
    p.work = fmt::format("observables, ESS, ΔF for both directions and the identity map on {:.0f} configurations; "
                         "{} bootstrap replicates ({})",
                         eval, e.analysis.bootstrap_replicates, e.analysis.bootstrap_scheme);
    p.writes = "analysis.h5, summary.json, figures/*.png";
    p.where = "every rank (its share of the configurations, a chunk at a time)";
    p.seconds = eval * analysis_seconds_per_configuration(e) / (ranks * threads);
    p.memory = analysis_bytes(e);
    p.disk = 1e6;  // histograms and g(r) of every set and replicate: about a megabyte
    plans.push_back(p);
  }
  {
    StagePlan p;
    p.stage = "preprocess";
    double frames = 0;
    for (const SystemConfig& s : e.systems) frames += static_cast<double>(s.datasets.total());
    p.work = fmt::format("fits the preprocessing on the training sets and writes all {:.0f} configurations through it "
                         "(only `boltzmap preprocess` runs it: train fits its own)",
                         frames);
    p.writes = "model/preprocess.h5, preprocessed/*.h5";
    p.where = "rank 0";
    p.seconds = frames * relabel_seconds(e) / threads;
    p.memory = frames * frame * 4.0;
    p.disk = frames * (3.0 * frame + 8.0);
    plans.push_back(p);
  }
  return plans;
}

}  // namespace boltzmap
