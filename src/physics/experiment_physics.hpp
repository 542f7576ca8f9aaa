// The physics of a validated input (core/config.hpp): the System each of A and B simulates, and
// the checks of an input that need physics, which core/ cannot make (it knows no physics): the
// lattice fits the dimension and N, and r_c and the step size Δ are at most L/2 of each system's
// box. load_job_input() (app/job_input.cpp) runs them right after parsing; their messages read
// like the parser's ("file:line: key: what"), from the locations in Experiment::where.
// Tests: tests/core/test_config.cpp (its bad inputs go through both), tests/app/bad_inputs.sh.
#pragma once
#include <string>

#include "core/config.hpp"
#include "physics/energy.hpp"

namespace boltzmap {

// "lj" → lj, "wca" → wca (the values the parser allows).
PotentialKind potential_kind(const std::string& name);

// Potential, box, N, β of one system of the input.
System physical_system(const SystemConfig& c, int dimension, int n_particles);

// Throws Error(ExitCode::input), located, at the first check that fails, in the input's order:
// box.lattice, box.n_particles, then per system A, B: r_c (sigma for wca, else cutoff), Δ; then
// preprocess.reference_lattice.
void check_experiment_physics(const Experiment& e);

}  // namespace boltzmap
