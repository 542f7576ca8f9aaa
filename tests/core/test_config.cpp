// Input validation (src/core/config.cpp, and src/physics/experiment_physics.cpp for the checks
// that need physics): valid inputs parse to the right values and defaults,
// the shipped inputs carry the paper's settings, --set overrides work, the resolved input
// round-trips, and every bad input is an Error(ExitCode::input) whose message names the file,
// the line (or the --set override), the dotted key and what is allowed.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "physics/box.hpp"
#include "physics/experiment_physics.hpp"

using namespace boltzmap;

namespace {

#define EXPECT_CONTAINS(haystack, needle)                                                                  \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)                                        \
      << "expected \"" << (needle) << "\" in the message:\n  " << (haystack)
#define EXPECT_NOT_CONTAINS(haystack, needle)                                                              \
  EXPECT_EQ(std::string(haystack).find(needle), std::string::npos)                                        \
      << "did not expect \"" << (needle) << "\" in the message:\n  " << (haystack)

const std::string kOrigin = "case.toml";

// A valid input exercising both potentials; A and B lines differ so each line is unique.
const std::string kBase = R"(name = "t"
seed = 5

[box]
n_particles = 32

[systems.A]
potential = "lj"
epsilon = 1.0
temperature = 1.0
density = 0.735

[systems.A.sampler]
walkers = 100
step_size = 0.175

[systems.A.datasets]
train = 10
validation = 5
evaluation = 20

[systems.B]
potential = "wca"
epsilon = 0.5
temperature = 2.0
density = 0.6

[systems.B.sampler]
walkers = 64
step_size = "auto"

[systems.B.datasets]
train = 3
validation = 0
evaluation = 7
)";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::string::size_type start = 0;
  while (start < text.size()) {
    const auto nl = text.find('\n', start);
    out.push_back(text.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
    if (nl == std::string::npos) break;
    start = nl + 1;
  }
  return out;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// 1-based line number of the first line equal to `line` (fails the test if absent).
int line_number(const std::string& text, const std::string& line) {
  const auto ls = lines_of(text);
  for (size_t i = 0; i < ls.size(); ++i)
    if (ls[i] == line) return static_cast<int>(i) + 1;
  ADD_FAILURE() << "line \"" << line << "\" not in the input";
  return -1;
}

// An edit of kBase: the line `anchor` is replaced by `replacement` (empty replacement and
// erase = true deletes it), or `replacement` is inserted after `anchor` (insert = true).
struct Edit {
  std::string text;
  int line;  // the edited / inserted line's number
};
Edit replace(const std::string& anchor, const std::string& replacement, const std::string& base = kBase) {
  auto ls = lines_of(base);
  const int n = line_number(base, anchor);
  ls.at(n - 1) = replacement;
  return {join_lines(ls), n};
}
Edit insert_after(const std::string& anchor, const std::string& line, const std::string& base = kBase) {
  auto ls = lines_of(base);
  const int n = line_number(base, anchor);
  ls.insert(ls.begin() + n, line);
  return {join_lines(ls), n + 1};
}
// A key inserted in a new table after the anchor: the table header, then the key (whose line the
// message must name).
Edit insert_table_after(const std::string& anchor, const std::string& table, const std::string& key_line) {
  Edit e = insert_after(anchor, table + "\n" + key_line);
  e.line += 1;
  return e;
}
Edit erase(const std::string& anchor, const std::string& base = kBase) {
  auto ls = lines_of(base);
  const int n = line_number(base, anchor);
  ls.erase(ls.begin() + (n - 1));
  return {join_lines(ls), n};
}

// Parses and expects Error(ExitCode::input); returns its message ("" if it did not throw that).
// The parse and the physics checks, as load_job_input() makes them.
std::string input_error_of(const std::string& text, const std::vector<std::string>& sets = {}) {
  try {
    check_experiment_physics(parse_experiment(text, kOrigin, sets));
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::input) << "wrong exit code for: " << e.what();
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "expected boltzmap::Error, got another exception: " << e.what();
    return "";
  }
  ADD_FAILURE() << "expected an input error, but this input parsed:\n" << text;
  return "";
}

// The text must be refused as bad input (exit 3) with a message naming the origin, the key and a hint.
void expect_located_error(const std::string& text, const std::string& key, const std::string& hint) {
  const std::string msg = input_error_of(text);
  EXPECT_FALSE(msg.empty()) << "accepted:\n" << text;
  EXPECT_NE(msg.find(key), std::string::npos) << msg;
  EXPECT_NE(msg.find(hint), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::string(kOrigin) + ":"), std::string::npos) << msg;
}

std::string at(int line) { return kOrigin + ":" + std::to_string(line) + ":"; }

// Field-by-field equality (doubles exactly: the resolved input must round-trip bitwise).
void expect_same(const Experiment& a, const Experiment& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.output_dir, b.output_dir);
  EXPECT_EQ(a.seed, b.seed);
  EXPECT_EQ(a.backend, b.backend);
  EXPECT_EQ(a.box.dimension, b.box.dimension);
  EXPECT_EQ(a.box.n_particles, b.box.n_particles);
  EXPECT_EQ(a.box.lattice, b.box.lattice);
  for (int i = 0; i < 2; ++i) {
    SCOPED_TRACE("system " + a.systems[i].label);
    const SystemConfig &x = a.systems[i], &y = b.systems[i];
    EXPECT_EQ(x.label, y.label);
    EXPECT_EQ(x.potential, y.potential);
    EXPECT_EQ(x.epsilon, y.epsilon);
    EXPECT_EQ(x.sigma, y.sigma);
    EXPECT_EQ(x.cutoff, y.cutoff);
    EXPECT_EQ(x.inner_cutoff, y.inner_cutoff);
    EXPECT_EQ(x.temperature, y.temperature);
    EXPECT_EQ(x.density, y.density);
    EXPECT_EQ(x.sampler.walkers, y.sampler.walkers);
    EXPECT_EQ(x.sampler.step_size.has_value(), y.sampler.step_size.has_value());
    if (x.sampler.step_size && y.sampler.step_size) {
      EXPECT_EQ(*x.sampler.step_size, *y.sampler.step_size);
    }
    EXPECT_EQ(x.sampler.target_acceptance, y.sampler.target_acceptance);
    EXPECT_EQ(x.sampler.equilibration_moves, y.sampler.equilibration_moves);
    EXPECT_EQ(x.sampler.moves_between_saves, y.sampler.moves_between_saves);
    EXPECT_EQ(x.datasets.train, y.datasets.train);
    EXPECT_EQ(x.datasets.validation, y.datasets.validation);
    EXPECT_EQ(x.datasets.evaluation, y.datasets.evaluation);
  }
  EXPECT_EQ(a.preprocess.augment, b.preprocess.augment);
  EXPECT_EQ(a.preprocess.whiten, b.preprocess.whiten);
  EXPECT_EQ(a.preprocess.centre, b.preprocess.centre);
  EXPECT_EQ(a.preprocess.reference_lattice, b.preprocess.reference_lattice);
  EXPECT_EQ(a.flow.blocks, b.flow.blocks);
  EXPECT_EQ(a.flow.hidden, b.flow.hidden);
  EXPECT_EQ(a.flow.scale_bound, b.flow.scale_bound);
  EXPECT_EQ(a.training.batch_size, b.training.batch_size);
  EXPECT_EQ(a.training.clamp_energy, b.training.clamp_energy);
  EXPECT_EQ(a.training.checkpoint_every, b.training.checkpoint_every);
  EXPECT_EQ(a.training.pool_size, b.training.pool_size);
  EXPECT_EQ(a.training.pool_mc_steps, b.training.pool_mc_steps);
  ASSERT_EQ(a.training.phases.size(), b.training.phases.size());
  for (std::size_t i = 0; i < a.training.phases.size(); ++i) {
    EXPECT_EQ(a.training.phases[i].epochs, b.training.phases[i].epochs);
    EXPECT_EQ(a.training.phases[i].lambda_dir, b.training.phases[i].lambda_dir);
    EXPECT_EQ(a.training.phases[i].lambda_inv, b.training.phases[i].lambda_inv);
    EXPECT_EQ(a.training.phases[i].learning_rate, b.training.phases[i].learning_rate);
  }
}

std::string inputs_dir() {
#ifdef BOLTZMAP_SOURCE_DIR
  return std::string(BOLTZMAP_SOURCE_DIR) + "/inputs";
#else
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "inputs";
#endif
}

std::string temp_dir() {
  const char* env = std::getenv("BOLTZMAP_TEST_TMP");
  std::filesystem::path p = env && *env ? env : "/tmp/boltzmap_test_tmp";
  p /= "config";
  std::filesystem::create_directories(p);
  return p.string();
}

}  // namespace

// ------------------------------------------------------------------ valid inputs

TEST(Config, ValidInputValuesAndDefaults) {
  const Experiment e = parse_experiment(kBase, kOrigin);
  EXPECT_EQ(e.name, "t");
  EXPECT_EQ(e.output_dir, "out/t");
  EXPECT_EQ(e.seed, 5u);
  EXPECT_EQ(e.backend, "auto");
  EXPECT_EQ(e.source_file, kOrigin);
  EXPECT_EQ(e.box.dimension, 2);
  EXPECT_EQ(e.box.n_particles, 32);
  EXPECT_EQ(e.box.lattice, "centered-square");

  const SystemConfig& a = e.system('A');
  EXPECT_EQ(a.label, "A");
  EXPECT_EQ(a.potential, "lj");
  EXPECT_EQ(a.epsilon, 1.0);
  EXPECT_EQ(a.sigma, 1.0);
  EXPECT_EQ(a.cutoff, 3.0);
  EXPECT_EQ(a.inner_cutoff, 0.8);  // METHOD.md's linearisation is on by default (0.8σ)
  EXPECT_EQ(a.temperature, 1.0);
  EXPECT_EQ(a.density, 0.735);
  EXPECT_EQ(a.sampler.walkers, 100);
  ASSERT_TRUE(a.sampler.step_size.has_value());
  EXPECT_EQ(*a.sampler.step_size, 0.175);
  EXPECT_EQ(a.sampler.target_acceptance, 0.5);
  EXPECT_EQ(a.sampler.equilibration_moves, 10000);
  EXPECT_EQ(a.sampler.moves_between_saves, 10000);
  EXPECT_EQ(a.datasets.train, 10);
  EXPECT_EQ(a.datasets.validation, 5);
  EXPECT_EQ(a.datasets.evaluation, 20);
  EXPECT_EQ(a.datasets.total(), 35);

  const SystemConfig& b = e.system('B');
  EXPECT_EQ(&b, &e.systems[1]);
  EXPECT_EQ(b.label, "B");
  EXPECT_EQ(b.potential, "wca");
  EXPECT_EQ(b.epsilon, 0.5);
  EXPECT_EQ(b.temperature, 2.0);
  EXPECT_EQ(b.density, 0.6);
  EXPECT_EQ(b.sampler.walkers, 64);
  EXPECT_FALSE(b.sampler.step_size.has_value()) << "step_size = \"auto\" must be nullopt";
  EXPECT_EQ(b.datasets.validation, 0);
  EXPECT_EQ(b.datasets.total(), 10);

  // physics(): β = 1/T, L = (N/ρ)^(1/d).
  const System s = physical_system(b, e.box.dimension, e.box.n_particles);
  EXPECT_EQ(s.n_particles, 32);
  EXPECT_EQ(s.box.dimension, 2);
  EXPECT_DOUBLE_EQ(s.beta, 0.5);
  EXPECT_DOUBLE_EQ(s.box.length, std::sqrt(32 / 0.6));
}

// Different densities of A and B are valid for every stage (the box-scaling layer), so the parser
// accepts them; each system has its own box, and each system's cutoff is checked against its own.
TEST(Config, SystemsOfDifferentDensitiesAreValid) {
  const Experiment e = parse_experiment(kBase, kOrigin, {"systems.A.density=0.70", "systems.B.density=0.735"});
  EXPECT_EQ(e.system('A').density, 0.70);
  EXPECT_EQ(e.system('B').density, 0.735);
  const int N = e.box.n_particles, D = e.box.dimension;
  EXPECT_DOUBLE_EQ(physical_system(e.system('A'), D, N).box.length, box_length(N, 0.70, D));
  EXPECT_DOUBLE_EQ(physical_system(e.system('B'), D, N).box.length, box_length(N, 0.735, D));
  // A density whose box is too small for the cutoff is refused for that system alone.
  EXPECT_NE(input_error_of(kBase, {"systems.B.density=50"}).find("systems.B"), std::string::npos);
}

TEST(Config, ThreeDimensionalDefaultsToBcc) {
  // N = 16 = 2·2³; L = (16/0.735)^(1/3) ≈ 2.79, so the LJ cutoff must be < 1.4.
  std::string text = replace("n_particles = 32", "n_particles = 16\ndimension = 3").text;
  text = insert_after("epsilon = 1.0", "cutoff = 1.3", text).text;
  const Experiment e = parse_experiment(text, kOrigin);
  EXPECT_EQ(e.box.dimension, 3);
  EXPECT_EQ(e.box.lattice, "bcc");
  EXPECT_EQ(e.system('A').cutoff, 1.3);
}

TEST(Config, ExplicitOptionalKeys) {
  std::string text = insert_after("epsilon = 1.0", "sigma = 1.1\ncutoff = 2.5\ninner_cutoff = 0.8").text;
  text = insert_after("step_size = 0.175", "target_acceptance = 0.3\nequilibration_moves = 0\nmoves_between_saves = 7",
                      text)
             .text;
  text = insert_after("seed = 5", "backend = \"cpu\"\noutput_dir = \"/tmp/somewhere/run\"", text).text;
  const Experiment e = parse_experiment(text, kOrigin);
  const SystemConfig& a = e.system('A');
  EXPECT_EQ(a.sigma, 1.1);
  EXPECT_EQ(a.cutoff, 2.5);
  EXPECT_EQ(a.inner_cutoff, 0.8);
  EXPECT_EQ(a.sampler.target_acceptance, 0.3);
  EXPECT_EQ(a.sampler.equilibration_moves, 0);
  EXPECT_EQ(a.sampler.moves_between_saves, 7);
  EXPECT_EQ(e.backend, "cpu");
  EXPECT_EQ(e.output_dir, "/tmp/somewhere/run");
}

// author (issue 12): /h5md/author/name of the files; the input key, else the environment; in the
// resolved input, but no stage depends on it (like output_dir).
TEST(Config, AuthorKeyAndDefault) {
  const Experiment d = parse_experiment(kBase, kOrigin);
  EXPECT_EQ(d.author, author_from_environment());
  EXPECT_FALSE(d.author.empty());
  const Experiment e = parse_experiment(insert_after("seed = 5", "author = \"Ada L.\"").text, kOrigin);
  EXPECT_EQ(e.author, "Ada L.");
  EXPECT_CONTAINS(e.resolved_toml, "\nauthor = \"Ada L.\"\n");
  EXPECT_EQ(parse_experiment(e.resolved_toml, "resolved").author, "Ada L.");
  EXPECT_NOT_CONTAINS(resolved_sections(e.resolved_toml, {""}), "author");
  EXPECT_EQ(resolved_sections(e.resolved_toml, {""}), resolved_sections(d.resolved_toml, {""}));
  try {
    parse_experiment(insert_after("seed = 5", "author = \"\"").text, kOrigin);
    ADD_FAILURE() << "an empty author was accepted";
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ExitCode::input);
    EXPECT_CONTAINS(err.what(), "author");
  }
}

TEST(Config, InnerCutoffBoundScalesWithSigma) {
  // 1.2 > 2^(1/6) ≈ 1.122 is rejected for σ = 1 (below) but fine for σ = 1.5 (bound ≈ 1.684).
  const std::string text = insert_after("epsilon = 1.0", "sigma = 1.5\ninner_cutoff = 1.2").text;
  EXPECT_EQ(parse_experiment(text, kOrigin).system('A').inner_cutoff, 1.2);
}

TEST(Config, FloatWithIntegerValueIsAnInteger) {
  const Experiment e = parse_experiment(replace("walkers = 100", "walkers = 2.5e4").text, kOrigin);
  EXPECT_EQ(e.system('A').sampler.walkers, 25000);
}

// The paper's state point and sampler protocol, shared by the four systems of both experiments.
void expect_paper_state_and_sampler(const SystemConfig& s) {
  SCOPED_TRACE(s.label);
  EXPECT_EQ(s.inner_cutoff, 0.8);
  EXPECT_EQ(s.temperature, 1.0);
  EXPECT_EQ(s.density, 0.735);
  EXPECT_EQ(s.sampler.walkers, 25000);
  EXPECT_EQ(s.sampler.equilibration_moves, 10000);
  EXPECT_EQ(s.sampler.moves_between_saves, 10000);
  EXPECT_EQ(s.datasets.train, 9000);
  EXPECT_EQ(s.datasets.validation, 1000);
  EXPECT_EQ(s.datasets.evaluation, 500000);
}

TEST(Config, ShippedExperimentI) {
  const Experiment e = load_experiment(inputs_dir() + "/experiment_I.toml");
  EXPECT_EQ(e.name, "experiment_I");
  EXPECT_EQ(e.output_dir, "out/experiment_I");
  EXPECT_EQ(e.box.dimension, 2);
  EXPECT_EQ(e.box.n_particles, 32);
  EXPECT_EQ(e.box.lattice, "centered-square");
  const SystemConfig &a = e.system('A'), &b = e.system('B');
  EXPECT_EQ(a.potential, "lj");
  EXPECT_EQ(a.epsilon, 1.0);
  ASSERT_TRUE(a.sampler.step_size);
  EXPECT_EQ(*a.sampler.step_size, 0.175);
  EXPECT_EQ(b.potential, "lj");
  EXPECT_EQ(b.epsilon, 0.5);
  ASSERT_TRUE(b.sampler.step_size);
  EXPECT_EQ(*b.sampler.step_size, 0.2);
  for (const SystemConfig* s : {&a, &b}) {
    EXPECT_EQ(s->sigma, 1.0) << s->label;
    EXPECT_EQ(s->cutoff, 3.0) << s->label;
    expect_paper_state_and_sampler(*s);
  }
}

TEST(Config, ShippedExperimentII) {
  const Experiment e = load_experiment(inputs_dir() + "/experiment_II.toml");
  EXPECT_EQ(e.name, "experiment_II");
  const SystemConfig &a = e.system('A'), &b = e.system('B');
  EXPECT_EQ(a.potential, "wca");
  EXPECT_EQ(a.epsilon, 0.5);
  ASSERT_TRUE(a.sampler.step_size);
  EXPECT_EQ(*a.sampler.step_size, 0.2);
  EXPECT_EQ(b.potential, "lj");
  EXPECT_EQ(b.epsilon, 1.0);
  EXPECT_EQ(b.cutoff, 3.0);
  ASSERT_TRUE(b.sampler.step_size);
  EXPECT_EQ(*b.sampler.step_size, 0.175);
  for (const SystemConfig* s : {&a, &b}) expect_paper_state_and_sampler(*s);
}

TEST(Config, PreprocessSection) {
  const Experiment d = parse_experiment(kBase, kOrigin);  // no [preprocess]: the defaults
  EXPECT_TRUE(d.preprocess.augment);
  EXPECT_TRUE(d.preprocess.whiten);
  EXPECT_EQ(d.preprocess.centre, "random");
  EXPECT_EQ(d.preprocess.reference_lattice, "centered-square");
  const std::string text = std::string(kBase) + "\n[preprocess]\naugment = false\nwhiten = false\ncentre = \"first\"\n";
  const Experiment e = parse_experiment(text, kOrigin);
  EXPECT_FALSE(e.preprocess.augment);
  EXPECT_FALSE(e.preprocess.whiten);
  EXPECT_EQ(e.preprocess.centre, "first");
  const Experiment r = parse_experiment(e.resolved_toml, "resolved");
  EXPECT_FALSE(r.preprocess.whiten);
  EXPECT_EQ(r.preprocess.centre, "first");
  struct Bad {
    const char* line;
    const char* key;
    const char* hint;
  };
  for (const Bad& b : {Bad{"centre = \"middle\"", "preprocess.centre", "\"random\" \"first\""},
                       Bad{"whiten = \"yes\"", "preprocess.whiten", "true or false"},
                       Bad{"reference_lattice = \"bcc\"", "preprocess.reference_lattice", "centered-square"},
                       Bad{"augmentation = true", "preprocess.augmentation", "unknown key"}}) {
    expect_located_error(std::string(kBase) + "\n[preprocess]\n" + b.line + "\n", b.key, b.hint);
  }
}

TEST(Config, AnalysisSectionAndResolvedSections) {
  const Experiment d = parse_experiment(kBase, kOrigin);  // defaults: the paper's 100 replicates
  EXPECT_EQ(d.analysis.bootstrap_replicates, 100);
  EXPECT_EQ(d.analysis.bootstrap_scheme, "multinomial");
  EXPECT_EQ(d.analysis.energy_bins, 80);
  EXPECT_EQ(d.analysis.rdf_bins, 100);
  EXPECT_EQ(d.analysis.max_configurations, 0);
  EXPECT_TRUE(d.analysis.plot);
  const Experiment e = parse_experiment(std::string(kBase) + "\n[analysis]\nbootstrap_scheme = \"poisson\"\nplot = false\n"
                                        "bootstrap_replicates = 7\nmax_configurations = 50\n", kOrigin);
  const Experiment r = parse_experiment(e.resolved_toml, "resolved");
  EXPECT_EQ(r.analysis.bootstrap_scheme, "poisson");
  EXPECT_FALSE(r.analysis.plot);
  EXPECT_EQ(r.analysis.bootstrap_replicates, 7);
  EXPECT_EQ(r.analysis.max_configurations, 50);
  // What each stage of `boltzmap run` depends on.
  const std::string an = resolved_sections(e.resolved_toml, {"analysis"});
  EXPECT_NE(an.find("bootstrap_replicates = 7"), std::string::npos) << an;
  EXPECT_EQ(an.find("[flow]"), std::string::npos) << an;
  const std::string sys_a = resolved_sections(e.resolved_toml, {"systems.A"});
  EXPECT_NE(sys_a.find("[systems.A.sampler]"), std::string::npos) << sys_a;
  EXPECT_EQ(sys_a.find("[systems.B"), std::string::npos) << sys_a;
  const std::string top = resolved_sections(e.resolved_toml, {""});
  EXPECT_NE(top.find("seed = "), std::string::npos) << top;
  EXPECT_EQ(top.find("output_dir"), std::string::npos) << top;
  EXPECT_EQ(top.find("[box]"), std::string::npos) << top;
  // A change of [analysis] leaves the training's sections alone.
  const std::vector<std::string> training = {"", "box", "systems", "preprocess", "flow", "training"};
  EXPECT_EQ(resolved_sections(d.resolved_toml, training), resolved_sections(e.resolved_toml, training));
  EXPECT_NE(resolved_sections(d.resolved_toml, {"analysis"}), an);
}

TEST(Config, ParallelSection) {
  const Experiment d = parse_experiment(kBase, kOrigin);
  EXPECT_EQ(d.parallel.sampler_ranks, 0);  // no sampler ranks: every rank trains with its own pool
  const Experiment e = parse_experiment(std::string(kBase) + "\n[parallel]\nsampler_ranks = 3\n", kOrigin);
  EXPECT_EQ(e.parallel.sampler_ranks, 3);
  // Where the value came from, for the check against the rank count at stage start.
  EXPECT_EQ(e.parallel.where.rfind(std::string(kOrigin) + ":", 0), 0u) << e.parallel.where;
  EXPECT_CONTAINS(e.parallel.where, ": parallel.sampler_ranks");
  EXPECT_EQ(parse_experiment(e.resolved_toml, "resolved").parallel.sampler_ranks, 3);
  const Experiment o = parse_experiment(kBase, kOrigin, {"parallel.sampler_ranks=2"});
  EXPECT_EQ(o.parallel.sampler_ranks, 2);
  EXPECT_EQ(o.parallel.where, "--set parallel.sampler_ranks: parallel.sampler_ranks");
  // The split changes no result: no stage's or resume's sections contain it.
  const std::vector<std::string> all = {"", "box", "systems", "preprocess", "flow", "training", "analysis"};
  EXPECT_EQ(resolved_sections(d.resolved_toml, all), resolved_sections(e.resolved_toml, all));
}

TEST(Config, FlowAndTrainingSections) {
  // Defaults: the paper's network and protocol (METHOD.md).
  const Experiment d = parse_experiment(kBase, kOrigin);
  EXPECT_EQ(d.flow.blocks, 8);
  EXPECT_EQ(d.flow.hidden, (std::vector<int>{128, 128, 128}));
  EXPECT_EQ(d.training.batch_size, 2048);
  EXPECT_EQ(d.training.clamp_energy, 1e5);
  ASSERT_EQ(d.training.phases.size(), 2u);
  EXPECT_EQ(d.training.phases[0].epochs, 500);
  EXPECT_EQ(d.training.phases[0].lambda_inv, 0.0);
  EXPECT_EQ(d.training.phases[0].lr_at(199), 1e-3);
  EXPECT_EQ(d.training.phases[0].lr_at(200), 1e-4);
  EXPECT_EQ(d.training.phases[1].epochs, 2500);
  EXPECT_EQ(d.training.total_epochs(), 3000);
  const std::string text = std::string(kBase) +
                           "\n[flow]\nblocks = 4\nhidden = [32, 16]\nscale_bound = 2.0\n"
                           "[training]\nbatch_size = 64\npool_mc_steps = 10\n"
                           "[[training.phases]]\nepochs = 3\nlambda_dir = 1.0\nlambda_inv = 0.5\n"
                           "learning_rate = [[0, 1e-3], [2, 5e-4]]\n";
  const Experiment e = parse_experiment(text, kOrigin);
  EXPECT_EQ(e.flow.blocks, 4);
  EXPECT_EQ(e.flow.hidden, (std::vector<int>{32, 16}));
  EXPECT_EQ(e.training.phases.size(), 1u);
  EXPECT_EQ(e.training.phases[0].lr_at(1), 1e-3);
  EXPECT_EQ(e.training.phases[0].lr_at(2), 5e-4);
  expect_same(e, parse_experiment(e.resolved_toml, "resolved"));
  struct Bad {
    const char* section;
    const char* key;
    const char* hint;
  };
  const std::string phase = "[[training.phases]]\nepochs = 3\nlambda_dir = 1.0\nlambda_inv = 0.0\n";
  for (const Bad& b : {Bad{"[flow]\nhidden = []\n", "flow.hidden", "non-empty"},
                       Bad{"[flow]\nblocks = 0\n", "flow.blocks", "[1, 1000]"},
                       Bad{"[flow]\nscale_bound = -1.0\n", "flow.scale_bound", "≥ 0"},
                       Bad{"[training]\nbatch_size = 0\n", "training.batch_size", "[1,"},
                       Bad{"[training]\nphases = 3\n", "training.phases", "[[training.phases]]"},
                       Bad{"[[training.phases]]\nepochs = 3\nlambda_dir = 0.0\nlambda_inv = 0.0\nlearning_rate = [[0, 1e-3]]\n",
                           "training.phases[0].lambda_dir", "not both 0"},
                       Bad{"", "training.phases[0].learning_rate", "first epoch 0"},
                       Bad{"[[training.phases]]\nepochs = 3\nlambda_dir = 1.0\nlambda_inv = 0.0\nlearning_rate = [[1, 1e-3]]\n",
                           "training.phases[0].learning_rate", "first epoch 0"},
                       Bad{"[[training.phases]]\nepochs = 3\nlambda_dir = 1.0\nlambda_inv = 0.0\nlearning_rate = [[0, 1e-3], [5, 1e-4]]\n",
                           "training.phases[0].learning_rate", "0 … 2"}}) {
    expect_located_error(std::string(kBase) + "\n" + (*b.section ? std::string(b.section) : phase), b.key, b.hint);
  }
}

TEST(Config, WcaIgnoresAnExplicitCutoff) {
  // DESIGN.md: cutoff is "ignored for wca" — even one beyond L/2; r_c stays 2^(1/6)σ.
  const std::string text = insert_after("epsilon = 0.5", "cutoff = 3.5").text;
  const Experiment e = parse_experiment(text, kOrigin);
  const System b = physical_system(e.system('B'), e.box.dimension, e.box.n_particles);
  EXPECT_DOUBLE_EQ(b.potential.cutoff, std::pow(2.0, 1.0 / 6.0));
  EXPECT_EQ(e.resolved_toml.find("cutoff = 3.5"), std::string::npos);
}

TEST(Config, ShippedDemo) {
  const Experiment e = load_experiment(inputs_dir() + "/demo.toml");
  EXPECT_EQ(e.name, "demo");
  EXPECT_EQ(e.system('A').epsilon, 1.0);
  EXPECT_EQ(e.system('B').epsilon, 0.5);
  EXPECT_TRUE(e.system('A').sampler.step_size);
  EXPECT_FALSE(e.system('B').sampler.step_size) << "demo's B uses step_size = \"auto\"";
  // Every shipped input also round-trips through its resolved form.
  for (const char* f : {"demo.toml", "experiment_I.toml", "experiment_II.toml", "experiment_I_short.toml", "experiment_II_short.toml"}) {
    SCOPED_TRACE(f);
    const Experiment x = load_experiment(inputs_dir() + "/" + f);
    expect_same(x, parse_experiment(x.resolved_toml, "resolved.toml"));
  }
}

TEST(Config, LoadMissingFileIsIoError) {
  const std::string path = temp_dir() + "/does_not_exist.toml";
  try {
    load_experiment(path);
    FAIL() << "no error for a missing file";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::io);
    EXPECT_CONTAINS(e.what(), path);
  }
}

TEST(Config, LoadFolderIsIoError) {
  const std::string path = temp_dir();
  try {
    load_experiment(path);
    FAIL() << "no error for a folder";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::io) << e.what();
    EXPECT_CONTAINS(e.what(), path);
  }
}

TEST(Config, LoadFromFileNamesTheFileInErrors) {
  const std::string path = temp_dir() + "/bad_density.toml";
  const Edit ed = replace("density = 0.735", "density = -0.735");
  std::ofstream(path) << ed.text;
  try {
    load_experiment(path);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::input);
    EXPECT_CONTAINS(e.what(), path + ":" + std::to_string(ed.line) + ":");
    EXPECT_CONTAINS(e.what(), "systems.A.density");
  }
}

// ------------------------------------------------------------------ overrides

TEST(ConfigOverride, NumbersStringsAutoAndNewKeys) {
  const Experiment e = parse_experiment(kBase, kOrigin,
                                        {"systems.A.sampler.walkers=512", "backend=cpu",
                                         "systems.A.sampler.step_size=auto", "systems.B.sampler.step_size=0.3",
                                         "systems.A.sigma=1.05", "systems.B.sampler.target_acceptance=0.4",
                                         "output_dir=/tmp/x/run", "seed=2.5e1", "name=\"quoted\""});
  EXPECT_EQ(e.system('A').sampler.walkers, 512);
  EXPECT_EQ(e.backend, "cpu");
  EXPECT_FALSE(e.system('A').sampler.step_size) << "--set step_size=auto";
  ASSERT_TRUE(e.system('B').sampler.step_size);
  EXPECT_EQ(*e.system('B').sampler.step_size, 0.3);
  EXPECT_EQ(e.system('A').sigma, 1.05);  // a key absent from the file is created
  EXPECT_EQ(e.system('B').sampler.target_acceptance, 0.4);
  EXPECT_EQ(e.output_dir, "/tmp/x/run");
  EXPECT_EQ(e.seed, 25u);
  EXPECT_EQ(e.name, "quoted");
  // Untouched keys keep their file values.
  EXPECT_EQ(e.system('B').sampler.walkers, 64);
  EXPECT_EQ(e.system('A').density, 0.735);
}

TEST(ConfigOverride, CreatesMissingTablesAndLaterWins) {
  // The file has no [box] at all: --set creates the table and key.
  const std::string text = erase("n_particles = 32", erase("[box]").text).text;
  EXPECT_NE(input_error_of(text).find("box"), std::string::npos);
  const Experiment e = parse_experiment(text, kOrigin, {"box.n_particles=50", "box.n_particles=72"});
  EXPECT_EQ(e.box.n_particles, 72);  // 2·6², L/2 ≈ 4.9 > r_c
}

TEST(ConfigOverride, NumericStringKeysStayStrings) {
  // A string key given something that reads as a number is the string as typed.
  const Experiment e = parse_experiment(kBase, kOrigin, {"name=2022", "output_dir=0.5"});
  EXPECT_EQ(e.name, "2022");
  EXPECT_EQ(e.output_dir, "0.5");
}

TEST(ConfigOverride, BadValueNamesTheOverride) {
  struct Case {
    std::string set, key, hint;
  };
  const std::vector<Case> cases = {
      {"systems.A.density=-1", "systems.A.density", "> 0"},
      {"systems.B.sampler.walkers=0", "systems.B.sampler.walkers", "[1, "},
      {"systems.A.sampler.walkers=2.5", "systems.A.sampler.walkers", "integer"},
      {"backend=gpu", "backend", "\"cuda\""},
      {"systems.A.sampler.step_size=fast", "systems.A.sampler.step_size", "\"auto\""},
      {"systems.A.sampler.stepsize=0.1", "systems.A.sampler.stepsize", "step_size"},  // unknown key
      {"box.dimension=4", "box.dimension", "[2, 3]"},
      {"name=a/b", "name", "letters"},
      // Checked after parsing (physics/experiment_physics.cpp), located by Experiment::where alike.
      {"box.n_particles=30", "box.n_particles", "18 or 32"},
      {"systems.A.sampler.step_size=9", "systems.A.sampler.step_size", "(0, L/2"},
      {"systems.A.cutoff=9", "systems.A.cutoff", "L/2"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.set);
    const std::string msg = input_error_of(kBase, {c.set});
    EXPECT_CONTAINS(msg, "--set " + c.key + ":");
    EXPECT_CONTAINS(msg, c.key);
    EXPECT_CONTAINS(msg, c.hint);
    EXPECT_NOT_CONTAINS(msg, kOrigin + ":");  // the file's lines are not to blame
  }
}

TEST(ConfigOverride, UnknownKeyInACreatedTableNamesTheOverride) {
  const std::string msg = input_error_of(kBase, {"box.extra.depth=1"});
  EXPECT_CONTAINS(msg, "--set box.extra.depth");
  EXPECT_CONTAINS(msg, "box.extra");
  EXPECT_CONTAINS(msg, "unknown key");
}

TEST(ConfigOverride, MalformedAssignments) {
  for (const std::string bad : {"systems.A.sampler.walkers", "=5", "systems..A=1", "box.n particles=3"}) {
    SCOPED_TRACE(bad);
    const std::string msg = input_error_of(kBase, {bad});
    EXPECT_CONTAINS(msg, "--set " + bad);
  }
  EXPECT_CONTAINS(input_error_of(kBase, {"systems.A.sampler.walkers"}), "key=value");
  const std::string msg = input_error_of(kBase, {"name.first=1"});
  EXPECT_CONTAINS(msg, "--set name.first=1");
  EXPECT_CONTAINS(msg, "'name' is not a table");
}

// ------------------------------------------------------------------ resolved input

TEST(Config, ResolvedInputRoundTrips) {
  // Awkward doubles (not shortest-decimal friendly) and a large seed must survive exactly.
  std::string text = replace("density = 0.735", "density = 0.7350000000000001").text;
  text = replace("step_size = 0.175", "step_size = 0.17500000000000002", text).text;
  text = replace("seed = 5", "seed = 9007199254740993", text).text;
  text = insert_after("epsilon = 0.5", "sigma = 0.9\ninner_cutoff = 0.1", text).text;
  const Experiment e = parse_experiment(text, kOrigin, {"systems.B.sampler.moves_between_saves=3", "backend=cpu"});
  EXPECT_EQ(e.seed, 9007199254740993ull);
  const Experiment r = parse_experiment(e.resolved_toml, "resolved.toml");
  expect_same(e, r);
  // Defaults are written out, and the resolved form of the resolved input is the same text
  // (apart from the first comment line, which names its origin).
  EXPECT_CONTAINS(e.resolved_toml, "output_dir");
  EXPECT_CONTAINS(e.resolved_toml, "target_acceptance");
  EXPECT_CONTAINS(e.resolved_toml, "step_size = \"auto\"");
  // Numbers are written in their shortest exact form, as a user would type them.
  EXPECT_CONTAINS(e.resolved_toml, "\ndensity = 0.6\n");
  EXPECT_CONTAINS(e.resolved_toml, "\ndensity = 0.7350000000000001\n");
  EXPECT_CONTAINS(e.resolved_toml, "\nsigma = 0.9\n");
  EXPECT_CONTAINS(e.resolved_toml, "\nepsilon = 1.0\n");
  auto body = [](const std::string& s) { return s.substr(s.find('\n')); };
  EXPECT_EQ(body(e.resolved_toml), body(r.resolved_toml));
}

// ------------------------------------------------------------------ bad inputs

namespace {
struct BadCase {
  std::string what;  // for the trace
  Edit edit;
  std::vector<std::string> needles;  // besides the location "case.toml:<line>:"
};
}  // namespace

TEST(ConfigBad, EachMessageNamesFileLineKeyAndWhatIsAllowed) {
  const std::vector<BadCase> cases = {
      {"unknown top-level key", insert_after("seed = 5", "nmae = \"x\""), {"nmae", "unknown key", "allowed here", "name"}},
      {"unknown nested key (typo)",
       insert_after("[systems.A.sampler]", "stepsize = 0.1"),
       {"systems.A.sampler.stepsize", "unknown key", "did you mean step_size?", "walkers"}},
      {"misspelt required key", replace("step_size = 0.175", "stepsize = 0.175"),
       {"systems.A.sampler.stepsize", "unknown key", "did you mean step_size?", "systems.A.sampler.step_size is required",
        "(0, L/2]"}},
      {"required key in the wrong case", replace("temperature = 2.0", "Temperature = 2.0"),
       {"systems.B.Temperature", "did you mean temperature?", "> 0"}},
      {"misspelt optional key", insert_after("step_size = 0.175", "equilibraton_moves = 5"),
       {"systems.A.sampler.equilibraton_moves", "unknown key", "did you mean equilibration_moves?"}},
      {"unknown system", insert_after("evaluation = 7", "[systems.C]\npotential = \"lj\""), {"systems.C", "A, B"}},
      {"misspelt analysis key", insert_table_after("evaluation = 7", "[analysis]", "bootstrap_replicate = 100"),
       {"analysis.bootstrap_replicate", "unknown key", "did you mean bootstrap_replicates?"}},
      {"unknown bootstrap scheme", insert_table_after("evaluation = 7", "[analysis]", "bootstrap_scheme = \"jackknife\""),
       {"analysis.bootstrap_scheme", "\"jackknife\"", "multinomial", "poisson"}},
      {"one bootstrap replicate", insert_table_after("evaluation = 7", "[analysis]", "bootstrap_replicates = 1"),
       {"analysis.bootstrap_replicates", "2"}},
      {"negative sampler_ranks", insert_table_after("evaluation = 7", "[parallel]", "sampler_ranks = -1"),
       {"parallel.sampler_ranks", "= -1", "[0, "}},
      {"misspelt [parallel] key", insert_table_after("evaluation = 7", "[parallel]", "sampler_rank = 1"),
       {"parallel.sampler_rank", "unknown key", "did you mean sampler_ranks?"}},
      {"wrong type (string for number)", replace("epsilon = 1.0", "epsilon = \"one\""),
       {"systems.A.epsilon", "expected a number, got a string", "> 0"}},
      {"wrong type (bool for string)", replace("potential = \"lj\"", "potential = true"),
       {"systems.A.potential", "expected a string", "\"lj\" \"wca\""}},
      {"wrong type (table for number)", replace("density = 0.6", "density = { value = 0.6 }"),
       {"systems.B.density", "expected a number, got a table"}},
      {"unknown potential", replace("potential = \"lj\"", "potential = \"morse\""),
       {"systems.A.potential", "\"morse\"", "\"lj\" \"wca\""}},
      {"negative density", replace("density = 0.735", "density = -0.735"), {"systems.A.density", "must be > 0"}},
      {"zero density", replace("density = 0.6", "density = 0"), {"systems.B.density", "must be > 0"}},
      {"zero temperature", replace("temperature = 1.0", "temperature = 0.0"), {"systems.A.temperature", "must be > 0"}},
      {"infinite temperature", replace("temperature = 2.0", "temperature = inf"),
       {"systems.B.temperature", "= inf", "finite"}},
      {"negative epsilon", replace("epsilon = 0.5", "epsilon = -0.5"), {"systems.B.epsilon", "must be > 0"}},
      {"zero sigma", insert_after("epsilon = 1.0", "sigma = 0"), {"systems.A.sigma", "must be > 0"}},
      {"cutoff > L/2", insert_after("epsilon = 1.0", "cutoff = 3.4"), {"systems.A.cutoff", "L/2", "3.4"}},
      {"auto step without tuning room", insert_after("step_size = \"auto\"", "equilibration_moves = 100"),
       {"systems.B.sampler.equilibration_moves", "= 100", "≥ 500"}},
      {"too many saves per walker", replace("evaluation = 7", "evaluation = 3000000000"),
       {"systems.B.datasets.evaluation", "saves per walker", "more walkers"}},
      {"inner_cutoff above 2^(1/6)σ", insert_after("epsilon = 1.0", "inner_cutoff = 1.2"),
       {"systems.A.inner_cutoff", "2^(1/6)σ"}},
      {"negative inner_cutoff", insert_after("epsilon = 0.5", "inner_cutoff = -0.1"),
       {"systems.B.inner_cutoff", "2^(1/6)σ", "0 (off)"}},
      {"N not 2n² for centered-square", replace("n_particles = 32", "n_particles = 30"),
       {"box.n_particles", "30", "centered-square", "2n²", "18 or 32"}},
      {"N not 2n³ for bcc", replace("n_particles = 32", "n_particles = 32\ndimension = 3"),
       {"box.n_particles", "32", "bcc", "2n³", "16 or 54"}},
      {"N below the minimum", replace("n_particles = 32", "n_particles = 1"), {"box.n_particles", "[2, "}},
      {"bcc in 2D", insert_after("n_particles = 32", "lattice = \"bcc\""), {"box.lattice", "bcc", "2D", "centered-square"}},
      {"centered-square in 3D", insert_after("n_particles = 32", "lattice = \"centered-square\"\ndimension = 3"),
       {"box.lattice", "centered-square", "3D", "\"bcc\""}},
      {"unknown lattice", insert_after("n_particles = 32", "lattice = \"fcc\""),
       {"box.lattice", "\"fcc\"", "\"centered-square\" \"bcc\""}},
      {"dimension 4", insert_after("n_particles = 32", "dimension = 4"), {"box.dimension", "[2, 3]"}},
      {"walkers 0", replace("walkers = 100", "walkers = 0"), {"systems.A.sampler.walkers", "[1, "}},
      {"walkers 2.5", replace("walkers = 64", "walkers = 2.5"),
       {"systems.B.sampler.walkers", "2.5", "expected an integer"}},
      {"walkers as a string", replace("walkers = 64", "walkers = \"64\""),
       {"systems.B.sampler.walkers", "expected an integer, got a string"}},
      {"step_size 0", replace("step_size = 0.175", "step_size = 0"), {"systems.A.sampler.step_size", "(0, L/2"}},
      {"step_size > L/2", replace("step_size = 0.175", "step_size = 3.5"),
       {"systems.A.sampler.step_size", "(0, L/2"}},
      {"step_size \"fast\"", replace("step_size = \"auto\"", "step_size = \"fast\""),
       {"systems.B.sampler.step_size", "\"fast\"", "\"auto\""}},
      {"target_acceptance 1.0", insert_after("step_size = 0.175", "target_acceptance = 1.0"),
       {"systems.A.sampler.target_acceptance", "(0, 1)"}},
      {"target_acceptance 0", insert_after("step_size = \"auto\"", "target_acceptance = 0"),
       {"systems.B.sampler.target_acceptance", "(0, 1)"}},
      {"negative equilibration", insert_after("step_size = 0.175", "equilibration_moves = -1"),
       {"systems.A.sampler.equilibration_moves", "[0, "}},
      {"zero moves between saves", insert_after("step_size = 0.175", "moves_between_saves = 0"),
       {"systems.A.sampler.moves_between_saves", "[1, "}},
      {"negative data-set size", replace("train = 10", "train = -1"), {"systems.A.datasets.train", "[0, "}},
      {"non-integer data-set size", replace("evaluation = 7", "evaluation = 7.5"),
       {"systems.B.datasets.evaluation", "expected an integer"}},
      {"name with a slash", replace("name = \"t\"", "name = \"a/b\""), {"name", "\"a/b\"", "letters, digits"}},
      {"name ..", replace("name = \"t\"", "name = \"..\""), {"name", "letters, digits"}},
      {"empty output_dir", insert_after("seed = 5", "output_dir = \"\""), {"output_dir", "must not be empty"}},
      {"negative seed", replace("seed = 5", "seed = -5"), {"seed", "[0, "}},
      {"backend gpu", insert_after("seed = 5", "backend = \"gpu\""), {"backend", "\"gpu\"", "\"auto\" \"cpu\" \"cuda\""}},
      {"[box] not a table", replace("[box]", "box = 3"), {"box", "expected a table"}},
      {"TOML syntax error", replace("epsilon = 1.0", "epsilon = = 1.0"), {"TOML syntax error"}},
      {"TOML duplicate key", insert_after("epsilon = 0.5", "epsilon = 0.7"), {"TOML syntax error"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.what);
    const std::string msg = input_error_of(c.edit.text);
    EXPECT_CONTAINS(msg, at(c.edit.line));
    for (const auto& n : c.needles) EXPECT_CONTAINS(msg, n);
  }
}

TEST(ConfigBad, MissingKeysPointAtTheirTable) {
  struct Case {
    std::string line, table_header, key;
  };
  const std::vector<Case> cases = {
      {"temperature = 1.0", "[systems.A]", "systems.A.temperature"},
      {"potential = \"wca\"", "[systems.B]", "systems.B.potential"},
      {"walkers = 64", "[systems.B.sampler]", "systems.B.sampler.walkers"},
      {"step_size = 0.175", "[systems.A.sampler]", "systems.A.sampler.step_size"},
      {"validation = 0", "[systems.B.datasets]", "systems.B.datasets.validation"},
      {"n_particles = 32", "[box]", "box.n_particles"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.key);
    const std::string text = erase(c.line).text;
    const std::string msg = input_error_of(text);
    EXPECT_CONTAINS(msg, at(line_number(text, c.table_header)));
    EXPECT_CONTAINS(msg, c.key);
    EXPECT_CONTAINS(msg, "missing");
    EXPECT_CONTAINS(msg, "required");
  }
  // A missing top-level key or section names the file and the key.
  for (const std::string line : {"name = \"t\"", "seed = 5"}) {
    const std::string msg = input_error_of(erase(line).text);
    EXPECT_CONTAINS(msg, kOrigin + ":");
    EXPECT_CONTAINS(msg, line.substr(0, line.find(' ')));
    EXPECT_CONTAINS(msg, "missing");
  }
  // A missing sub-table: drop [systems.B.datasets] and its three lines.
  std::string text = kBase.substr(0, kBase.find("[systems.B.datasets]"));
  const std::string msg = input_error_of(text);
  EXPECT_CONTAINS(msg, "systems.B.datasets");
  EXPECT_CONTAINS(msg, "missing section");
}

TEST(ConfigBad, ErrorsAreInputErrorsForEveryOrigin) {
  // The origin string is used verbatim (a path with folders).
  try {
    parse_experiment(replace("density = 0.6", "density = -1").text, "some/dir/run.toml");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::input);
    EXPECT_CONTAINS(e.what(), "some/dir/run.toml:" + std::to_string(line_number(kBase, "density = 0.6")) + ":");
  }
}
