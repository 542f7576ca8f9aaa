// `boltzmap import`'s checks: a Trajectory read from another code's file (io/trajectory.hpp) made
// into system `label`'s configurations of an input — N, the dimension and the box checked against
// the system (a box edge within 1e-5·L: GSD stores it in float32, text formats print it), a 2D
// system's z coordinates one plane, every coordinate finite; positions wrapped into [0, L) and
// the energies recomputed with boltzmap's potential (physics/energy.hpp). A configuration whose
// energy is not finite or with two particles closer than 0.5 σ (an overlap no Boltzmann sample
// holds: e^{−βu} < e^{−16000} for LJ) is refused. Every refusal is an io_error (exit 4, as for a
// data file made from other physics) naming the file, the frame and what the input expects.
// Tests: tests/io/test_interchange.cpp, tests/app/export_import.sh.
#pragma once
#include <string>

#include "core/config.hpp"
#include "io/h5md.hpp"
#include "io/trajectory.hpp"

namespace boltzmap {

// Relative tolerance on a box edge of an imported file.
inline constexpr double kImportBoxTolerance = 1e-5;
// Smallest pair distance of an imported configuration, in units of the system's σ.
inline constexpr double kImportMinDistance = 0.5;

// Frames (positions [frame][N][D] in [0, L), energies; walkers and mc_moves −1, no
// attributes) of system `label` of e from t, read from `path`.
Frames imported_frames(const Trajectory& t, const std::string& path, const Experiment& e, char label);

}  // namespace boltzmap
