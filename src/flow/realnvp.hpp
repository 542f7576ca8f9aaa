// Real-NVP (METHOD.md "Flow"): K affine coupling blocks on a D-vector. Block b keeps the
// components of one parity — 0-based even indices for b even (the paper's "odd entries x1, x3, …"
// of its 1-based first block), odd for b odd — and transforms the others:
//   y_T = x_T ⊙ exp(S(x_K)) + T(x_K),   log|det| = Σ S,
// with S and T separate MLPs (tanh hidden layers, linear output layer, the last layer zero at
// initialisation so each block starts as the identity, the others Glorot-uniform from the seeded
// counter RNG). Optional bound S ← a·tanh(S/a) (scale_bound a > 0).
// forward() is F (A → B), inverse() is F⁻¹ (B → A), both on batches (rows = configurations) with
// the log-determinant per row; backward_forward()/backward_inverse() are the hand-written
// reverse-mode passes of each direction: from dL/d(output) and dL/d(log-det) they accumulate
// dL/d(parameters) and return dL/d(input).
// Templated on the scalar: float for training, double for the gradient checks. Storage: one flat
// parameter vector (per block: S's layers then T's, each W [out][in] row-major then b [out]), so
// the optimiser and checkpoints see one array.
// Allocation: every work buffer, the matrix products' packing buffers included (src/flow/gemm.hpp),
// lives in a Cache. Passes that reuse one Cache with an unchanged batch size allocate nothing
// (the caller's outputs too, when passed in again at the same size); a pass without a Cache, or
// after a change of batch size, allocates.
// Tests: tests/flow/test_realnvp.cpp (inverse ∘ forward = id, log-det against the finite-difference
// Jacobian, every parameter gradient and the input gradient against central differences in double);
// tests/flow/allocations (no allocation in steady state).
#pragma once
#include <cstdint>
#include <vector>

#include <Eigen/Dense>

#include "flow/gemm.hpp"

namespace boltzmap {

// Parameters and gradients: aligned to Eigen's largest packet, so every run (and every copy) maps
// its layers at the same alignment and Eigen's vectorised reductions add in the same order —
// needed for bitwise reproducible training and resume.
template <class T>
using ParamVector = std::vector<T, Eigen::aligned_allocator<T>>;

struct FlowShape {
  int dim = 62;                            // D, the preprocessed vector's length
  int blocks = 8;                          // coupling blocks
  std::vector<int> hidden{128, 128, 128};  // hidden layer widths of each S and T network
  double scale_bound = 0.0;                // a > 0: S ← a·tanh(S/a); 0 = unbounded
};

template <class T>
class RealNvp {
 public:
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;  // [batch][features]
  using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;

  // Activations of one MLP for one block (inputs of each layer, and pre-bound outputs).
  struct MlpCache {
    std::vector<Mat> act;  // act[0] = input h, act[l] = tanh output of hidden layer l
    Mat out;               // linear output (before the scale bound, for S)
  };
  struct BlockCache {
    Mat keep, trans_in, trans_out;  // x_K, the transformed part's input and output
    Mat s, t;                       // S (after the bound) and T
    MlpCache mlp_s, mlp_t;
  };
  // Gradients of one block's backward pass (one set per parity: with D odd the parities keep
  // different numbers of components, and a shared set would be resized at every block).
  struct BlockGrad {
    Mat trans, keep;  // dL/d(transformed part), dL/d(kept part)
    Mat s, t;         // dL/dS (raw, after bound_backward) and, in the inverse pass, dL/dT
  };
  // Everything a backward pass needs from its forward pass, plus scratch; reuse it across steps.
  struct Cache {
    std::vector<BlockCache> block;
    BlockGrad parity_grad[2];  // indexed by the block's parity
    std::vector<Mat> delta;  // delta[l] = dL/d(pre-activation of hidden layer l), shared by the MLPs
    GemmWorkspace<T> gemm;   // packing buffers of the matrix products
  };

  RealNvp(FlowShape shape, std::uint64_t seed);

  const FlowShape& shape() const { return shape_; }
  std::size_t parameter_count() const { return params_.size(); }
  ParamVector<T>& parameters() { return params_; }
  const ParamVector<T>& parameters() const { return params_; }

  // y = F(x), logdet = log|det ∂F/∂x| per row. cache may be null when no backward pass follows.
  void forward(const Mat& x, Mat& y, Vec& logdet, Cache* cache) const;
  // x = F⁻¹(y), logdet = log|det ∂F⁻¹/∂y| per row.
  void inverse(const Mat& y, Mat& x, Vec& logdet, Cache* cache) const;

  // Given the cache of forward(x) and gy = dL/dy, gld = dL/dlogdet (per row): adds dL/dθ to grad
  // (size parameter_count()) and writes gx = dL/dx.
  void backward_forward(Cache& cache, const Mat& gy, const Vec& gld, ParamVector<T>& grad, Mat& gx) const;
  // Given the cache of inverse(y) and gx = dL/dx, gld: adds dL/dθ to grad and writes gy = dL/dy.
  void backward_inverse(Cache& cache, const Mat& gx, const Vec& gld, ParamVector<T>& grad, Mat& gy) const;

 private:
  struct Layer {
    std::size_t w, b;  // offsets into params_
    int in, out;
  };
  struct Mlp {
    std::vector<Layer> layers;
  };
  // Components first, first + 2, … (count of them): one parity of the D-vector.
  struct Columns {
    int first, count;
    auto of() const { return Eigen::seqN(first, count, Eigen::fix<2>); }
  };
  struct Block {
    Columns keep, trans;
    Mlp s, t;
  };

  Mlp make_mlp(int in, int out, std::size_t& offset);
  void mlp_forward(const Mlp& m, const Mat& h, MlpCache& c, GemmWorkspace<T>& ws) const;
  // g_out = dL/d(output) of the MLP; accumulates parameter gradients; adds dL/dh into gh.
  void mlp_backward(const Mlp& m, const MlpCache& c, const Mat& g_out, ParamVector<T>& grad, Mat& gh, Cache& cache) const;
  void block_st(const Block& b, const Mat& h, BlockCache& c, GemmWorkspace<T>& ws) const;  // S and T of h (with bound)
  // dL/dS_raw from dL/dS through the bound.
  void bound_backward(const BlockCache& c, Mat& gs) const;

  FlowShape shape_;
  std::vector<Block> blocks_;
  ParamVector<T> params_;
};

extern template class RealNvp<float>;
extern template class RealNvp<double>;

}  // namespace boltzmap
