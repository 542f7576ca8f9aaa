// The subcommands of the boltzmap executable; main.cpp wires them to CLI11. Each stage gets the
// accelerators main() probed once and resolves its backend from them (app/stage_start.hpp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/backend.hpp"
#include "parallel/comm.hpp"

namespace boltzmap {

struct SampleArgs {
  std::string input;
  std::string system;  // "", "A" or "B"
  std::vector<std::string> sets;
  bool progress = true;
};
int cmd_sample(const SampleArgs& args, const Comm& comm, const Accelerators& acc);

struct PreprocessArgs {
  std::string input;
  std::vector<std::string> sets;
};
int cmd_preprocess(const PreprocessArgs& args, const Comm& comm, const Accelerators& acc);

struct TrainArgs {
  std::string input;
  std::vector<std::string> sets;  // with --sampler-ranks k as parallel.sampler_ranks=k (main)
  bool progress = true;
  bool sampler_ranks_given = false;  // --sampler-ranks on the command line (named in its errors)
};
int cmd_train(const TrainArgs& args, const Comm& comm, const Accelerators& acc);
// True after cmd_train returned because a rank got SIGTERM, SIGUSR1, SIGINT or SIGHUP (checkpoint
// saved, training not done); the same on every rank.
bool train_was_interrupted();
// After cmd_sample: whether a signal left a system unfinished (checkpointed, or not started), and
// the signal seen at all (0: none; also one that came after the last save, when all is complete).
bool sample_was_interrupted();
int sample_stop_signal();
// Whether a training checkpoint was written for the same training-relevant input as e.
struct Experiment;
bool checkpoint_fits_input(const std::string& ckpt, const Experiment& e);

struct MapArgs {
  std::string input;
  std::vector<std::string> sets;
  bool progress = true;
};
int cmd_map(const MapArgs& args, const Comm& comm, const Accelerators& acc);

struct AnalyzeArgs {
  std::string input;
  std::vector<std::string> sets;
  bool no_plot = false;
};
int cmd_analyze(const AnalyzeArgs& args, const Comm& comm, const Accelerators& acc);
// The results table printed by analyze and run, from summary.json's "analyze" object.
std::string results_table(const nlohmann::json& analyze);

struct RunArgs {
  std::string input;  // empty: inputs/demo.toml
  std::vector<std::string> sets;  // with --sampler-ranks k as parallel.sampler_ranks=k (main)
  bool progress = true;
  bool sampler_ranks_given = false;
  bool no_plot = false;
};
int cmd_run(const RunArgs& args, const Comm& comm, const Accelerators& acc);
// Each stage `run` runs (sample_A, sample_B, train, map, analyze), in order, and whether it is up to
// date in e's run folder (run would skip it). Reads the run folder: call on one rank.
struct Experiment;
std::vector<std::pair<std::string, bool>> run_stages_up_to_date(const Experiment& e);

// boltzmap check FILE: the resolved input, what each stage will do, and estimates of time, memory
// and disk for a job of `ranks` ranks (default: this job's) × `threads` threads, before anything runs.
struct CheckArgs {
  std::string input;
  std::vector<std::string> sets;
  int ranks = 0;         // 0: the ranks of this job
  bool show_input = true;  // print the resolved input
  bool sampler_ranks_given = false;
};
int cmd_check(const CheckArgs& args, const Comm& comm, const Accelerators& acc);

struct InfoArgs {
  std::string file;
  bool input = false;
};
int cmd_info(const InfoArgs& args, const Comm& comm);

struct ExportArgs {
  std::string file;    // an H5MD configuration file
  std::string output;  // the file to write
  std::string format;  // "" = from the output's suffix
  std::string frames;  // "FIRST", "FIRST:" or "FIRST:COUNT"; "" = all (lammps-data: frame 0)
  std::int64_t frame = -1;
};
int cmd_export(const ExportArgs& args, const Comm& comm);

struct ImportArgs {
  std::string input;
  std::vector<std::string> sets;  // --set overrides
  std::string file;               // the other code's file
  std::string system;             // "A" or "B"
  std::string set_name;           // train | validation | evaluation
  std::string format;             // "" = from the file's suffix
};
int cmd_import(const ImportArgs& args, const Comm& comm);

}  // namespace boltzmap
