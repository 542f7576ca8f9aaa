// boltzmap map FILE: applies the trained flow (model/flow.h5) to the evaluation sets — F to A's
// (A→B), F⁻¹ to B's (B→A) — and writes mapped/{A_to_B,B_to_A}.h5: H5MD files of the mapped
// configurations with their energies, log-Jacobians, log-weights (Eqs. 10, 11; −∞ outside the
// canonical domain), the domain flag and the identity map's energies and weights (layout in
// README, "Output files"). Data-parallel: each rank maps a block of configurations and writes its
// hyperslab collectively; it reads its rows of the evaluation set a chunk at a time (memory per rank
// does not grow with the sample). On CUDA (backend, real-NVP only) each rank maps its chunks on its
// GPU (analysis/mapping_cuda.hpp). Tests: tests/app/analysis_pipeline.sh, tests/gpu/test_mapping_parity.cpp.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "analysis/mapping.hpp"
#ifdef BOLTZMAP_HAVE_CUDA
#include "analysis/mapping_cuda.hpp"
#endif
#include "app/commands.hpp"
#include "app/job_input.hpp"
#include "app/resources.hpp"
#include "app/stage_start.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/progress.hpp"
#include "io/data_sets.hpp"
#include "io/files.hpp"
#include "io/h5md.hpp"
#include "io/model_file.hpp"
#include "io/run_folder.hpp"
#include "io/summary.hpp"
#include "parallel/all_or_none.hpp"
#include "io/run_lock.hpp"
#include "physics/experiment_physics.hpp"
#include "version.hpp"

namespace boltzmap {

namespace {

const std::vector<std::string> kObservables = {"source_energy",  "log_jacobian",          "log_weight",
                                               "log_weight_unrestricted", "in_domain", "identity_energy",
                                               "identity_log_weight"};

}  // namespace

int cmd_map(const MapArgs& args, const Comm& comm, const Accelerators& acc) {
  const Experiment e = load_job_input(args.input, args.sets, comm);
  const Backend backend = resolve_stage_backend(e, PipelineStage::map, acc);
  require_memory("mapping (every rank maps its rows, a chunk at a time)", "the model and the chunk", map_bytes(e), Holders::every_rank, comm);
  const std::string run = e.output_dir;
  const RunFolder folder{run};
  const std::string model_path = folder.model_flow();
  const RunLock lock(run, comm, "map");  // before anything is written there
  if (comm.root()) {
    ensure_directory(folder.mapped());
    log_to_file(folder.log());
    spdlog::info("boltzmap {} (git {}) map {} → {}/mapped ({} rank(s))", build::version, build::git_hash, args.input, run,
                 comm.size());
  }
  log_stage_start(comm, "mapper", backend);
  // Every rank reads the model and the evaluation sets and checks them alike; a bad file is
  // reported once, by the first rank (all_or_none).
  std::optional<Model> loaded;
  all_or_none(comm, [&] {
    if (!std::filesystem::exists(model_path))
      throw io_error(model_path + ": missing (run `boltzmap train " + args.input + "` first)");
    loaded.emplace(load_flow(model_path));
    const auto& params = loaded->flow->parameters();
    const auto bad = std::find_if(params.begin(), params.end(), [](float v) { return !std::isfinite(v); });
    if (bad != params.end())
      throw numerical_error(fmt::format("{}: flow parameter {} of {} is {}: a diverged model; retrain (`boltzmap train {}`)",
                                        model_path, bad - params.begin(), params.size(), *bad, args.input));
    // The model must describe the same physics (a map between other systems gives wrong
    // weights); another network or protocol is the user's choice, so only say so (below).
    check_same_physics(model_path, read_root_attribute(model_path, "boltzmap_input"), e, "AB", "trained");
  });
  const Model& model = *loaded;
  const std::string model_input = read_root_attribute(model_path, "boltzmap_input");
  const std::vector<std::string> model_tables = {"", "box", "systems", "preprocess", "flow", "training"};
  if (comm.root() && resolved_sections(model_input, model_tables) != resolved_sections(e.resolved_toml, model_tables))
    spdlog::warn("{} was trained from an input that differs from {} in its data, [preprocess], [flow] or [training] "
                 "(the physics agree); mapping with it anyway (run `boltzmap train` to retrain)",
                 model_path, args.input);
  const int N = e.box.n_particles, D = e.box.dimension;
  if (model.pre.n_particles() != N || model.pre.dim() != D)
    throw input_error(model_path + ": trained for another N or dimension than " + args.input);
  const System sys[2] = {physical_system(e.system('A'), D, N), physical_system(e.system('B'), D, N)};
  // Both boxes, A's (the preprocessing's) and B's (the box-scaling layer's other end).
  for (char label : {'A', 'B'}) {
    const double L = sys[label == 'A' ? 0 : 1].box.length, L_model = model.pre.box_length(label);
    if (std::abs(L - L_model) > 1e-9 * L)
      throw input_error(fmt::format("{}: system {}'s box side L = {:.9g} differs from the model's {:.9g} (density changed "
                                    "since training?); retrain, or restore the input",
                                    args.input, label, L, L_model));
  }
#ifdef BOLTZMAP_HAVE_CUDA
  // On CUDA: the preprocessing and flow copied to this rank's GPU once, for both directions. The
  // model file decides the flow (the input's flow.kind may differ, warned above).
  std::unique_ptr<CudaMapper> gpu;
  if (backend.kind == BackendKind::cuda) {
    if (std::string(model.flow->kind()) != "realnvp" && backend.requested != "cuda") {
      if (comm.root())
        spdlog::info("backend auto: the map stage runs on the CPU ({}'s flow.kind = \"{}\" has no CUDA implementation)",
                     model_path, model.flow->kind());
    } else {
      all_or_none(comm, [&] { gpu = std::make_unique<CudaMapper>(model.pre, *model.flow, sys[0], sys[1]); });
      if (comm.root()) spdlog::info("map on the GPU: {}", gpu->description());
    }
  }
#endif
  nlohmann::json summary;
  for (Direction dir : {Direction::a_to_b, Direction::b_to_a}) {
    const bool ab = dir == Direction::a_to_b;
    const char label = ab ? 'A' : 'B';
    const std::size_t row = static_cast<std::size_t>(N) * D;
    std::unique_ptr<DataSetReader> src;
    all_or_none(comm, [&] {
      src = std::make_unique<DataSetReader>(e, label, "evaluation");
      if (src->frames() == 0)
        throw input_error(src->path() + ": has no configurations (systems." + std::string(1, label) + ".datasets.evaluation = 0)");
    });
    std::int64_t n = src->frames();
    if (e.analysis.max_configurations > 0) n = std::min<std::int64_t>(n, e.analysis.max_configurations);
    const Range mine = block_of(n, comm.rank(), comm.size());
    const auto t0 = std::chrono::steady_clock::now();
    Progress progress(std::string("map ") + direction_name(dir), static_cast<double>(n), "configurations",
                      args.progress && comm.root(), 10.0);

    FrameMeta meta;
    meta.frames = n;
    meta.particles = N;
    meta.dimension = D;
    meta.box_length = model.pre.box_length(ab ? 'B' : 'A');  // the target's box
    meta.author = e.author;
    meta.attributes = {{"boltzmap_input", e.resolved_toml},
                       {"boltzmap_version", std::string(build::version) + " (" + build::git_hash + ")"},
                       {"boltzmap_system", ab ? "B" : "A"},
                       {"boltzmap_set", std::string("mapped ") + direction_name(dir)}};
    meta.observables = kObservables;
    for (const char* energy : {"source_energy", "identity_energy"}) meta.observable_units[energy] = kEnergyUnit;
    const std::string path = folder.mapped(direction_name(dir));
    // Created once the first round has been read and mapped on every rank: a bad file found there
    // ends the job before any output file is touched.
    std::optional<H5mdWriter> w;
    // Chunks of rows: every rank makes the same number of (collective) writes, with nothing to
    // write once its rows are done.
    const std::int64_t chunk = e.analysis.chunk_configurations;
    // (The blocks differ by one row at most, and not always in rank 0's favour: the largest decides.)
    const std::int64_t rounds = (comm.max(mine.count()) + chunk - 1) / chunk;
    const bool has_walkers = src->rows().has_observable("walker"), has_moves = src->rows().has_observable("mc_moves");
    std::vector<float> x;
    std::vector<double> walker_d, moves_d;
    double outside = 0;
    std::int64_t done = 0;
    for (std::int64_t round = 0; round < rounds; ++round) {
      const std::int64_t first = std::min(mine.end, mine.begin + round * chunk), k = std::min(chunk, mine.end - first);
      MappedSet m;
      std::vector<std::int32_t> walker(static_cast<std::size_t>(k), -1);
      std::vector<std::int64_t> moves(static_cast<std::size_t>(k), -1);
      all_or_none(comm, [&] {
        if (k == 0) return;
        src->positions(first, k, x);
        // Frame i is source frame i: the same step, walker and move count (-1 where the source has none).
        if (has_walkers) {
          src->rows().observable("walker", first, k, walker_d);
          for (std::int64_t i = 0; i < k; ++i) walker[static_cast<std::size_t>(i)] = static_cast<std::int32_t>(walker_d[static_cast<std::size_t>(i)]);
        }
        if (has_moves) {
          src->rows().observable("mc_moves", first, k, moves_d);
          for (std::int64_t i = 0; i < k; ++i) moves[static_cast<std::size_t>(i)] = static_cast<std::int64_t>(moves_d[static_cast<std::size_t>(i)]);
        }
        const auto report = [&](std::size_t j) {
          progress.update(static_cast<double>(done + static_cast<std::int64_t>(j)) * comm.size());
        };
#ifdef BOLTZMAP_HAVE_CUDA
        if (gpu)
          m = gpu->map(dir, x, report);
        else
#endif
          m = map_configurations(model.pre, *model.flow, sys[ab ? 0 : 1], sys[ab ? 1 : 0], dir, x, report);
        // A finite configuration mapped by a finite flow has a finite log-Jacobian and mapped
        // coordinates; its log-weight may be −∞ (weight zero) but never NaN.
        for (std::size_t i = 0; i < m.log_jacobian.size(); ++i) {
          const bool finite_positions = std::all_of(m.positions.begin() + i * row, m.positions.begin() + (i + 1) * row,
                                                    [](float v) { return std::isfinite(v); });
          if (!std::isfinite(m.log_jacobian[i]) || std::isnan(m.log_weight_unrestricted[i]) || !finite_positions)
            throw numerical_error(fmt::format("map {}: configuration {} of {}'s evaluation set maps to {} (log-Jacobian {}, "
                                              "log-weight {}); the model {} is not usable on it",
                                              direction_name(dir), first + static_cast<std::int64_t>(i), label,
                                              finite_positions ? "finite coordinates" : "non-finite coordinates",
                                              m.log_jacobian[i], m.log_weight_unrestricted[i], model_path));
        }
      });
      if (!w) w.emplace(path, meta, comm);
      w->write(first, k, m.positions, m.mapped_energy, walker, moves);
      const std::vector<double> inside(m.in_domain.begin(), m.in_domain.end());
      const std::vector<const std::vector<double>*> cols = {&m.source_energy, &m.log_jacobian, &m.log_weight,
                                                            &m.log_weight_unrestricted, &inside, &m.identity_energy,
                                                            &m.identity_log_weight};
      for (std::size_t c = 0; c < cols.size(); ++c) w->write_observable(kObservables[c], first, k, *cols[c]);
      for (auto f : m.in_domain) outside += f ? 0.0 : 1.0;
      done += k;
    }
    progress.finish();
    // Every frame written exactly once before the file goes into place (a hole would read as zeros).
    const std::int64_t written = comm.sum(done);
    all_or_none(comm, [&] {
      if (written != n)
        throw Error(ExitCode::failure, fmt::format("map {}: {} of {} configurations were written (a bug); {} not renamed into place",
                                                   direction_name(dir), written, n, path));
    });
    w->close();

    outside = comm.sum(outside);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (comm.root()) {
      if (model.pre.settings().torus)
        spdlog::info("{}: {} configurations mapped in {:.1f} s ({:.0f}/s); the equivariant flow: coverage 1 by construction, "
                     "no canonical-domain test → {}",
                     direction_name(dir), n, seconds, static_cast<double>(n) / seconds, path);
      else
        spdlog::info("{}: {} configurations mapped in {:.1f} s ({:.0f}/s); {:.2f}% outside the canonical domain → {}",
                     direction_name(dir), n, seconds, static_cast<double>(n) / seconds, 100.0 * outside / static_cast<double>(n), path);
      summary[direction_name(dir)] = {{"configurations", n},
                                      {"seconds", seconds},
                                      {"configurations_per_second", static_cast<double>(n) / seconds},
                                      {"out_of_domain_fraction", outside / static_cast<double>(n)}};
    }
  }
  if (comm.root()) merge_summary(folder.summary(), {{"map", summary}});
  return 0;
}

}  // namespace boltzmap
