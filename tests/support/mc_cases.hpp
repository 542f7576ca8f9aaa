// The systems the MC engines are compared on (tests/sampling/test_mc_engine.cpp,
// tests/gpu/test_mcmc_parity.cpp): the paper's system IA (2D LJ, r_in = 0.8, N = 32), N below and
// above a warp of partners (18, 50: lanes idle, lanes looping), and 3D (WCA, N = 54). Every one
// proposes moves into r < r_fast often enough that the double re-evaluation is exercised.
#pragma once
#include <vector>

#include "physics/box.hpp"
#include "support/configs.hpp"

namespace boltzmap::test {

struct EngineCase {
  const char* name;
  System s;
  float step;
};

inline std::vector<EngineCase> engine_cases() {
  return {{"2D LJ N=32", make_system(PotentialKind::lj, 1, 3, 0.8, 2, 32, box_length(32, 0.735, 2)), 0.175f},
          {"2D LJ N=50 T=2", make_system(PotentialKind::lj, 1, 2.5, 0.8, 2, 50, box_length(50, 0.8, 2), 0.5), 0.3f},
          {"2D WCA N=18", make_system(PotentialKind::wca, 1, 3, 0.0, 2, 18, box_length(18, 0.6, 2)), 0.5f},
          {"3D WCA N=54", make_system(PotentialKind::wca, 1, 3, 0.8, 3, 54, box_length(54, 0.6, 3)), 0.15f}};
}

}  // namespace boltzmap::test
