// boltzmap analyze FILE: reads the evaluation sets and the mapped files of `boltzmap map`, computes
// for both directions the reference, untransformed, raw, reweighted and identity-reweighted
// observables (energy histograms, ⟨U⟩, g(r), ESS), the free-energy differences (each direction,
// coverage-corrected and not, and BAR) with bootstrap errors (src/analysis/analysis.hpp), writes
// analysis.h5 and the analyze.* keys of summary.json, prints a results table, and draws the
// figures with tools/plot when Python is present. Runs on every rank: each reads only its rows of
// the evaluation and mapped files, a chunk at a time (src/analysis/analysis.hpp); rank 0 writes.
// Tests: tests/app/analysis_pipeline.sh.
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <memory>

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
#include "io/data_sets.hpp"
#include "parallel/all_or_none.hpp"
#include "io/summary.hpp"
#include "physics/experiment_physics.hpp"
#include "transforms/preprocessor.hpp"
#include "version.hpp"

namespace boltzmap {

namespace {

// One system's evaluation set and its mapped file, read by rows (each rank its block, a chunk at
// a time). Opening checks the mapped file's provenance: the set it holds, the configuration count,
// and that it was made from this input's systems, data, model and training. Every chunk read with
// positions checks that its stored source energies equal U recomputed now from the evaluation
// configurations (same code, so to rounding): a mapped file made from other configurations is an
// error naming the frame.
class MappedEvaluation final : public EvaluationSource {
 public:
  MappedEvaluation(const Experiment& e, char label, const System& own, const System& target, const std::string& input)
      : e_(e), own_(own), target_(target), eval_(e, label, "evaluation"),
        path_(RunFolder{e.output_dir}.mapped(direction_name(label == 'A' ? Direction::a_to_b : Direction::b_to_a))),
        input_(input) {
    if (eval_.frames() == 0)
      throw input_error(eval_.path() + ": has no configurations (systems." + std::string(1, label) + ".datasets.evaluation = 0)");
    n_ = eval_.frames();
    if (e.analysis.max_configurations > 0) n_ = std::min<std::int64_t>(n_, e.analysis.max_configurations);
    if (!std::filesystem::exists(path_)) throw io_error(path_ + ": missing (run `boltzmap map " + input + "` first)");
    mapped_ = std::make_unique<H5mdRows>(path_);
    const auto& attrs = mapped_->meta().attributes;
    const std::string set = std::string("mapped ") + (label == 'A' ? "A_to_B" : "B_to_A");
    const auto it = attrs.find("boltzmap_set");
    if (it == attrs.end() || it->second != set)
      throw io_error(path_ + ": holds \"" + (it == attrs.end() ? std::string("(no @boltzmap_set)") : it->second) +
                     "\", where \"" + set + "\" belongs (files swapped or copied in?); run `boltzmap map " + input + "` again");
    if (mapped_->frames() != n_)
      throw io_error(path_ + ": holds " + std::to_string(mapped_->frames()) + " configurations, the evaluation set " +
                     std::to_string(n_) + " (run `boltzmap map " + input + "` again)");
    const std::vector<std::string> tables = {"", "box", "systems", "preprocess", "flow", "training"};
    const auto in = attrs.find("boltzmap_input");
    if (resolved_sections(in == attrs.end() ? "" : in->second, tables) != resolved_sections(e.resolved_toml, tables))
      throw io_error(path_ + ": made from a different input (systems, data, model or training differ from " +
                     e.source_file + "); run `boltzmap map " + e.source_file + "` again");
    for (const char* name : {"source_energy", "identity_energy", "log_weight_unrestricted", "identity_log_weight", "in_domain"})
      if (!mapped_->has_observable(name)) throw io_error(path_ + ": no /observables/" + name + " (not written by `boltzmap map`?)");
  }
  std::int64_t size() const override { return n_; }

  EvaluationRows rows(std::int64_t first, std::int64_t count, Columns columns) override {
    // The weights alone for the BAR passes (half the bytes of the scalars).
    mapped_->observable("log_weight_unrestricted", first, count, lwu_);
    mapped_->observable("identity_log_weight", first, count, identity_lw_);
    mapped_->observable("in_domain", first, count, inside_);
    in_domain_.assign(inside_.size(), 0);
    for (std::size_t j = 0; j < inside_.size(); ++j) {
      if (inside_[j] != 0.0 && inside_[j] != 1.0)
        throw io_error(path_ + ": frame " + std::to_string(first + static_cast<std::int64_t>(j)) + ": in_domain = " +
                       std::to_string(inside_[j]) + ", not 0 or 1 (a damaged file? run `boltzmap map " + e_.source_file +
                       "` again)");
      in_domain_[j] = inside_[j] == 1.0;
    }
    EvaluationRows r;
    r.log_weight_unrestricted = lwu_;
    r.identity_log_weight = identity_lw_;
    r.in_domain = in_domain_;
    if (columns == Columns::weights) return r;
    mapped_->observable("potential_energy", first, count, mapped_energy_);
    mapped_->observable("source_energy", first, count, source_energy_);
    mapped_->observable("identity_energy", first, count, identity_energy_);
    r.mapped_energy = mapped_energy_;
    r.identity_energy = identity_energy_;
    if (columns == Columns::scalars) {
      r.energy = source_energy_;
      return r;
    }
    eval_.positions(first, count, positions_);
    mapped_->positions(first, count, mapped_positions_);
    const std::size_t row = static_cast<std::size_t>(e_.box.n_particles) * e_.box.dimension;
    energy_.resize(static_cast<std::size_t>(count));
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < count; ++i)
      energy_[static_cast<std::size_t>(i)] =
          total_energy(own_, std::span<const float>(positions_.data() + static_cast<std::size_t>(i) * row, row));
    for (std::size_t i = 0; i < energy_.size(); ++i)
      if (!(std::abs(source_energy_[i] - energy_[i]) <= 1e-9 * (1.0 + std::abs(energy_[i]))))
        throw io_error(path_ + ": frame " + std::to_string(first + static_cast<std::int64_t>(i)) +
                       " was mapped from another configuration than the evaluation set's (U " +
                       std::to_string(source_energy_[i]) + " vs " + std::to_string(energy_[i]) + "); run `boltzmap map " +
                       e_.source_file + "` again");
    // The untransformed (identity-map) configurations in the target's box: the box-scaling layer
    // alone, x ↦ (L_target/L_source)·x (a copy only when the boxes differ).
    const double L_own = own_.box.length, L_target = target_.box.length;
    if (L_own != L_target) {
      scaled_ = positions_;
      scale_coordinates(scaled_, L_target / L_own, L_target);
    }
    r.positions = positions_;
    r.source_positions = L_own != L_target ? std::span<const float>(scaled_) : std::span<const float>(positions_);
    r.mapped_positions = mapped_positions_;
    r.energy = energy_;
    return r;
  }

 private:
  const Experiment& e_;
  System own_, target_;
  DataSetReader eval_;
  std::string path_, input_;
  std::unique_ptr<H5mdRows> mapped_;
  std::int64_t n_ = 0;
  std::vector<float> positions_, mapped_positions_, scaled_;
  std::vector<double> energy_, mapped_energy_, source_energy_, identity_energy_, lwu_, identity_lw_, inside_;
  std::vector<std::uint8_t> in_domain_;
};

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
  if (!an.value("coverage_by_construction", false))
    t += fmt::format("    from B→A, no coverage corr. {}\n", pm(an["B_to_A"], "delta_f_uncorrected", "delta_f_uncorrected_err", 4));
  t += fmt::format("    BAR                        {:<20}{}", pm(an, "delta_f_bar", "delta_f_bar_err", 4),
                   pm(id, "delta_f_bar", "delta_f_bar_err", 4));
  return t;
}

int cmd_analyze(const AnalyzeArgs& args, const Comm& comm, const Accelerators& acc) {
  const Experiment e = load_job_input(args.input, args.sets, comm);
  const Backend backend = resolve_stage_backend(e, PipelineStage::analyze, acc);
  require_memory("the analysis (every rank holds a chunk of rows and the sums of every replicate)",
                 "analysis.bootstrap_replicates", analysis_bytes(e), Holders::every_rank, comm);
  const RunLock lock(e.output_dir, comm, "analyze");  // before anything is written there
  const auto t0 = std::chrono::steady_clock::now();
  const std::string run = e.output_dir;
  const RunFolder folder{run};
  if (comm.root()) {
    log_to_file(folder.log());
    spdlog::info("boltzmap {} (git {}) analyze {} → {}/analysis.h5 ({} bootstrap replicates, {}; {} rank(s))",
                 build::version, build::git_hash, args.input, run, e.analysis.bootstrap_replicates,
                 e.analysis.bootstrap_scheme, comm.size());
  }
  log_stage_start(comm, "analyst", backend);
  const int N = e.box.n_particles, D = e.box.dimension;
  const System sys_a = physical_system(e.system('A'), D, N), sys_b = physical_system(e.system('B'), D, N);
  const double L = sys_a.box.length, L_b = sys_b.box.length;
  std::unique_ptr<MappedEvaluation> src_a, src_b;
  all_or_none(comm, [&] {
    src_a = std::make_unique<MappedEvaluation>(e, 'A', sys_a, sys_b, args.input);
    src_b = std::make_unique<MappedEvaluation>(e, 'B', sys_b, sys_a, args.input);
  });
  // The multinomial scheme (the default, the paper's) couples every configuration of a replicate,
  // so it needs the whole set on one process: on several ranks the default becomes the Poisson
  // scheme, said here and recorded in analysis.h5 and summary.json; asked for explicitly, it is
  // refused (analysis.cpp).
  std::string scheme = e.analysis.bootstrap_scheme;
  if (comm.size() > 1 && scheme == "multinomial" && !e.analysis.bootstrap_scheme_given) {
    scheme = "poisson";
    if (comm.root())
      spdlog::info("bootstrap: the Poisson scheme on {} ranks (the default multinomial one needs a single rank; set "
                   "analysis.bootstrap_scheme to choose)", comm.size());
  }
  AnalysisOptions opt;
  opt.replicates = e.analysis.bootstrap_replicates;
  opt.scheme = parse_bootstrap_scheme(scheme);
  opt.energy_bins = e.analysis.energy_bins;
  opt.rdf_bins = e.analysis.rdf_bins;
  opt.seed = e.seed;
  opt.box_length_b = L_b;
  opt.chunk = e.analysis.chunk_configurations;
  opt.backend = backend.kind;  // the per-chunk pair histograms and sums (analysis/set_kernels.hpp)
  const AnalysisResult res = analyze(*src_a, *src_b, N, D, L, opt, comm);
  if (res.bar_replicates_solved_exactly > 0 && comm.root())
    spdlog::info("BAR: {} bootstrap replicate(s) lay beyond the Taylor series' range and were solved directly",
                 res.bar_replicates_solved_exactly);
  const std::int64_t n_a = src_a->size(), n_b = src_b->size();
  all_or_none(comm, [&] { refuse_non_finite(res); });
  // Every rank holds the same result (the sums were reduced over all ranks); the file is small (no
  // per-configuration data), so rank 0 writes it, atomically, and every rank learns the outcome.
  all_or_none(comm, [&] {
    if (comm.root()) write_analysis(folder.analysis(), res, {e.resolved_toml, scheme, N, D, L});
  });
  if (!comm.root()) return 0;

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
        {"ess_fraction_err", num(error(r.reweighted.ess_fraction))},
        {"delta_f", num(value(r.delta_f))},
        {"delta_f_err", num(error(r.delta_f))},
        {"delta_f_uncorrected", num(value(r.delta_f_uncorrected))},
        {"delta_f_uncorrected_err", num(error(r.delta_f_uncorrected))},
        {"coverage", num(cov)},
        {"coverage_err", num(error(r.reweighted.inside_fraction))},
        {"out_of_domain_fraction", num(1.0 - cov)},
        {"out_of_domain_weight_fraction", num(value(r.reweighted.outside_weight_fraction))},
        {"ess_ratio_vs_identity", num(value(r.reweighted.ess) / value(r.identity.ess))},
        {"configurations", r.raw.mean_energy.empty() ? 0 : d == Direction::a_to_b ? n_a : n_b}};
    identity[direction_name(d)] = {{"ess", num(value(r.identity.ess))},
                                   {"ess_fraction", num(value(r.identity.ess_fraction))},
                                   {"ess_fraction_err", num(error(r.identity.ess_fraction))},
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
  // The equivariant flow maps the torus onto itself: every mapped configuration is a valid one
  // (in_domain = 1 from the map), so there is no canonical-domain test and coverage is 1 exactly.
  an["coverage_by_construction"] = e.flow.kind == "equivariant";
  an["flow_kind"] = e.flow.kind;
  an["bootstrap_replicates"] = opt.replicates;
  an["bootstrap_scheme"] = scheme;
  an["ranks"] = comm.size();
  an["bar_replicates_solved_exactly"] = res.bar_replicates_solved_exactly;
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
  if (e.flow.kind == "equivariant")
    spdlog::info("coverage 1 by construction: the equivariant flow maps the torus onto itself, so no canonical-domain "
                 "test applies and the one-sided ΔF need no coverage correction");
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
