// See resources.hpp.
#include "app/resources.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/error.hpp"

namespace boltzmap {

namespace {

// The host's memory, or less when this process's cgroup (v2 memory.max, v1 limit_in_bytes: how
// SLURM and containers cap a job) allows less. 0 if unknown.
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

double frame_bytes(const Experiment& e) { return 4.0 * e.box.n_particles * e.box.dimension; }

}  // namespace

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

double training_bytes(const Experiment& e) {
  double frames = 0;
  for (const SystemConfig& s : e.systems) frames += static_cast<double>(s.datasets.train + s.datasets.validation);
  const double pool = e.training.pool_size > 0 ? static_cast<double>(e.training.pool_size)
                                                : static_cast<double>(e.systems[0].datasets.train);
  // The data sets are read once (HDF5 → vector) and moved; the pool is a copy of A's rows.
  return (frames + pool) * frame_bytes(e) * 2.0;
}

double analysis_bytes(const Experiment& e) {
  double frames = 0;
  for (const SystemConfig& s : e.systems) {
    const double n = static_cast<double>(s.datasets.evaluation);
    frames += e.analysis.max_configurations > 0 ? std::min(n, static_cast<double>(e.analysis.max_configurations)) : n;
  }
  // Source and mapped coordinates, plus about ten doubles per configuration (energies, weights)
  // and the bootstrap counts (one byte per configuration and replicate).
  return frames * (2.0 * frame_bytes(e) + 80.0 + (e.analysis.bootstrap_replicates + 1.0));
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
  const double moves = W * (static_cast<double>(s.sampler.equilibration_moves) +
                            saves * static_cast<double>(s.sampler.moves_between_saves));
  // ≈ 1.2×10⁷ trial moves/s per core for N = 32 (README, Performance); a move costs O(N).
  const double rate = 1.2e7 * 32.0 / e.box.n_particles * comm.size() * std::max(1, threads);
  const double hours = moves / rate / 3600.0;
  if (hours > 24.0)
    spdlog::warn("system {}: {:.3g} trial moves ({} walkers × ({} + {} × {}) moves) will take roughly {:.0f} hours on "
                 "{} rank(s) × {} thread(s) at the measured rate; check systems.{}.sampler and datasets",
                 label, moves, s.sampler.walkers, s.sampler.equilibration_moves, saves, s.sampler.moves_between_saves,
                 hours, comm.size(), threads, label);
}

}  // namespace boltzmap
