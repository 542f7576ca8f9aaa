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

#include "flow/flow.hpp"
#include "flow/gemm.hpp"

namespace boltzmap {

struct FlowShape {
  int dim = 62;                            // D, the preprocessed vector's length
  int blocks = 8;                          // coupling blocks
  std::vector<int> hidden{128, 128, 128};  // hidden layer widths of each S and T network
  double scale_bound = 0.0;                // a > 0: S ← a·tanh(S/a); 0 = unbounded
};

template <class T>
class RealNvp final : public Flow<T> {
 public:
  using Mat = typename Flow<T>::Mat;  // [batch][features]
  using Vec = typename Flow<T>::Vec;

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
  struct Cache : FlowCache {
    std::vector<BlockCache> block;
    BlockGrad parity_grad[2];  // indexed by the block's parity
    std::vector<Mat> delta;  // delta[l] = dL/d(pre-activation of hidden layer l), shared by the MLPs
    GemmWorkspace<T> gemm;   // packing buffers of the matrix products
  };

  RealNvp(FlowShape shape, std::uint64_t seed);

  const FlowShape& shape() const { return shape_; }
  const char* kind() const override { return "realnvp"; }
  int width() const override { return shape_.dim; }
  std::unique_ptr<FlowCache> make_cache() const override { return std::make_unique<Cache>(); }
  std::unique_ptr<Flow<T>> clone() const override { return std::make_unique<RealNvp<T>>(*this); }

  // The passes of Flow<T> (src/flow/flow.hpp); the caches must be RealNvp<T>::Cache.
  void forward(const Mat& x, Mat& y, Vec& logdet, FlowCache* cache) const override;
  void inverse(const Mat& y, Mat& x, Vec& logdet, FlowCache* cache) const override;
  void backward_forward(FlowCache& cache, const Mat& gy, const Vec& gld, ParamVector<T>& grad, Mat& gx) const override;
  void backward_inverse(FlowCache& cache, const Mat& gx, const Vec& gld, ParamVector<T>& grad, Mat& gy) const override;

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

  using Flow<T>::params_;
  FlowShape shape_;
  std::vector<Block> blocks_;
};

extern template class RealNvp<float>;
extern template class RealNvp<double>;

}  // namespace boltzmap
