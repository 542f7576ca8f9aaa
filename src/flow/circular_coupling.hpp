// Circular coupling layer of the equivariant periodic flow (METHOD.md "The equivariant periodic
// flow", issue 13), on the CPU: one Cartesian axis a of all n = N − 1 centred particles goes through
// the circular spline of src/flow/circular_spline.hpp (plus an optional learned circular shift),
// with per-particle spline parameters from a permutation-equivariant conditioner that sees only the
// other axes (the conditioning coordinates c_i ∈ [−L/2, L/2)^(D−1)) of all particles:
//   φ_i  = [cos ω_k c_iq, sin ω_k c_iq]_{q, k=1..F},  ω_k = 2πk/L            (P = 2F(D − 1) features)
//   h_i  = tanh(W_e φ_i + b_e)                                                 (embedding, width H)
//   m_i  = mean_{j≠i} tanh(U ψ_ij + V h_j + b_p),  ψ_ij = Fourier features of c_j − c_i   (pair messages)
//   g_i  = tanh(W_1 [h_i | m_i] + b_1)
//   θ_i  = W_2 g_i + b_2        (3K spline parameters; W_2 = b_2 = 0 at initialisation: the identity)
// ψ_ij is the Fourier feature of the minimum-image difference; being periodic it is computed from
// φ_i and φ_j by angle addition (cos k(c_j − c_i) = cos kc_j cos kc_i + sin kc_j sin kc_i, ...), no
// trigonometry per pair. Permutation-equivariant (per-particle maps and a symmetric mean), periodic in
// every input coordinate (Fourier features, circular spline) and the identity at initialisation.
// Twin (to come): kernels/circular_coupling.cu, circular_coupling_forward() etc.
// Tests: tests/flow/test_circular_coupling.cpp (identity, equivariance, periodicity, round trip,
// log-det against the finite-difference Jacobian, every gradient against central differences);
// tests/flow/allocations (no allocation once the cache is sized).
//
// Layouts: configurations x, y, gradients [batch][n][D] row-major (T = float for training, double
// for the finite-difference checks); log-dets [batch], summed per configuration in double.
// Parameters, one flat array [circular_coupling_layout().count]: W_e [H][P], b_e [H], U [H][P],
// V [H][H], b_p [H], W_1 [H][2H], b_1 [H], W_2 [3K][H], b_2 [3K], then the shift (if any).
// Products are Eigen GEMMs over batch·n rows (pairs: chunks of configurations, batch·n·(n − 1)
// rows) through src/flow/gemm.hpp; every buffer lives in a CircularCouplingCache, so passes that
// reuse one cache at an unchanged batch size allocate nothing. The pair activations are not stored
// but recomputed in the backward pass, so the cache is O(batch·n·H), not O(batch·n²·H). Sums in
// double: the log-det per configuration and dℓ/dU (over batch·n(n − 1) pairs, chunk by chunk).
#pragma once
#include <cstddef>
#include <cstdint>

#include <Eigen/Dense>

#include "flow/gemm.hpp"

namespace boltzmap {

struct CircularCouplingShape {
  int particles = 31;        // n = N − 1 (the centred particle dropped)
  int dim = 2;               // D ≥ 2
  int axis = 0;              // a, the transformed axis
  int bins = 8;              // K spline bins
  int frequencies = 4;       // F Fourier frequencies per conditioning axis
  int hidden = 32;           // H, width of every hidden layer
  double length = 1.0;       // L, the box side: the torus is [−L/2, L/2)^D
  bool shift = true;         // a learned circular shift of the transformed axis after the spline
  double min_bin = 1e-3;     // spline: minimum bin width and height, in units of L
  double min_derivative = 1e-3;
  int pair_rows = 16384;     // pair rows per chunk of the message stage (bounds its scratch)
};

// Offsets of each parameter block in the flat array, and the derived sizes.
struct CircularCouplingLayout {
  int cond = 0, features = 0, outputs = 0;  // D − 1, P = 2F(D − 1), 3K
  std::size_t embed_w = 0, embed_b = 0, pair_u = 0, pair_v = 0, pair_b = 0, out1_w = 0, out1_b = 0, out2_w = 0,
              out2_b = 0, shift = 0, count = 0;
};
// Throws Error on an invalid shape.
CircularCouplingLayout circular_coupling_layout(const CircularCouplingShape& s);

// Glorot-uniform W_e, U, V, W_1 from the counter RNG (stream Init, ids first_id…first_id + 3), all
// biases, W_2 and the shift zero: the layer is the identity.
template <class T>
void circular_coupling_initialise(const CircularCouplingShape& s, std::uint64_t seed, std::uint32_t first_id, T* params);

// Work buffers and what a backward pass needs from its pass. Rows r = b·n + i.
template <class T>
struct CircularCouplingCache {
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;
  int batch = -1;
  Mat cond;    // [rows][D − 1] conditioning coordinates, wrapped onto [−L/2, L/2)
  Vec in;      // [rows] the spline's input: x_a (forward), wrap(y_a − shift) (inverse), wrapped
  Vec out;     // [rows] the transformed axis of the output
  Mat phi;     // [rows][P] Fourier features (cos, sin) of cond
  Mat h;       // [rows][H] embedding
  Mat hv;      // [rows][H] V h + b_p (the neighbour's share of a pair message)
  Mat hm;      // [rows][2H] [h | m]
  Mat g;       // [rows][H]
  Mat theta;   // [rows][3K] spline parameters
  Mat knots;   // [rows][3(K + 1)] xk | yk | dk
  Mat psi, pre, dpsi;  // [pair rows of a chunk][P], [..][H], [..][P]: message scratch
  // Backward scratch.
  Mat dtheta, dg, dhm, dh, dm, dhv, dphi, dembed;
  Vec dspline;  // [rows] dℓ/d(the spline's input)
  Mat du_chunk;             // [H][P] dℓ/dU of one chunk of pairs
  Eigen::MatrixXd du_sum;   // [H][P] dℓ/dU summed over the chunks in double (batch·n(n − 1) pairs)
  GemmWorkspace<T> gemm;
};

// y = F(x) and logdet = log|det ∂y/∂x| per configuration, for batch configurations. y may be x.
template <class T>
void circular_coupling_forward_cpu(const CircularCouplingShape& s, const T* params, const T* x, int batch, T* y,
                                   T* logdet, CircularCouplingCache<T>& cache);
// x = F⁻¹(y) and logdet = log|det ∂x/∂y| = −log|det ∂y/∂x|(x). x may be y.
template <class T>
void circular_coupling_inverse_cpu(const CircularCouplingShape& s, const T* params, const T* y, int batch, T* x,
                                   T* logdet, CircularCouplingCache<T>& cache);
// Given the cache of circular_coupling_forward_cpu(x), gy = dℓ/dy [batch][n][D] and gld = dℓ/dlogdet
// [batch]: adds dℓ/dθ into grad [count] and writes gx = dℓ/dx (gx may be gy).
template <class T>
void circular_coupling_forward_backward_cpu(const CircularCouplingShape& s, const T* params,
                                            CircularCouplingCache<T>& cache, const T* gy, const T* gld, T* grad, T* gx);
// Given the cache of circular_coupling_inverse_cpu(y), gx = dℓ/dx and gld: adds dℓ/dθ into grad and
// writes gy = dℓ/dy (gy may be gx).
template <class T>
void circular_coupling_inverse_backward_cpu(const CircularCouplingShape& s, const T* params,
                                            CircularCouplingCache<T>& cache, const T* gx, const T* gld, T* grad, T* gy);

}  // namespace boltzmap
