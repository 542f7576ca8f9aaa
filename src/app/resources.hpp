// What a stage will need, checked before it starts: memory (refused with exit 3 when a rank's
// share cannot fit in its node's memory, saying how much it would take) and time (a warning when
// the estimate is above a day). The estimates count the large arrays a stage holds (walkers,
// saved energy series, data sets, frames in flight); they are lower bounds, good to a factor of
// about 2. Tests: tests/app/bad_inputs.sh (walkers = 2³¹ − 1).
#pragma once
#include <string>
#include <vector>

#include "core/config.hpp"
#include "parallel/comm.hpp"

namespace boltzmap {

// Bytes one rank holds while sampling system `label` with `ranks` ranks.
double sampling_bytes_per_rank(const Experiment& e, char label, int ranks);
// What rank 0 holds besides for the sampling checkpoints: every walker's configuration and energy
// (gathered) and up to checkpoint_every_saves saves of all walkers.
double sampling_checkpoint_bytes(const Experiment& e, char label);
// Bytes a trainer rank holds while training (all four data sets, the pool, the flow's work buffers).
double training_bytes(const Experiment& e);
// Bytes one rank holds while mapping or analysing (both evaluation sets and their images).
double map_bytes(const Experiment& e);       // per rank: a chunk of rows
double analysis_bytes(const Experiment& e);  // per rank: a chunk of rows and every replicate's sums

// Which ranks hold a stage's arrays: every rank (sampling, mapping, training: each its share or a
// copy) or rank 0 alone (the analysis in this version).
enum class Holders { every_rank, rank_0 };

// Collective: throws input_error on every rank (printed by rank 0) when the memory the holders on
// rank 0's host need exceeds what that host (or its cgroup limit, e.g. a SLURM allocation) gives.
// `what` says which stage and `key` which input key (and value) sets the size.
void require_memory(const std::string& what, const std::string& key, double bytes_per_rank, Holders holders,
                    const Comm& comm);

// Rank 0 warns when sampling system `label` will take more than a day at the measured rate.
void warn_if_long_sampling(const Experiment& e, char label, const Comm& comm, int threads);

// The host's memory, or less when this process's cgroup (v2 memory.max, v1 limit_in_bytes: how
// SLURM and containers cap a job) allows less. 0 if unknown.
double available_memory();

std::string human_bytes(double bytes);
std::string human_seconds(double seconds);

// What one stage of the pipeline will do and need (boltzmap check), for a job of `ranks` ranks ×
// `threads` threads, from the input and the rates measured on the project's 2-core reference
// machine (README, Performance): estimates good to a factor of 2–3 on similar cores.
struct StagePlan {
  std::string stage;    // "sample A", "train", …
  std::string work;     // what it does, in numbers
  std::string writes;   // the files it writes, relative to the run folder
  std::string where;    // which ranks do the work
  double seconds = 0;   // wall time
  double memory = 0;    // bytes on the rank that holds the most
  double disk = 0;      // bytes written
};
// Every stage `boltzmap run` runs (sample A, sample B, train, map, analyze), plus `preprocess`
// (only run by its own subcommand) last, marked as such.
std::vector<StagePlan> plan_stages(const Experiment& e, int ranks, int threads);

}  // namespace boltzmap
