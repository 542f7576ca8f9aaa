// One input for the whole job. Rank 0 reads and validates the input file and broadcasts the
// resolved text; the other ranks parse that text, so every rank runs rank 0's input even when
// the file differs between nodes, and an input error is printed once (by rank 0) while every
// rank exits with its code. check_same_command_line() refuses a job whose ranks were started
// with different arguments (an MPMD launch with `--set seed=99` on one side), before any
// collective could depend on them. Tests: tests/app/bad_inputs.sh (MPI cases).
#pragma once
#include <string>
#include <vector>

#include "core/config.hpp"
#include "parallel/comm.hpp"

namespace boltzmap {

// Collective: the experiment of `path` with `overrides`, as rank 0 resolves and checks it
// (load_experiment(), then check_experiment_physics()).
Experiment load_job_input(const std::string& path, const std::vector<std::string>& overrides, const Comm& comm);

// Collective: throws Error(usage) on every rank (printed by rank 0 only) when the ranks' command
// lines (argv[1..]) differ, naming the first rank that differs and both command lines.
void check_same_command_line(int argc, char** argv, const Comm& comm);

}  // namespace boltzmap
