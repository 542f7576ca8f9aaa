// What a training checkpoint holds — the flow's parameters, Adam's state, the source pool and the
// position in the protocol — as a plain value: the Trainer gives it out (Trainer::state) and takes
// it back (Trainer::restore), the checkpoint files (src/io/model_file.hpp) write and read it, so
// io/ needs no knowledge of the Trainer. Tests: tests/flow/test_trainer.cpp (resume = uninterrupted),
// tests/app/train_resume.sh (through the files).
#pragma once
#include <cstdint>
#include <vector>

namespace boltzmap {

struct TrainingState {
  std::vector<float> parameters;       // [parameter_count], the flow's layout
  std::int64_t adam_steps = 0;         // 0: no step yet (the moments are then empty)
  std::vector<double> adam_m, adam_v;  // [parameter_count] or empty
  std::vector<float> pool;             // [pool rows][N][D], the source pool
  std::int64_t next_epoch = 0;         // epochs done
  std::int64_t global_step = 0;        // optimiser steps done
};

}  // namespace boltzmap
