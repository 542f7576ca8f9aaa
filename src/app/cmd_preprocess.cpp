// boltzmap preprocess FILE [--set ...]: fits the preprocessing on the training sets of A and B
// (out/<name>/data/{A,B}_train.h5, from `boltzmap sample`), saves it (model/preprocess.h5) and
// writes every data set through it (preprocessed/{A,B}_{set}.h5, evaluation choices c = 0, g = id)
// so users can inspect the layers' output (tools/plot fig-s2). Runs on rank 0; the other ranks
// print their row of the rank table and wait.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "app/commands.hpp"
#include "app/job_input.hpp"
#include "app/stage_start.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "core/rng.hpp"
#include "io/data_sets.hpp"
#include "io/files.hpp"
#include "io/h5md.hpp"
#include "io/h5util.hpp"
#include "io/model_file.hpp"
#include "io/run_folder.hpp"
#include "io/run_lock.hpp"
#include "io/summary.hpp"
#include "physics/box.hpp"
#include "physics/experiment_physics.hpp"
#include "physics/energy.hpp"
#include "transforms/preprocessor.hpp"
#include "version.hpp"

namespace boltzmap {

namespace {

// The largest difference of sorted minimum-image pair distances between x and inverse(forward(x))
// over the first (up to) 2000 configurations: the round trip is exact up to relabelling, a
// translation and a point symmetry, so this is float round-off (≈ 1e-6).
double round_trip_error(const Preprocessor& pre, char label, const System& sys, const std::vector<float>& x,
                        const std::vector<float>& z, int rows) {
  const int N = pre.n_particles(), D = pre.dim(), k = std::min(rows, 2000);
  std::vector<float> back(static_cast<size_t>(k) * N * D);
  pre.inverse(z.data(), BatchView{back.data(), k, N, D});
  pre.out_of_preprocessing_box(label, back);  // back into the system's own box (B: the box-scaling layer)
  auto sorted = [&](const float* c) {
    std::vector<double> d;
    for (int i = 0; i < N; ++i)
      for (int j = i + 1; j < N; ++j) d.push_back(squared_distance(sys, c + i * D, c + j * D));
    std::sort(d.begin(), d.end());
    for (auto& v : d) v = std::sqrt(v);
    return d;
  };
  double worst = 0;
  for (int r = 0; r < k; ++r) {
    const auto a = sorted(x.data() + static_cast<size_t>(r) * N * D), b = sorted(back.data() + static_cast<size_t>(r) * N * D);
    for (size_t i = 0; i < a.size(); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  }
  return worst;
}

// The layers' outputs of system `label`'s set fr; B's coordinates first go through the box-scaling
// layer into the preprocessing's (A's) box, so the stored layers are all in that box.
double write_preprocessed(const std::string& path, const Preprocessor& pre, char label, const System& sys, const Frames& fr,
                          const std::string& input) {
  const int rows = static_cast<int>(fr.meta.frames), N = pre.n_particles(), D = pre.dim(), m = pre.latent_dim();
  std::vector<float> x = fr.positions, z(static_cast<size_t>(rows) * m), wrapped(z.size());
  pre.into_preprocessing_box(label, x);
  std::vector<int> c(rows), g(rows);
  Preprocessor::evaluation_choices(c, g);
  pre.forward(BatchView{x.data(), rows, N, D}, c, g, z.data(), wrapped.data());
  std::vector<float> relabelled = wrapped;  // the same coordinates folded back into the box
  const float L = static_cast<float>(pre.box_length());
  for (auto& v : relabelled) v = wrap_into_box(v, L, 1.0f / L);
  {
    H5File f = H5File::create(partial_name(path));
    string_attribute(f.id, "boltzmap_input", input);
    string_attribute(f.id, "boltzmap_version", std::string(build::version) + " (" + build::git_hash + ")");
    const double Ld = pre.box_length();
    numeric_attribute<double>(f.id, "box_length", H5T_NATIVE_DOUBLE, std::span<const double>(&Ld, 1));
    const hsize_t F = rows, n1 = N - 1, dd = D, mm = m;
    write_dataset(f.id, "relabelled", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {F, n1, dd}, relabelled.data());
    write_dataset(f.id, "wrapped", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {F, n1, dd}, wrapped.data());
    write_dataset(f.id, "latent", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {F, mm}, z.data());
    if (!fr.energies.empty())
      write_dataset(f.id, "potential_energy", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {F}, fr.energies.data());
    f.close();
  }
  commit_partial(path);
  return round_trip_error(pre, label, sys, fr.positions, z, rows);
}

}  // namespace

int cmd_preprocess(const PreprocessArgs& args, const Comm& comm, const Accelerators& acc) {
  const Experiment e = load_job_input(args.input, args.sets, comm);
  const Backend backend = resolve_stage_backend(e, PipelineStage::preprocess, acc);
  const std::string run = e.output_dir;
  const RunFolder folder{run};
  const RunLock lock(run, comm, "preprocess");  // before anything is written there
  const auto t0 = std::chrono::steady_clock::now();
  if (comm.root()) {
    ensure_directory(folder.model());
    ensure_directory(folder.preprocessed());
    log_to_file(folder.log());
    spdlog::info("boltzmap {} (git {}) preprocess {} → {}", build::version, build::git_hash, args.input, run);
  }
  log_stage_start(comm, comm.root() ? "preprocessor" : kIdleRole, backend);
  if (!comm.root()) return 0;

  const int N = e.box.n_particles, D = e.box.dimension;
  const double LA = physical_system(e.system('A'), D, N).box.length, LB = physical_system(e.system('B'), D, N).box.length;
  // The preprocessing works in A's box; B's configurations enter it through the box-scaling layer
  // (x/s, s = L_B/L_A; preprocessor.hpp), as in `train`.
  Preprocessor pre(e.preprocess, N, D, LA, LB);
  std::vector<Frames> train;
  for (char label : {'A', 'B'}) train.push_back(read_data_set(e, label, "train"));
  pre.into_preprocessing_box('B', train[1].positions);

  std::vector<BatchView> views;
  for (auto& t : train) views.push_back(BatchView{t.positions.data(), static_cast<int>(t.meta.frames), N, D});
  pre.fit(views, derive_seed(e.seed, 3));
  const std::string model = folder.preprocessor();
  save_preprocessor(model, pre, e.resolved_toml);
  double offset = 0.0;
  const auto& sites = pre.relabel().site_coordinates();
  for (size_t k = 0; k < sites.size(); ++k)
    offset = std::max(offset, std::abs(minimum_image(pre.wrap_centres()[k] - sites[k], LA, 1 / LA)));
  const auto& lambda = pre.pca().eigenvalues();
  spdlog::info("fitted on {} + {} training configurations: wrap centres within {:.4f} of the sites, PCA eigenvalues "
               "{:.3g} … {:.3g}, log|det W| = {:.4f}; wrote {}",
               train[0].meta.frames, train[1].meta.frames, offset, lambda(0), lambda(lambda.size() - 1),
               pre.log_det_forward(), model);

  double worst = 0;
  for (char label : {'A', 'B'})
    for (const char* set : {"train", "validation", "evaluation"}) {
      if (!std::filesystem::exists(folder.data_set(label, set))) continue;
      const std::string out = folder.preprocessed(label, set);
      const double err = write_preprocessed(out, pre, label, physical_system(e.system(label), D, N), read_data_set(e, label, set), e.resolved_toml);
      worst = std::max(worst, err);
      spdlog::info("wrote {} (round trip: pair distances within {:.2g})", out, err);
    }
  if (worst > 1e-4)
    spdlog::warn("the preprocessing round trip changed pair distances by up to {:.3g}; expected float round-off", worst);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  merge_summary(folder.summary(),
                {{"preprocess", {{"log_det_forward", pre.log_det_forward()},
                                 {"pca_eigenvalue_max", lambda(0)},
                                 {"pca_eigenvalue_min", lambda(lambda.size() - 1)},
                                 {"wrap_centre_max_offset", offset},
                                 {"round_trip_max_distance_error", worst},
                                 {"seconds", seconds}}}});
  return 0;
}

}  // namespace boltzmap
