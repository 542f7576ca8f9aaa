// The experiment input: TOML (toml++) → validated structs. Every key is checked (type, range),
// unknown keys are errors, and every message names the file, the line (or the --set
// override), the key and what is allowed. The names are DESIGN.md's "Interfaces" contract.
// core/ knows no physics: the checks that need it (lattices, r_c and Δ against L/2) are
// physics/experiment_physics.hpp's check_experiment_physics(), which app/job_input.cpp runs right
// after load_experiment(), with the locations recorded here in Experiment::where.
// Tests: tests/core/test_config.cpp; tests/app/bad_inputs.sh (exit codes and messages).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <string>
#include <vector>

namespace boltzmap {

struct SamplerConfig {
  int walkers = 25000;
  std::optional<double> step_size;  // nullopt = "auto" (tuned during equilibration)
  double target_acceptance = 0.5;
  std::int64_t equilibration_moves = 10000;
  std::int64_t moves_between_saves = 10000;
  std::int64_t checkpoint_every_saves = 1;  // saves between sampling checkpoints (a SIGKILL loses at most these)
};

struct DatasetSizes {
  std::int64_t train = 0, validation = 0, evaluation = 0;
  std::int64_t total() const { return train + validation + evaluation; }
};

struct SystemConfig {
  std::string label;  // "A" or "B"
  std::string potential = "lj";  // "lj" | "wca" (physics/experiment_physics.hpp: potential_kind())
  double epsilon = 1.0, sigma = 1.0, cutoff = 3.0, inner_cutoff = 0.0;
  double temperature = 1.0, density = 0.735;
  SamplerConfig sampler;
  DatasetSizes datasets;
};

// [preprocess]: the invertible preprocessing of METHOD.md (src/transforms/preprocessor.hpp).
struct PreprocessSettings {
  // The equivariant flow's latent space (set from [flow] kind, not a key of its own): centring,
  // symmetry and drop only, the N − 1 others as torus coordinates in [−L/2, L/2)^D about the
  // centred particle — no relabelling, wrapping or PCA (whiten and reference_lattice unused).
  bool torus = false;
  bool augment = true;                // draw a point symmetry per configuration in training
  bool whiten = true;                 // PCA with Λ^(−1/2) (false: rotation only)
  std::string centre = "random";      // training: "random" (a uniformly drawn particle) or "first" (particle 0)
  std::string reference_lattice = "centered-square";  // relabelling sites (default: box.lattice)
};

// [flow]: which flow (METHOD.md "Flow") and its shape; its input size comes from the preprocessing.
struct FlowSettings {
  std::string kind = "realnvp";  // "realnvp" (src/flow/realnvp.hpp) or "equivariant" (src/flow/equivariant_flow.hpp)
  // real-NVP
  int blocks = 8;
  std::vector<int> hidden{128, 128, 128};
  double scale_bound = 0.0;  // a > 0: S ← a·tanh(S/a)
  // equivariant flow: couplings, spline bins, Fourier frequencies, conditioner width, circular shift
  int layers = 8;
  int bins = 8;
  int frequencies = 4;
  int width = 32;
  bool shift = true;
  // Keys the input sets that the chosen kind does not use, with where they were set (for the log).
  std::vector<std::string> unused_keys;
};

// [training] (METHOD.md "Losses and training"); the defaults are the paper's protocol.
struct TrainingPhase {
  std::int64_t epochs = 0;
  double lambda_dir = 1.0, lambda_inv = 0.0;
  std::vector<std::pair<std::int64_t, double>> learning_rate;  // (first epoch of the phase, lr) steps
  double lr_at(std::int64_t epoch_in_phase) const;
};

struct TrainingSettings {
  int batch_size = 2048;
  double clamp_energy = 1e5;
  std::int64_t checkpoint_every = 50;  // epochs
  std::int64_t pool_size = 0;          // source pool of A configurations; 0 = all of A's training set
  std::int64_t pool_mc_steps = 1000;   // MC steps per drawn pool member before it is used
  std::vector<TrainingPhase> phases{{500, 1.0, 0.0, {{0, 1e-3}, {200, 1e-4}}}, {2500, 1.0, 1.0, {{0, 1e-4}}}};
  std::int64_t total_epochs() const;
};

// [analysis]: boltzmap map / analyze (src/analysis/).
struct AnalysisSettings {
  int bootstrap_replicates = 100;
  std::string bootstrap_scheme = "multinomial";  // multinomial (the paper's) | poisson (splits across ranks)
  bool bootstrap_scheme_given = false;  // set in the input or by --set (else analyze on several ranks uses poisson)
  int energy_bins = 80;
  int rdf_bins = 100;
  std::int64_t max_configurations = 0;  // per evaluation set; 0 = all
  std::int64_t chunk_configurations = 8192;  // rows map and analyze hold at a time per rank
  bool plot = true;                     // draw the figures with tools/plot when Python is present
};

// [parallel]: the role split (src/parallel/roles.hpp). Only k ≥ 0 is checked here; the split is
// checked against the number of ranks where that is known, at the start of train and run.
struct ParallelSettings {
  int sampler_ranks = 0;  // the last k ranks are sampler ranks; 0 = none
  std::string where;      // "file:line: parallel.sampler_ranks" (or "--set …"): for that check's message
};

struct BoxConfig {
  int dimension = 2;
  int n_particles = 32;
  std::string lattice = "centered-square";
};

struct Experiment {
  std::string name;
  std::string output_dir;  // default out/<name>
  std::uint64_t seed = 0;
  std::string backend = "auto";
  std::string author;  // /h5md/author/name of the files written (default: author_from_environment())
  BoxConfig box;
  SystemConfig systems[2];  // [0] = A (source), [1] = B (target)
  PreprocessSettings preprocess;
  FlowSettings flow;
  TrainingSettings training;
  AnalysisSettings analysis;
  ParallelSettings parallel;

  std::string source_file;    // the input file as given
  std::string resolved_toml;  // every key with its effective value (defaults filled in)
  // Dotted key → where its value came from ("case.toml:12", "--set key", or the file), for the
  // keys whose checks are made after parsing (physics/experiment_physics.hpp): the messages
  // then read exactly as this file's own ("case.toml:12: box.n_particles: ...").
  std::map<std::string, std::string> where;

  const SystemConfig& system(char label) const { return systems[label == 'B' ? 1 : 0]; }
};

// The author of a run whose input has no `author` key (/h5md/author/name of its files):
// $BOLTZMAP_AUTHOR, else the account's real name (passwd GECOS), else $USER, else the login name,
// else "unknown".
std::string author_from_environment();

// Loads and validates `path` with `overrides` ("key=value", dotted keys) applied on top.
// Throws Error(ExitCode::input) with a located message; Error(ExitCode::io) if unreadable.
Experiment load_experiment(const std::string& path, const std::vector<std::string>& overrides = {});

// The lines of a resolved input (Experiment::resolved_toml) that belong to the given tables
// ("" = the top-level keys other than output_dir and author; "systems" includes "systems.A.sampler", …), in
// order: what a stage's outputs depend on (stage hashes of `boltzmap run`, the resume check).
std::string resolved_sections(const std::string& resolved, const std::vector<std::string>& tables);

// The values of a resolved input by dotted key ("systems.A.epsilon" → "0.5"), as written there:
// what provenance checks compare (a key absent from an older file is simply absent).
std::map<std::string, std::string> resolved_values(const std::string& resolved);

// Same, from a string (tests); `origin` names it in messages.
Experiment parse_experiment(const std::string& text, const std::string& origin,
                            const std::vector<std::string>& overrides = {});

}  // namespace boltzmap
