// The equivariant periodic flow (METHOD.md "The equivariant periodic flow", issue 13): a stack of
// L circular couplings (src/flow/circular_coupling.hpp) on the n = N − 1 centred particles, layer l
// transforming axis l mod D of every particle conditioned on the other axes (2D: x|y, y|x, x|y, …;
// 3D: x, y, z, x, …). Each coupling commutes with permutations of the particles and is periodic in
// every input coordinate, so the stack is too; its log-det is the sum of the layers'.
// forward() is F (A → B), inverse() is F⁻¹ (B → A): the layers in reverse order, each inverted.
// backward_forward()/backward_inverse() are the reverse-mode passes of each direction, with the
// Flow<T> interface (src/flow/flow.hpp) that the real-NVP implements, so the losses, the trainer,
// the mapping and the model file take either flow through one seam.
// Layouts: a batch is a row-major Mat [batch][n·D], row b = configuration b as [n][D] flattened
// (particle-major: x_0, y_0, x_1, y_1, …), coordinates on the torus [−L/2, L/2)^D (inputs may lie
// outside it: every coupling wraps what it reads). Outputs: every axis a layer transforms is
// wrapped onto [−L/2, L/2); with layers ≥ D that is every coordinate. Log-dets [batch], the layers'
// summed per configuration in double. Parameters: one flat ParamVector, layer after layer, each in
// its circular_coupling_layout() (layer_offset(l) is where layer l starts).
// Initialisation: Glorot-uniform hidden layers from the seeded counter RNG (stream Init, ids
// 4l…4l + 3 for layer l), last layers, biases and shifts zero: the whole flow is the identity,
// bitwise, on the torus.
// Threads: the batch is split into fixed chunks of kChunk configurations, run on the OpenMP threads
// (a chunk's layers one after the other); the gradients are summed over the chunks in order, so the
// results are the same for any number of threads.
// Allocation: the Cache holds, per chunk, one CircularCouplingCache per layer (which keeps the
// layer's input and activations, everything its backward pass needs, so the intermediate
// configurations need no copy of their own), the per-layer log-det scratch and a gradient buffer. Passes that reuse one Cache with an
// unchanged batch size allocate nothing (the caller's outputs too, when passed in again at the same
// size); a pass without a Cache, or after a change of batch size, allocates.
// Twin (to come): the CUDA couplings of kernels/circular_coupling.cu, called layer by layer.
// Tests: tests/flow/test_equivariant_flow.cpp (identity, round trip, log-det against the layers and
// the finite-difference Jacobian, permutation equivariance, periodicity, every gradient against
// central differences, a timing); tests/flow/allocations (no allocation once warmed up).
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

#include <Eigen/Dense>

#include "flow/circular_coupling.hpp"
#include "flow/flow.hpp"

namespace boltzmap {

struct EquivariantFlowShape {
  int particles = 31;     // n = N − 1 (the centred particle dropped)
  int dim = 2;            // D ≥ 2
  int layers = 8;         // couplings; layer l transforms axis l mod D
  int bins = 8;           // K spline bins
  int frequencies = 4;    // F Fourier frequencies per conditioning axis
  int hidden = 32;        // H, width of every hidden layer of each conditioner
  double length = 1.0;    // L, the box side: the torus is [−L/2, L/2)^D
  bool shift = true;      // a learned circular shift per layer
  double min_bin = 1e-3;  // spline: minimum bin width and height (units of L), minimum knot derivative
  double min_derivative = 1e-3;
  int pair_rows = 16384;  // pair rows per chunk of each coupling's message stage
};

template <class T>
class EquivariantFlow final : public Flow<T> {
 public:
  using Mat = typename Flow<T>::Mat;  // [batch][n·D]
  using Vec = typename Flow<T>::Vec;  // [batch]

  // Everything a backward pass needs from its pass, plus scratch; reuse it across steps.
  // A batch runs in chunks of kChunk configurations (the last one shorter), one chunk per OpenMP
  // thread at a time; the chunks are fixed by the batch size alone, and the parameter gradients of
  // the chunks are summed in chunk order, so results do not depend on the number of threads.
  static constexpr int kChunk = 64;
  struct Chunk {
    std::vector<CircularCouplingCache<T>> layer;  // [layers]: each coupling's input and activations
    Vec layer_logdet;                             // [rows of the chunk] one layer's log-det
    ParamVector<T> grad;                          // this chunk's dℓ/dθ (backward passes)
  };
  struct Cache : FlowCache {
    std::vector<Chunk> chunk;    // [⌈batch/kChunk⌉]
    Eigen::VectorXd logdet_sum;  // [batch] the layers' log-dets summed in double
  };

  // Throws Error on an invalid shape (layers < 1, or what circular_coupling_layout() rejects).
  EquivariantFlow(EquivariantFlowShape shape, std::uint64_t seed);

  const EquivariantFlowShape& shape() const { return shape_; }
  const char* kind() const override { return "equivariant"; }
  int width() const override { return shape_.particles * shape_.dim; }  // n·D, the columns of a batch
  std::unique_ptr<FlowCache> make_cache() const override { return std::make_unique<Cache>(); }
  std::unique_ptr<Flow<T>> clone() const override { return std::make_unique<EquivariantFlow<T>>(*this); }
  // Layer l's coupling shape (axis l mod D) and the offset of its parameters in parameters().
  const CircularCouplingShape& layer_shape(int l) const { return layers_[l]; }
  std::size_t layer_offset(int l) const { return offsets_[l]; }

  // The passes of Flow<T> (src/flow/flow.hpp); the caches must be EquivariantFlow<T>::Cache.
  void forward(const Mat& x, Mat& y, Vec& logdet, FlowCache* cache) const override;
  void inverse(const Mat& y, Mat& x, Vec& logdet, FlowCache* cache) const override;
  void backward_forward(FlowCache& cache, const Mat& gy, const Vec& gld, ParamVector<T>& grad, Mat& gx) const override;
  void backward_inverse(FlowCache& cache, const Mat& gx, const Vec& gld, ParamVector<T>& grad, Mat& gy) const override;

 private:
  // out = the layers applied to in, in order (inverse: the last first, each inverted).
  void pass(const Mat& in, Mat& out, Vec& logdet, Cache* cache, bool inverse) const;
  void backward(Cache& c, const Mat& g_out, const Vec& gld, ParamVector<T>& grad, Mat& g_in, bool inverse) const;

  using Flow<T>::params_;
  EquivariantFlowShape shape_;
  std::vector<CircularCouplingShape> layers_;
  std::vector<std::size_t> offsets_;  // [layers] start of each layer's parameters
};

extern template class EquivariantFlow<float>;
extern template class EquivariantFlow<double>;

}  // namespace boltzmap
