// See sample.hpp. The production loop overlaps: at every save but the last, the next chunk of
// moves is started (McEngine::start; on the GPU it runs while the host works) once the save's
// frames and energies are on the host, before the host work on them (P_ex, the gather to rank 0,
// a checkpoint: written from those host copies, so it holds the save's state while the walkers
// move on); the loop's next advance finishes that chunk. The chunks, and so the recomputations
// and the data, are those of a run without overlap (tests/app/sample_resume.sh compares bits).
#include "sampling/sample.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <cstring>
#include <memory>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/error.hpp"
#include "core/progress.hpp"
#include "io/files.hpp"
#include "io/h5md.hpp"
#include "io/run_folder.hpp"
#include "physics/energy.hpp"
#include "physics/experiment_physics.hpp"
#include "physics/lattice.hpp"
#include "sampling/autocorr.hpp"
#include "sampling/sample_checkpoint.hpp"
#include "core/signals.hpp"
#include "sampling/mc_engine.hpp"
#include "version.hpp"

namespace boltzmap {

std::uint64_t sampling_seed(std::uint64_t seed, char label) { return derive_seed(seed, label == 'B' ? 2 : 1); }

namespace {

constexpr std::uint64_t chunk_moves = 1000;   // moves between energy recomputations / progress
constexpr std::uint64_t tuning_moves = 250;   // moves between step-size updates ("auto")

struct SetSpec {
  const char* name;
  std::int64_t begin, end;  // range in the global (save, walker) stream
};

}  // namespace

std::string sampling_input(const std::string& resolved, char label) {
  std::istringstream in(resolved_sections(resolved, {"", "box", std::string("systems.") + label}));
  std::string out;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("checkpoint_every_saves", 0) != 0) out += line + "\n";
  return out;
}

bool sample_checkpoint_fits(const std::string& path, const Experiment& e, char label) {
  return sampling_input(read_root_attribute(path, "boltzmap_input"), label) == sampling_input(e.resolved_toml, label);
}

std::string sample_checkpoint_difference(const std::string& path, const Experiment& e, char label) {
  std::istringstream was(sampling_input(read_root_attribute(path, "boltzmap_input"), label)), now(sampling_input(e.resolved_toml, label));
  for (;;) {
    std::string a, b;
    const bool ga = static_cast<bool>(std::getline(was, a)), gb = static_cast<bool>(std::getline(now, b));
    if (!ga && !gb) return "it differs";
    if (!ga) a = "(nothing)";
    if (!gb) b = "(nothing)";
    if (a != b) return "it has `" + a + "` where " + e.source_file + " now gives `" + b + "`";
  }
}

SampleStats sample_system(const Experiment& e, char label, const Comm& comm, const SampleOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  const SystemConfig& cfg = e.system(label);
  const System sys = physical_system(cfg, e.box.dimension, e.box.n_particles);
  const int N = sys.n_particles, D = sys.box.dimension, stride = N * D;
  const std::int64_t W = cfg.sampler.walkers;
  const Range mine = block_of(W, comm.rank(), comm.size());
  const int local = static_cast<int>(mine.count());
  const std::int64_t total = cfg.datasets.total();
  const int saves = static_cast<int>((total + W - 1) / W);
  const std::uint64_t eq = static_cast<std::uint64_t>(cfg.sampler.equilibration_moves);
  const std::uint64_t between = static_cast<std::uint64_t>(cfg.sampler.moves_between_saves);
  const std::string sys_name(1, label);

  const SetSpec sets[3] = {{"train", 0, cfg.datasets.train},
                           {"validation", cfg.datasets.train, cfg.datasets.train + cfg.datasets.validation},
                           {"evaluation", cfg.datasets.train + cfg.datasets.validation, total}};

  spdlog::info("system {}: {} ε={} σ={} r_c={:.4g} r_in={}, T={}, ρ={}, N={}, {}D, L={:.6g}", sys_name,
               cfg.potential, cfg.epsilon, cfg.sigma, sys.potential.cutoff, cfg.inner_cutoff, cfg.temperature,
               cfg.density, N, D, sys.box.length);
  spdlog::info("system {}: {} walkers ({} per rank), Δ = {}, {} equilibration moves, {} saves every {} moves → "
               "train {}, validation {}, evaluation {}",
               sys_name, W, W / comm.size(), cfg.sampler.step_size ? fmt::format("{}", *cfg.sampler.step_size) : "auto",
               eq, saves, between, cfg.datasets.train, cfg.datasets.validation, cfg.datasets.evaluation);
  if (saves > 0 && saves < 4 && comm.root())
    spdlog::warn("system {}: only {} save(s) per walker; the autocorrelation time needs ≥ 4 (more configurations "
                 "or fewer walkers)", sys_name, saves);

  const std::vector<float> lattice = make_lattice(e.box.lattice, D, N, sys.box.length);
  // The walkers, on the engine the stage's backend chose (mc_engine.hpp): the same chains on either.
  const std::unique_ptr<McEngine> engine =
      opt.engine == McEngineKind::cuda
          ? make_cuda_engine(sys, sampling_seed(e.seed, label), static_cast<std::uint32_t>(mine.begin), local, lattice)
          : make_cpu_engine(sys, sampling_seed(e.seed, label), static_cast<std::uint32_t>(mine.begin), local, lattice,
                            opt.kernel);
  McEngine& walkers = *engine;
  spdlog::debug("system {}: MC engine {}", sys_name, walkers.description());

  // ---- the state: fresh, or a checkpoint's (whose input the caller has checked)
  const RunFolder folder{opt.run_dir};
  const std::string ckpt = folder.sample_checkpoint(label), state_dir = folder.sample_state(label);
  SampleStats st;
  SampleCheckpoint c;  // the scalars; this rank's production acceptance is c.production_accepted on rank 0
  c.step = static_cast<float>(cfg.sampler.step_size.value_or(0.2 * cfg.sigma));
  std::vector<double> series(static_cast<size_t>(local) * saves);  // [walker][save]
  std::vector<double> pressure_sum(static_cast<size_t>(local), 0.0);  // Σ over saves of P_ex, per walker
  if (std::filesystem::exists(ckpt)) {
    if (!sample_checkpoint_fits(ckpt, e, label))
      throw input_error(ckpt + ": written for a different input — " + sample_checkpoint_difference(ckpt, e, label) +
                        "; move " + state_dir + " away to start over, or restore the input");
    c = read_sample_checkpoint(ckpt, W, N, D, comm);
    walkers.restore(c.positions, c.energies, c.moves);
    pressure_sum = std::move(c.pressure_sums);
    c.positions = {};
    c.energies = {};
    if (!comm.root()) c.production_accepted = 0;
    // The energy series of the saves done, from the saves files.
    std::vector<float> pos(static_cast<size_t>(local) * stride);
    std::vector<double> en(local);
    for (std::int64_t first = 0; first < c.saves_done;) {
      const std::string f = folder.sample_saves(label, first);
      const std::int64_t n = saves_in_file(f, first);
      for (std::int64_t j = 0; j < n && first + j < c.saves_done; ++j) {
        read_saves_block(f, j, mine.begin, local, stride, pos, en);
        for (int w = 0; w < local; ++w) series[static_cast<size_t>(w) * saves + first + j] = en[w];
      }
      first += n;
    }
    st.resumed = true;
    spdlog::info("system {}: resuming from {}: {} of {} saves done, {} trial moves per walker", sys_name, ckpt,
                 c.saves_done, saves, c.moves);
  } else if (comm.root()) {
    std::filesystem::remove_all(state_dir);  // saves files of no checkpoint
  }
  if (comm.root()) ensure_directory(state_dir);
  comm.barrier();

  const double global_moves = static_cast<double>(W) * static_cast<double>(eq + saves * between);
  Progress progress("sample " + sys_name, global_moves, "moves", opt.progress && comm.root());
  double done_moves = static_cast<double>(W) * static_cast<double>(c.moves);
  double drift = c.max_energy_drift;
  std::uint64_t started_moves = 0;  // of the chunk started last
  auto start_chunk = [&](std::uint64_t moves, float step) {
    walkers.start(moves, step);
    started_moves = moves;
  };
  auto finish_chunk = [&]() {
    const std::uint64_t acc = walkers.finish();
    done_moves += static_cast<double>(W) * static_cast<double>(started_moves);
    progress.update(done_moves);
    return acc;
  };
  auto advance = [&](std::uint64_t moves, float step) {
    start_chunk(moves, step);
    return finish_chunk();
  };

  // ---- the output files, created (and their space reserved) before any walker moves, so a
  // folder or disk that cannot take them fails now rather than after the equilibration; they are
  // filled at the end, from the saves files
  std::vector<std::unique_ptr<H5mdWriter>> writers(3);
  std::vector<std::string> paths(3);
  FrameMeta meta;
  meta.particles = N;
  meta.dimension = D;
  meta.box_length = sys.box.length;
  meta.author = e.author;
  meta.attributes = {{"boltzmap_input", e.resolved_toml}, {"boltzmap_system", sys_name},
                     {"boltzmap_version", std::string(build::version) + " (" + build::git_hash + ")"}};
  for (int k = 0; k < 3; ++k) {
    const std::string path = folder.data_set(label, sets[k].name);
    if (sets[k].end <= sets[k].begin) {
      // A set of size 0 is not written; a file of that name from an earlier run would look like
      // part of this one, so it goes.
      if (comm.root() && std::filesystem::remove(path))
        spdlog::warn("system {}: removed {} left by an earlier run (this input asks for no {} set)", sys_name, path,
                     sets[k].name);
      continue;
    }
    meta.frames = sets[k].end - sets[k].begin;
    meta.attributes["boltzmap_set"] = sets[k].name;
    writers[k] = std::make_unique<H5mdWriter>(path, meta, comm);
    paths[k] = path;
  }

  // ---- checkpoints: the saves made since the last one (gathered on rank 0), then the state
  std::vector<float> pending_pos;     // rank 0: [save][walker][particle][dim]
  std::vector<double> pending_energy;  // rank 0: [save][walker]
  std::int64_t pending_first = c.saves_done, pending_count = 0;
  std::uint64_t prod_acc = c.production_accepted;
  std::vector<float> one_config(static_cast<size_t>(stride));
  std::vector<float> frame_buf(static_cast<size_t>(local) * stride);
  std::vector<double> energy_buf(local);
  std::vector<double> save_energy(local);  // a save's energies, kept while the next chunk runs
  std::uint64_t save_moves = 0;             // the moves per walker at that save
  std::uint64_t checkpoint_moves = c.moves;  // those of the last checkpoint
  // The state now, between chunks; or, with at_save, that of the save just made, from its host
  // copies (frame_buf, save_energy, save_moves), the walkers free to run the next chunk.
  auto checkpoint = [&](bool at_save) {
    if (pending_count > 0 && comm.root())
      write_saves_file(folder.sample_saves(label, pending_first), pending_first, pending_count, W, N, D, pending_pos,
                       pending_energy);
    pending_first += pending_count;
    pending_count = 0;
    pending_pos.clear();
    pending_energy.clear();
    SampleCheckpoint now;
    now.moves = at_save ? save_moves : walkers.moves_done();
    checkpoint_moves = now.moves;
    now.step = c.step;
    now.equilibration_accepted = c.equilibration_accepted;
    now.production_accepted = comm.sum(prod_acc);
    now.max_energy_drift = comm.max(drift);
    now.seconds = c.seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    now.seconds = comm.max(now.seconds);
    now.saves_done = pending_first;
    if (at_save) {
      now.positions = frame_buf;
      now.energies = save_energy;
    } else {
      now.positions.resize(static_cast<size_t>(local) * stride);
      walkers.configurations(now.positions);
      const auto en = walkers.energies();
      now.energies.assign(en.begin(), en.end());
    }
    now.pressure_sums = pressure_sum;
    write_sample_checkpoint(ckpt, now, W, stride, e.resolved_toml, label, comm);
  };
  // The signal any rank has recorded (0: none), the same on every rank.
  auto stop_signal = [&]() { return comm.max(static_cast<int>(pending_signal())); };
  auto interrupted = [&](int sig) {
    for (auto& w : writers) w.reset();  // closed, not renamed
    if (comm.root()) {
      for (const auto& p : paths)
        if (!p.empty()) remove_partial(p);
      spdlog::warn("system {}: signal {} ({}) received{}: checkpoint {} saved after {} of {} saves ({} trial moves per "
                   "walker); run the same command to resume",
                   sys_name, sig, strsignal(sig), comm.size() > 1 ? " by one of the ranks" : "", ckpt, pending_first,
                   saves, checkpoint_moves);
    }
    st.stopped = sig;
    return st;
  };

  // ---- equilibration (with step-size tuning in its first half when step_size = "auto")
  float& step = c.step;
  while (walkers.moves_done() < eq) {
    const std::uint64_t done = walkers.moves_done(), left = eq - done;
    const std::uint64_t tune_until = cfg.sampler.step_size ? 0 : eq / 2;
    const bool tuning = done < tune_until;
    const std::uint64_t m = std::min(left, tuning ? std::min(tuning_moves, tune_until - done) : chunk_moves);
    const std::uint64_t acc = comm.sum(advance(m, step));
    c.equilibration_accepted += acc;
    if (tuning) {
      const double rate = static_cast<double>(acc) / (static_cast<double>(W) * m);
      const double factor = std::clamp(rate / cfg.sampler.target_acceptance, 0.5, 2.0);
      step = static_cast<float>(std::min(step * factor, 0.5 * sys.box.length));
    }
    drift = std::max(drift, walkers.recompute_energies());
    const int sig = stop_signal();
    if (sig != 0 || walkers.moves_done() == eq) checkpoint(false);
    if (sig != 0) return interrupted(sig);
  }
  if (!cfg.sampler.step_size) spdlog::info("system {}: tuned step size Δ = {:.5g}", sys_name, step);

  // ---- production: each save's energies and P_ex here, its configurations to rank 0 for the saves file
  const std::int64_t every = cfg.sampler.checkpoint_every_saves;
  for (std::int64_t s = pending_first; s < saves; ++s) {
    const std::uint64_t save_at = eq + static_cast<std::uint64_t>(s + 1) * between;
    // The chunks up to the save; the first may be in flight already, started at the last save
    // with the size this loop would give it.
    while (walkers.in_flight() || walkers.moves_done() < save_at) {
      if (!walkers.in_flight()) start_chunk(std::min(save_at - walkers.moves_done(), chunk_moves), step);
      prod_acc += finish_chunk();
      drift = std::max(drift, walkers.recompute_energies());  // saved energies are exact
      if (walkers.moves_done() == save_at) break;
      const int sig = stop_signal();
      if (sig != 0) {
        checkpoint(false);
        return interrupted(sig);
      }
    }
    {
      const auto en = walkers.energies();
      std::copy(en.begin(), en.end(), save_energy.begin());
    }
    walkers.configurations(frame_buf);  // the save's frames (from the device, for the CUDA engine)
    save_moves = save_at;
    // The next save's first chunk (the size the while-loop gives it) runs while the host works on
    // this save.
    const bool last = s + 1 == saves;
    if (!last && between > 0) start_chunk(std::min(between, chunk_moves), step);
    for (int w = 0; w < local; ++w) {
      if (!std::isfinite(save_energy[w]))
        throw numerical_error(fmt::format("system {}: walker {} has energy {} at save {}", sys_name, mine.begin + w,
                                          save_energy[w], s));
      series[static_cast<size_t>(w) * saves + s] = save_energy[w];
      pressure_sum[static_cast<size_t>(w)] +=
          excess_pressure<float>(sys, std::span<const float>(frame_buf.data() + static_cast<size_t>(w) * stride, stride));
    }
    if (comm.root()) {
      pending_pos.resize(static_cast<size_t>(pending_count + 1) * W * stride);
      pending_energy.resize(static_cast<size_t>(pending_count + 1) * W);
    }
    comm.gather_blocks(std::span<const float>(frame_buf),
                       std::span<float>(comm.root() ? pending_pos.data() + static_cast<size_t>(pending_count) * W * stride : nullptr,
                                        comm.root() ? static_cast<size_t>(W) * stride : 0),
                       W, stride);
    comm.gather_blocks(std::span<const double>(save_energy),
                       std::span<double>(comm.root() ? pending_energy.data() + static_cast<size_t>(pending_count) * W : nullptr,
                                         comm.root() ? static_cast<size_t>(W) : 0),
                       W, 1);
    ++pending_count;
    const int sig = stop_signal();
    if (sig != 0 || pending_count >= every || last) checkpoint(true);  // prod_acc, drift: up to this save
    if (sig != 0 && !last) {
      if (walkers.in_flight()) walkers.finish();  // a chunk past the checkpoint: a resume makes it again
      return interrupted(sig);
    }
    if (sig != 0 && comm.root())
      spdlog::info("system {}: signal {} ({}) received after the last save: finishing normally", sys_name, sig, strsignal(sig));
  }

  // ---- the data sets, from the saves files: this rank's frames of each save that fall into each
  // set (contiguous: the stream is (save, walker))
  {
    std::vector<std::int32_t> walker_buf(local);
    std::vector<std::int64_t> moves_buf(local);
    std::vector<float> set_buf(static_cast<size_t>(local) * stride);
    std::vector<double> set_energy(local);
    for (std::int64_t first = 0; first < saves;) {
      const std::string f = folder.sample_saves(label, first);
      const std::int64_t n = saves_in_file(f, first);
      for (std::int64_t j = 0; j < n && first + j < saves; ++j) {
        const std::int64_t s = first + j;
        read_saves_block(f, j, mine.begin, local, stride, frame_buf, energy_buf);
        const std::int64_t base = s * W + mine.begin;
        for (int k = 0; k < 3; ++k) {
          if (!writers[k]) continue;
          const std::int64_t lo = std::max(sets[k].begin, base), hi = std::min(sets[k].end, base + local);
          const std::int64_t count = std::max<std::int64_t>(0, hi - lo);
          for (std::int64_t i = 0; i < count; ++i) {
            const int w = static_cast<int>(lo - base + i);
            std::copy_n(frame_buf.data() + static_cast<size_t>(w) * stride, stride, set_buf.data() + i * stride);
            set_energy[i] = energy_buf[w];
            walker_buf[i] = static_cast<std::int32_t>(mine.begin + w);
            moves_buf[i] = static_cast<std::int64_t>(eq + static_cast<std::uint64_t>(s + 1) * between);
          }
          writers[k]->write(count > 0 ? lo - sets[k].begin : 0, count, set_buf, set_energy, walker_buf, moves_buf);
        }
      }
      first += n;
    }
  }
  for (int k = 0; k < 3; ++k)
    if (writers[k]) {
      writers[k]->close();
      st.files.push_back(paths[k]);
    }
  progress.finish();
  // The data sets are in place: the state that made them goes.
  comm.barrier();
  if (comm.root()) {
    std::error_code ec;
    std::filesystem::remove_all(state_dir, ec);
    std::filesystem::remove(folder.data() + "/checkpoints", ec);  // when empty
  }
  std::uint64_t eq_acc = c.equilibration_accepted;

  // ---- diagnostics (sums reduced over ranks)
  const double moves_prod = static_cast<double>(W) * saves * between;
  st.saves = saves;
  st.step_size = cfg.sampler.step_size.value_or(step);  // the input's value exactly, or the tuned one
  st.acceptance = moves_prod > 0 ? static_cast<double>(comm.sum(prod_acc)) / moves_prod : NAN;
  st.equilibration_acceptance = eq > 0 ? static_cast<double>(eq_acc) / (static_cast<double>(W) * eq) : NAN;
  st.max_energy_drift = comm.max(drift);
  if (saves > 0) {
    // Per-walker means are independent: their spread gives the standard error of ⟨U⟩.
    double sums[2] = {0.0, 0.0};
    for (int w = 0; w < local; ++w) {
      double m = 0.0;
      for (int s = 0; s < saves; ++s) m += series[static_cast<size_t>(w) * saves + s];
      sums[0] += m / saves;
    }
    comm.allreduce_sum(std::span<double>(sums, 1));
    const double mean = sums[0] / W;
    for (int w = 0; w < local; ++w) {
      double m = 0.0;
      for (int s = 0; s < saves; ++s) m += series[static_cast<size_t>(w) * saves + s];
      sums[1] += (m / saves - mean) * (m / saves - mean);
    }
    comm.allreduce_sum(std::span<double>(sums + 1, 1));
    st.mean_energy_per_particle = mean / N;
    st.mean_energy_per_particle_err = W > 1 ? std::sqrt(sums[1] / (W - 1) / W) / N : NAN;
    // ⟨P_ex⟩ and its standard error, the same way (independent walkers).
    double p[2] = {0.0, 0.0};
    for (int w = 0; w < local; ++w) p[0] += pressure_sum[static_cast<size_t>(w)] / saves;
    comm.allreduce_sum(std::span<double>(p, 1));
    st.mean_excess_pressure = p[0] / W;
    for (int w = 0; w < local; ++w) {
      const double d = pressure_sum[static_cast<size_t>(w)] / saves - st.mean_excess_pressure;
      p[1] += d * d;
    }
    comm.allreduce_sum(std::span<double>(p + 1, 1));
    st.mean_excess_pressure_err = W > 1 ? std::sqrt(p[1] / (W - 1) / W) : NAN;

    std::vector<double> ac_sums, ac_counts;
    const int max_lag = saves - 1;
    autocorrelation_sums(series, local, saves, mean, max_lag, ac_sums, ac_counts);
    comm.allreduce_sum(std::span<double>(ac_sums));
    comm.allreduce_sum(std::span<double>(ac_counts));
    st.rho = autocorrelation_from_sums(ac_sums, ac_counts);
    if (saves >= 4) {
      st.tau_int = integrated_time(st.rho);
      st.ess_per_sample = 1.0 / st.tau_int;
    } else {
      st.tau_int = st.ess_per_sample = NAN;
    }
  }
  st.seconds = c.seconds + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  st.seconds = comm.max(st.seconds);
  st.trial_moves_per_second = global_moves / st.seconds;
  spdlog::info("system {}: acceptance {:.4f} (equilibration {:.4f}), ⟨U⟩/N = {:.5f} ± {:.5f}, ⟨P_ex⟩ = {:.5f} ± {:.5f}, "
               "τ_int = {:.3f} saves, ESS per sample = {:.3f}, max energy drift {:.2e}, {:.3g} trial moves/s, {:.1f} s",
               sys_name, st.acceptance, st.equilibration_acceptance, st.mean_energy_per_particle,
               st.mean_energy_per_particle_err, st.mean_excess_pressure, st.mean_excess_pressure_err, st.tau_int, st.ess_per_sample, st.max_energy_drift,
               st.trial_moves_per_second, st.seconds);
  // A chain that (almost) never moves, or accepts (almost) everything, samples nothing useful: its
  // saves are near copies. Say so; the numbers above are still what was measured.
  if (comm.root() && std::isfinite(st.acceptance) && (st.acceptance < 0.01 || st.acceptance > 0.99))
    spdlog::warn("system {}: production acceptance {:.4f} is {}; the saved configurations are barely decorrelated — "
                 "check systems.{}.sampler.step_size (Δ = {:.4g}) and the state point (ε = {}, T = {})",
                 sys_name, st.acceptance, st.acceptance < 0.01 ? "below 1%" : "above 99%", sys_name, st.step_size,
                 cfg.epsilon, cfg.temperature);
  return st;
}

}  // namespace boltzmap
