// Initial lattices scaled to the box. "centered-square" (2D): n×n cells of side a = L/n with
// particles at (i, j)·a and (i + ½, j + ½)·a, N = 2n² (the paper's code). "bcc" (3D): its
// analogue, N = 2n³. Layout [particle][dim]. Tests: tests/physics/test_lattice.cpp.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace boltzmap {

// Cells per side n if N fits the lattice in this dimension, nothing otherwise.
std::optional<int> lattice_cells(const std::string& lattice, int dimension, int n_particles);

// Names the lattices valid in a dimension, for error messages.
std::string lattices_for_dimension(int dimension);

std::vector<float> make_lattice(const std::string& lattice, int dimension, int n_particles, double box_length);

}  // namespace boltzmap
