// The subcommands of the boltzmap executable; main.cpp wires them to CLI11.
#pragma once
#include <string>
#include <vector>

#include "parallel/comm.hpp"

namespace boltzmap {

struct SampleArgs {
  std::string input;
  std::string system;  // "", "A" or "B"
  std::vector<std::string> sets;
  bool progress = true;
};
int cmd_sample(const SampleArgs& args, const Comm& comm);

struct PreprocessArgs {
  std::string input;
  std::vector<std::string> sets;
};
int cmd_preprocess(const PreprocessArgs& args, const Comm& comm);

struct TrainArgs {
  std::string input;
  std::vector<std::string> sets;
  bool progress = true;
};
int cmd_train(const TrainArgs& args, const Comm& comm);

struct InfoArgs {
  std::string file;
  bool input = false;
};
int cmd_info(const InfoArgs& args, const Comm& comm);

}  // namespace boltzmap
