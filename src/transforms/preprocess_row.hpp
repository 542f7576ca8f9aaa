// The preprocessing of one configuration (preprocessor.hpp's layers 1–5: centre, symmetry, drop,
// relabel, wrap) and the canonical-domain test of one latent row's y = PCA⁻¹(z), as host/device
// code (core/hd.hpp): the Preprocessor runs these per row on the CPU (threads over rows), the CUDA
// preprocessing (kernels/preprocess.cu) runs them a thread per configuration, so both give the
// same y bit for bit (nvcc --fmad=false; every step is IEEE float/double arithmetic). The PCA
// (layer 6) is a batched product, done by each side's GEMM. Nothing here allocates or throws.
// Tests: tests/transforms/test_preprocessor.cpp (through the Preprocessor, against the layers one
// by one), tests/gpu/test_preprocess_parity.cpp (the device's rows against the Preprocessor).
#pragma once
#include <cstddef>

#include "core/hd.hpp"
#include "transforms/centre.hpp"
#include "transforms/drop.hpp"
#include "transforms/relabel.hpp"
#include "transforms/symmetry.hpp"
#include "transforms/wrap.hpp"

namespace boltzmap {

// What a row needs of the fitted Preprocessor. The pointers are the host's or the device's arrays.
struct PreprocessRowParams {
  int n = 0;                       // N particles (the rows of x); y has N − 1
  int dim = 0;
  double L = 0.0;                  // the preprocessing's box (A's)
  bool relabel = true;             // false in the torus space (no relabelling, no wrap windows)
  const double* sites = nullptr;   // [(N − 1)][D] reference sites (relabel)
  const double* centres = nullptr; // [(N − 1)·D] wrap centres; null: no wrap
};

// One row's workspace: sizes from the functions below, for N particles.
struct PreprocessRowScratch {
  float* work;     // [N·D]
  float* tmp;      // [(N − 1)·D]
  double* cost;    // [(N − 1)²]
  int* site_of;    // [N − 1]
  AssignmentWork w;
};
BOLTZMAP_HD constexpr std::size_t preprocess_row_floats(int n, int dim) {
  return static_cast<std::size_t>(n) * dim + static_cast<std::size_t>(n - 1) * dim;
}
BOLTZMAP_HD constexpr std::size_t preprocess_row_doubles(int n) {
  return static_cast<std::size_t>(n - 1) * (n - 1) + assignment_work_doubles(n - 1);
}
BOLTZMAP_HD constexpr std::size_t preprocess_row_ints(int n) {
  return static_cast<std::size_t>(n - 1) + assignment_work_ints(n - 1);
}
// Carves one row's scratch out of three arrays of the sizes above.
BOLTZMAP_HD PreprocessRowScratch preprocess_row_scratch(float* f, double* d, int* i, int n, int dim) {
  const int m = n - 1;
  return {f, f + static_cast<std::size_t>(n) * dim, d, i,
          assignment_work(d + static_cast<std::size_t>(m) * m, i + m, m)};
}

// x [N][D] (not modified) → y [N − 1][D]: centre particle `centre`, apply symmetry `element`,
// drop the centre, relabel (unless p.relabel is false), wrap (if p.centres). Returns −1, or the
// relabelling's cost row that was not finite.
BOLTZMAP_HD int canonical_row(const PreprocessRowParams& p, const float* x, int centre, int element, float* y,
                              PreprocessRowScratch s) {
  const int nd = p.n * p.dim, m = (p.n - 1) * p.dim;
  const float Lf = static_cast<float>(p.L);
  for (int k = 0; k < nd; ++k) s.work[k] = x[k];
  centre_row(s.work, p.n, p.dim, centre, Lf, nullptr);
  apply_element_row(s.work, p.n, p.dim, symmetry_element(element, p.dim), Lf);
  drop_row(s.work, p.n, p.dim, centre, y);
  if (p.relabel) {
    const int bad = relabel_row(y, p.sites, p.n - 1, p.dim, p.L, s.cost, s.site_of, s.tmp, s.w, nullptr);
    if (bad >= 0) return bad;
  }
  if (p.centres) wrap_row(y, m, p.centres, p.L);
  return -1;
}

// The canonical-domain test (Preprocessor::in_domain) of one y = PCA⁻¹(z) [(N − 1)·D] (not
// modified): 1 when every coordinate lies in its wrap window [c − L/2, c + L/2) and the
// configuration relabels onto itself; 0 otherwise (a non-finite coordinate fails the window test,
// so the solver never sees one). Always 1 in the torus space. Needs p.centres (fitted).
BOLTZMAP_HD unsigned char in_domain_row(const PreprocessRowParams& p, const float* y, PreprocessRowScratch s) {
  if (!p.relabel) return 1;
  const int m = (p.n - 1) * p.dim;
  const double half = 0.5 * p.L;
  bool ok = true;
  for (int j = 0; j < m; ++j) {
    const double u = static_cast<double>(y[j]) - p.centres[j];
    ok &= u >= -half && u < half;
  }
  if (!ok) return 0;
  for (int k = 0; k < m; ++k) s.work[k] = y[k];
  bool same = false;
  if (relabel_row(s.work, p.sites, p.n - 1, p.dim, p.L, s.cost, s.site_of, s.tmp, s.w, &same) >= 0) return 0;
  return same ? 1 : 0;
}

// y [N − 1][D] = PCA⁻¹(z) → x [N][D] in [0, L): wrap into the box, particle 0 at the centre.
// y is modified (wrapped).
BOLTZMAP_HD void uncanonical_row(const PreprocessRowParams& p, float* y, float* x) {
  const float Lf = static_cast<float>(p.L);
  wrap_inverse_row(y, (p.n - 1) * p.dim, Lf);
  drop_inverse_row(y, p.n - 1, p.dim, static_cast<float>(0.5 * p.L), x);
}

// The box-scaling layer (preprocessor.hpp) on one coordinate: factor·v wrapped into [0, L_new)
// (in double; a float that rounds up to L_new is 0).
BOLTZMAP_HD float scale_coordinate(float v, double factor, double L_new) {
  float y = static_cast<float>(wrap_into_box(static_cast<double>(v) * factor, L_new, 1.0 / L_new));
  if (!(y < static_cast<float>(L_new))) y = 0.0f;  // the float rounding of a value just below L_new
  return y;
}

}  // namespace boltzmap
