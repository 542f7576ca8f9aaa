// boltzmap analyze FILE: reads the evaluation sets and the mapped files of `boltzmap map`, computes
// for both directions the reference, untransformed, raw, reweighted and identity-reweighted
// observables (energy histograms, ⟨U⟩, g(r), ESS), the free-energy differences (each direction,
// coverage-corrected and not, and BAR) with bootstrap errors (src/analysis/analysis.hpp), writes
// analysis.h5 and the analyze.* keys of summary.json, prints a results table, and draws the
// figures with tools/plot when Python is present. Runs on rank 0 (threads over configurations); the
// other ranks print their row of the rank table and wait.
// Tests: tests/app/analysis_pipeline.sh.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "analysis/analysis.hpp"
#include "app/commands.hpp"
#include "app/program_files.hpp"
#include "app/job_input.hpp"
#include "app/resources.hpp"
#include "app/stage_start.hpp"
#include "core/config.hpp"
#include "core/error.hpp"
#include "core/log.hpp"
#include "io/analysis_file.hpp"
#include "io/files.hpp"
#include "io/h5md.hpp"
#include "io/run_folder.hpp"
#include "io/run_lock.hpp"
#include "io/summary.hpp"
#include "physics/experiment_physics.hpp"
#include "transforms/preprocessor.hpp"
#include "version.hpp"

namespace boltzmap {

Frames read_evaluation_set(const Experiment& e, char label);  // cmd_map.cpp

namespace {

struct MappedFile {
  Frames frames;  // mapped positions; energies = U_target(x′)
  std::vector<double> source_energy, identity_energy, log_weight_unrestricted, identity_log_weight;
  std::vector<std::uint8_t> in_domain;
};

// The mapped file must come from these evaluation configurations and this input's systems and model:
// its stored source energies must equal U_source recomputed now (same code, so to rounding), and
// its stored input must agree on every section the mapping depends on.
void check_mapped(const std::string& path, const MappedFile& m, const std::vector<double>& u_source, const Experiment& e) {
  const std::vector<std::string> tables = {"", "box", "systems", "preprocess", "flow", "training"};
  if (resolved_sections(m.frames.meta.attributes.count("boltzmap_input") ? m.frames.meta.attributes.at("boltzmap_input") : "",
                        tables) != resolved_sections(e.resolved_toml, tables))
    throw io_error(path + ": made from a different input (systems, data, model or training differ from " + e.source_file +
                   "); run `boltzmap map " + e.source_file + "` again");
  for (std::size_t i = 0; i < u_source.size(); ++i)
    if (!(std::abs(m.source_energy[i] - u_source[i]) <= 1e-9 * (1.0 + std::abs(u_source[i]))))
      throw io_error(path + ": frame " + std::to_string(i) + " was mapped from another configuration than the evaluation set's (U " +
                     std::to_string(m.source_energy[i]) + " vs " + std::to_string(u_source[i]) + "); run `boltzmap map " +
                     e.source_file + "` again");
}

MappedFile read_mapped(const std::string& run, Direction d, std::int64_t expected, const std::string& input) {
  const std::string path = RunFolder{run}.mapped(direction_name(d));
  if (!std::filesystem::exists(path)) throw io_error(path + ": missing (run `boltzmap map " + input + "` first)");
  MappedFile m;
  m.frames = read_h5md(path);
  const std::string set = std::string("mapped ") + direction_name(d);
  const auto it = m.frames.meta.attributes.find("boltzmap_set");
  if (it == m.frames.meta.attributes.end() || it->second != set)
    throw io_error(path + ": holds \"" + (it == m.frames.meta.attributes.end() ? std::string("(no @boltzmap_set)") : it->second) +
                   "\", where \"" + set + "\" belongs (files swapped or copied in?); run `boltzmap map " + input + "` again");
  if (m.frames.meta.frames != expected)
    throw io_error(path + ": holds " + std::to_string(m.frames.meta.frames) + " configurations, the evaluation set " +
                   std::to_string(expected) + " (run `boltzmap map " + input + "` again)");
  m.source_energy = read_observable(path, "source_energy");
  m.identity_energy = read_observable(path, "identity_energy");
  m.log_weight_unrestricted = read_observable(path, "log_weight_unrestricted");
  m.identity_log_weight = read_observable(path, "identity_log_weight");
  for (double f : read_observable(path, "in_domain")) m.in_domain.push_back(f != 0.0);
  return m;
}

std::vector<double> energies(const System& s, const Frames& f) {
  const std::size_t row = static_cast<std::size_t>(f.meta.particles) * f.meta.dimension, n = f.positions.size() / row;
  std::vector<double> u(n);
#pragma omp parallel for schedule(static)
  for (std::size_t i = 0; i < n; ++i) u[i] = total_energy(s, std::span<const float>(f.positions.data() + i * row, row));
  return u;
}

double value(const std::vector<double>& v) { return summarise(v).value; }
double error(const std::vector<double>& v) { return summarise(v).error; }

// A JSON number (NaN/inf become null, which JSON can hold).
nlohmann::json num(double x) { return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr); }

// The full-sample value (replicate 0) of every headline result of the learned map must be finite:
// a NaN or inf there means mismatched or diverged inputs, and is an error, not a number to write
// down. The identity map is only the baseline: with poor overlap its estimates can be undefined,
// which is said (and written as null), not an error. (Single bootstrap replicates may be
// undefined; they are left out of the errors, with a warning.)
void refuse_non_finite(const AnalysisResult& res) {
  std::vector<std::pair<std::string, const std::vector<double>*>> checks = {{"βΔF (BAR)", &res.delta_f_bar}};
  std::vector<std::pair<std::string, const std::vector<double>*>> baseline = {{"identity-map βΔF (BAR)", &res.delta_f_bar_identity}};
  for (Direction d : {Direction::a_to_b, Direction::b_to_a}) {
    const DirectionResult& r = res.direction(d);
    const std::string n = direction_name(d);
    for (const auto& [what, v] : std::vector<std::pair<std::string, const std::vector<double>*>>{
             {"reference ⟨U⟩", &r.reference.mean_energy},
             {"raw ⟨U⟩", &r.raw.mean_energy},
             {"reweighted ⟨U⟩", &r.reweighted.mean_energy},
             {"ESS", &r.reweighted.ess},
             {"βΔF", &r.delta_f},
             {"βΔF without the coverage correction", &r.delta_f_uncorrected}})
      checks.emplace_back(n + " " + what, v);
    baseline.emplace_back(n + " identity-map reweighted ⟨U⟩", &r.identity.mean_energy);
    baseline.emplace_back(n + " identity-map βΔF", &r.delta_f_identity);
  }
  for (const auto& [what, v] : baseline)
    if (v->empty() || !std::isfinite((*v)[0]))
      spdlog::warn("analyze: the baseline's {} is undefined ({}); written as null", what,
                   v->empty() ? std::string("missing") : fmt::format("{}", (*v)[0]));
  for (const auto& [what, v] : checks)
    if (v->empty() || !std::isfinite((*v)[0]))
      throw numerical_error(fmt::format("analyze: {} of the full sample is {}; nothing written (are the mapped files and "
                                        "the model finite? `boltzmap info` shows their ranges)",
                                        what, v->empty() ? std::string("missing") : fmt::format("{}", (*v)[0])));
}

}  // namespace

std::string results_table(const nlohmann::json& an) {
  auto get = [](const nlohmann::json& j, const char* k) {
    return j.contains(k) && j[k].is_number() ? j[k].get<double>() : std::numeric_limits<double>::quiet_NaN();
  };
  auto pm = [&](const nlohmann::json& j, const char* k, const std::string& e, int digits) {
    return fmt::format("{:.{}f} ± {:.{}f}", get(j, k), digits, get(j, e.c_str()), digits);
  };
  std::string t = fmt::format("results (U per configuration, ± bootstrap errors of {} {} replicates)\n",
                              an.value("bootstrap_replicates", 0), an.value("bootstrap_scheme", std::string()));
  t += fmt::format("  {:<7} {:>18} {:>18} {:>10} {:>10} {:>18} {:>18} {:>7} {:>8} {:>8} {:>14}\n", "", "<U> reference",
                   "ref. covered part", "untransf.", "raw", "reweighted", "identity rew.", "ESS/n", "id ESS/n",
                   "outside", "target covered");
  const nlohmann::json& id = an["identity"];
  for (const char* d : {"A_to_B", "B_to_A"}) {
    const nlohmann::json& x = an[d];
    const char* other = std::string(d) == "A_to_B" ? "B_to_A" : "A_to_B";
    t += fmt::format("  {:<7} {:>18} {:>18} {:>10.3f} {:>10.3f} {:>18} {:>18} {:>7.4f} {:>8.4f} {:>8.4f} {:>14.4f}\n", d,
                     pm(x, "mean_energy_reference", "mean_energy_reference_err", 3),
                     pm(x, "mean_energy_reference_covered", "mean_energy_reference_covered_err", 3),
                     get(x, "mean_energy_untransformed"),
                     get(x, "mean_energy_raw"), pm(x, "mean_energy_reweighted", "mean_energy_reweighted_err", 3),
                     pm(id[d], "mean_energy_reweighted", "mean_energy_reweighted_err", 3), get(x, "ess_fraction"),
                     get(id[d], "ess_fraction"), get(x, "out_of_domain_fraction"), get(an[other], "coverage"));
  }
  t += "  βΔF = β_B F_B − β_A F_A          flow                identity map\n";
  t += fmt::format("    from A→B                   {:<20}{}\n", pm(an["A_to_B"], "delta_f", "delta_f_err", 4),
                   pm(id["A_to_B"], "delta_f", "delta_f_err", 4));
  t += fmt::format("    from B→A                   {:<20}{}\n", pm(an["B_to_A"], "delta_f", "delta_f_err", 4),
                   pm(id["B_to_A"], "delta_f", "delta_f_err", 4));
  t += fmt::format("    from B→A, no coverage corr. {}\n", pm(an["B_to_A"], "delta_f_uncorrected", "delta_f_uncorrected_err", 4));
  t += fmt::format("    BAR                        {:<20}{}", pm(an, "delta_f_bar", "delta_f_bar_err", 4),
                   pm(id, "delta_f_bar", "delta_f_bar_err", 4));
  return t;
}

int cmd_analyze(const AnalyzeArgs& args, const Comm& comm, const Accelerators& acc) {
  const Experiment e = load_job_input(args.input, args.sets, comm);
  const Backend backend = resolve_stage_backend(e, PipelineStage::analyze, acc);
  require_memory("the analysis (rank 0 holds both evaluation sets)", "analysis.max_configurations", analysis_bytes(e), Holders::rank_0, comm);
  const RunLock lock(e.output_dir, comm, "analyze");  // before anything is written there
  const auto t0 = std::chrono::steady_clock::now();
  const std::string run = e.output_dir;
  const RunFolder folder{run};
  if (comm.root()) {
    log_to_file(folder.log());
    spdlog::info("boltzmap {} (git {}) analyze {} → {}/analysis.h5 ({} bootstrap replicates, {})", build::version,
                 build::git_hash, args.input, run, e.analysis.bootstrap_replicates, e.analysis.bootstrap_scheme);
  }
  log_stage_start(comm, comm.root() ? "analyst" : kIdleRole, backend);
  if (!comm.root()) return 0;
  const int N = e.box.n_particles, D = e.box.dimension;
  const System sys_a = physical_system(e.system('A'), D, N), sys_b = physical_system(e.system('B'), D, N);
  const double L = sys_a.box.length, L_b = sys_b.box.length;
  const Frames eval_a = read_evaluation_set(e, 'A'), eval_b = read_evaluation_set(e, 'B');
  const std::vector<double> u_a = energies(sys_a, eval_a), u_b = energies(sys_b, eval_b);
  const MappedFile ab = read_mapped(run, Direction::a_to_b, eval_a.meta.frames, args.input);
  const MappedFile ba = read_mapped(run, Direction::b_to_a, eval_b.meta.frames, args.input);
  check_mapped(folder.mapped("A_to_B"), ab, u_a, e);
  check_mapped(folder.mapped("B_to_A"), ba, u_b, e);
  // The untransformed (identity-map) configurations in the target's box: the box-scaling layer
  // alone, x ↦ (L_target/L_source)·x (a copy only when the boxes differ).
  std::vector<float> scaled_a, scaled_b;
  if (L_b != L) {
    scaled_a = eval_a.positions;
    scale_coordinates(scaled_a, L_b / L, L_b);
    scaled_b = eval_b.positions;
    scale_coordinates(scaled_b, L / L_b, L);
  }
  auto data = [&](const Frames& src, const MappedFile& m, const Frames& ref, const std::vector<double>& u_ref) {
    const std::vector<float>& as_target = L_b == L ? src.positions : &src == &eval_a ? scaled_a : scaled_b;
    return DirectionData{as_target,            m.frames.positions,           m.frames.energies,
                         m.identity_energy,    m.log_weight_unrestricted,    m.identity_log_weight,
                         m.in_domain,          ref.positions,                u_ref};
  };
  AnalysisOptions opt;
  opt.replicates = e.analysis.bootstrap_replicates;
  opt.scheme = parse_bootstrap_scheme(e.analysis.bootstrap_scheme);
  opt.energy_bins = e.analysis.energy_bins;
  opt.rdf_bins = e.analysis.rdf_bins;
  opt.seed = e.seed;
  opt.box_length_b = L_b;
  const AnalysisResult res = analyze(data(eval_a, ab, eval_b, u_b), data(eval_b, ba, eval_a, u_a), N, D, L, opt);
  refuse_non_finite(res);
  write_analysis(folder.analysis(), res, {e.resolved_toml, e.analysis.bootstrap_scheme, N, D, L});

  // summary.json: DESIGN.md's analyze.* names, energies as totals per configuration.
  nlohmann::json an, identity;
  for (Direction d : {Direction::a_to_b, Direction::b_to_a}) {
    const DirectionResult& r = res.direction(d);
    const double cov = value(r.reweighted.inside_fraction);
    an[direction_name(d)] = {
        {"mean_energy_reference", num(value(r.reference.mean_energy))},
        {"mean_energy_reference_err", num(error(r.reference.mean_energy))},
        {"mean_energy_reference_covered", num(value(r.reference_covered.mean_energy))},
        {"mean_energy_reference_covered_err", num(error(r.reference_covered.mean_energy))},
        {"mean_energy_untransformed", num(value(r.untransformed.mean_energy))},
        {"mean_energy_raw", num(value(r.raw.mean_energy))},
        {"mean_energy_reweighted", num(value(r.reweighted.mean_energy))},
        {"mean_energy_reweighted_err", num(error(r.reweighted.mean_energy))},
        {"ess", num(value(r.reweighted.ess))},
        {"ess_fraction", num(value(r.reweighted.ess_fraction))},
        {"delta_f", num(value(r.delta_f))},
        {"delta_f_err", num(error(r.delta_f))},
        {"delta_f_uncorrected", num(value(r.delta_f_uncorrected))},
        {"delta_f_uncorrected_err", num(error(r.delta_f_uncorrected))},
        {"coverage", num(cov)},
        {"coverage_err", num(error(r.reweighted.inside_fraction))},
        {"out_of_domain_fraction", num(1.0 - cov)},
        {"out_of_domain_weight_fraction", num(value(r.reweighted.outside_weight_fraction))},
        {"ess_ratio_vs_identity", num(value(r.reweighted.ess) / value(r.identity.ess))},
        {"configurations", r.raw.mean_energy.empty() ? 0 : static_cast<std::int64_t>(d == Direction::a_to_b ? eval_a.meta.frames : eval_b.meta.frames)}};
    identity[direction_name(d)] = {{"ess", num(value(r.identity.ess))},
                                   {"ess_fraction", num(value(r.identity.ess_fraction))},
                                   {"mean_energy_reweighted", num(value(r.identity.mean_energy))},
                                   {"mean_energy_reweighted_err", num(error(r.identity.mean_energy))},
                                   {"delta_f", num(value(r.delta_f_identity))},
                                   {"delta_f_err", num(error(r.delta_f_identity))}};
  }
  an["delta_f_bar"] = num(value(res.delta_f_bar));
  an["delta_f_bar_err"] = num(error(res.delta_f_bar));
  identity["delta_f_bar"] = num(value(res.delta_f_bar_identity));
  identity["delta_f_bar_err"] = num(error(res.delta_f_bar_identity));
  an["identity"] = identity;
  an["bootstrap_replicates"] = opt.replicates;
  an["bootstrap_scheme"] = e.analysis.bootstrap_scheme;
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  an["seconds"] = seconds;
  merge_summary(folder.summary(), {{"analyze", an}});

  spdlog::info("{}", results_table(an));
  // Replicates where an estimate is undefined (e.g. no weight left in the resample) are left out of
  // its error; say so, since the error then describes fewer replicates.
  auto dropped = [&](const char* what, const std::vector<double>& v) {
    const int finite = summarise(v).finite;
    if (finite < opt.replicates)
      spdlog::warn("{}: {} of {} bootstrap replicates are undefined (NaN/inf) and left out of its error", what,
                   opt.replicates - finite, opt.replicates);
  };
  dropped("βΔF (BAR)", res.delta_f_bar);
  for (Direction d : {Direction::a_to_b, Direction::b_to_a}) {
    const std::string n = direction_name(d);
    dropped((n + " βΔF").c_str(), res.direction(d).delta_f);
    dropped((n + " reweighted ⟨U⟩").c_str(), res.direction(d).reweighted.mean_energy);
  }
  for (Direction d : {Direction::a_to_b, Direction::b_to_a}) {
    const double cov = value(res.direction(d).reweighted.inside_fraction);
    if (cov < 1.0)
      spdlog::warn("{}: {:.1f}% of {}'s mapped configurations fall outside the canonical domain and get weight zero "
                   "(coverage c_{} = {:.4f}); the reweighted observables of {} from {} describe only the share {:.4f} of "
                   "{}'s distribution that the map reaches, and the one-sided ΔF from {} is corrected by ln c_{}",
                   direction_name(d), 100.0 * (1.0 - cov), d == Direction::a_to_b ? "A" : "B",
                   d == Direction::a_to_b ? "A" : "B", cov, d == Direction::a_to_b ? "A" : "B",
                   d == Direction::a_to_b ? "B_to_A" : "A_to_B", cov, d == Direction::a_to_b ? "A" : "B",
                   d == Direction::a_to_b ? "B_to_A" : "A_to_B", d == Direction::a_to_b ? "A" : "B");
  }
  spdlog::info("wrote {} and the analyze.* keys of {} ({:.1f} s)", folder.analysis(), folder.summary(), seconds);

  if (e.analysis.plot && !args.no_plot) {
    const std::string plot = program_file("tools/plot");
    // Debian's interpreter first (a user's own python3 on PATH may lack matplotlib/h5py).
    std::string python;
    for (const char* py : {"/usr/bin/python3", "python3"})
      if (python.empty() && std::system(fmt::format("{} -c 'import matplotlib, h5py' >/dev/null 2>&1", py).c_str()) == 0)
        python = py;
    const std::string cmd = fmt::format("{} '{}' analysis '{}' --train-log '{}' --out '{}' --title '{}'", python, plot,
                                        folder.analysis(), folder.train_log(), folder.figures(), e.name);
    if (!std::filesystem::exists(plot) || python.empty())
      spdlog::warn("figures skipped: needs python3 with matplotlib and h5py (tools/install-deps) and {}", plot);
    else if (std::system(cmd.c_str()) != 0)
      spdlog::warn("tools/plot failed (command: {}); analysis.h5 is complete", cmd);
    else
      spdlog::info("figures: {} and {} (drawn by {})", folder.figure(e.name), folder.figure("training"), plot);
  }
  return 0;
}

}  // namespace boltzmap
