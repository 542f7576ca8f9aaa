// The layout of a run folder (out/<name>/, or output_dir): every path boltzmap reads or writes
// there, by name, in one place. The names are DESIGN.md's contract ("Files", "Interfaces") and
// README's "The run folder": scripts and users rely on them, so extend, don't rename. Knows
// nothing of what the files hold (no trainer, no physics). Tests: tests/io/test_run_folder.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace boltzmap {

struct RunFolder {
  std::string root;  // the folder itself

  std::string input() const;    // input.toml: the resolved input
  std::string log() const;      // log.txt: rank 0's log
  std::string summary() const;  // summary.json: the numbers, merged stage by stage
  std::string stages() const;   // stages.json: `boltzmap run`'s record of the finished stages
  std::string lock() const;     // .boltzmap.lock: the one writer (io/run_lock.hpp)

  std::string data() const;                                  // data/
  std::string data_set(char system, std::string_view set) const;  // data/<A|B>_<train|validation|evaluation>.h5
  // An interrupted `sample`'s state, one folder per system, out of the way of data/*.h5:
  std::string sample_state(char system) const;                  // data/checkpoints/<A|B>/
  std::string sample_checkpoint(char system) const;             // …/checkpoint.h5: walkers, counters, saves done
  std::string sample_saves(char system, std::int64_t first) const;  // …/saves_<first, 8 digits>.h5: saves from `first` on
  std::string set_aside_sample_state(char system, std::int64_t stamp) const;  // data/checkpoints/<A|B>.other-input.<stamp>/

  std::string model() const;                // model/
  std::string preprocessor() const;         // model/preprocess.h5 (`boltzmap preprocess`)
  std::string model_flow() const;           // model/flow.h5
  std::string checkpoints() const;          // model/checkpoints/
  std::string checkpoint() const;           // model/checkpoints/checkpoint.h5: the training state
  std::string failed_checkpoint() const;    // model/checkpoints/checkpoint_failed.h5: the state a non-finite step met
  std::string set_aside_checkpoint(std::int64_t stamp) const;  // model/checkpoints/checkpoint.other-input.<stamp>.h5
  std::string train_log() const;            // train_log.csv: one row per epoch

  std::string preprocessed() const;                                  // preprocessed/
  std::string preprocessed(char system, std::string_view set) const;  // preprocessed/<A|B>_<set>.h5

  std::string mapped() const;                           // mapped/
  std::string mapped(std::string_view direction) const;  // mapped/<A_to_B|B_to_A>.h5

  std::string analysis() const;                 // analysis.h5
  std::string figures() const;                  // figures/
  std::string figure(std::string_view name) const;  // figures/<name>.png
};

}  // namespace boltzmap
