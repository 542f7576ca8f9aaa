// The seam between the flows and everything that trains, maps or saves them (issue 13): a Flow<T>
// is an invertible map of batches of latent rows with its log-determinant, its reverse-mode passes
// and one flat parameter vector. Two kinds implement it:
//   "realnvp"     RealNvp<T> (src/flow/realnvp.hpp), the paper's affine couplings on the
//                 preprocessed (relabelled, wrapped, PCA'd) vector;
//   "equivariant" EquivariantFlow<T> (src/flow/equivariant_flow.hpp), circular couplings on the
//                 torus coordinates of the N − 1 centred particles.
// The losses (src/flow/loss.hpp), the trainer, the mapping and the model file see only this
// interface; make_flow() (src/flow/make_flow.hpp) builds the input's kind.
// Caches: every pass takes the work buffers of its own kind (make_cache()), kept by the caller and
// reused step after step so that steady-state passes allocate nothing; passing another kind's
// cache is an error (Error, not undefined behaviour). A backward pass needs the cache of its pass.
#pragma once
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Dense>

#include "core/error.hpp"

namespace boltzmap {

// Parameters and gradients: aligned to Eigen's largest packet, so every run (and every copy) maps
// its layers at the same alignment and Eigen's vectorised reductions add in the same order —
// needed for bitwise reproducible training and resume.
template <class T>
using ParamVector = std::vector<T, Eigen::aligned_allocator<T>>;

// A flow's work buffers; each kind derives its own.
struct FlowCache {
  virtual ~FlowCache() = default;
};

template <class T>
class Flow {
 public:
  using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;  // [batch][width]
  using Vec = Eigen::Matrix<T, Eigen::Dynamic, 1>;                                // [batch]

  virtual ~Flow() = default;
  virtual const char* kind() const = 0;  // "realnvp" or "equivariant", as [flow] kind spells it
  virtual int width() const = 0;         // the latent rows' length
  virtual std::unique_ptr<FlowCache> make_cache() const = 0;
  virtual std::unique_ptr<Flow<T>> clone() const = 0;

  std::size_t parameter_count() const { return params_.size(); }
  ParamVector<T>& parameters() { return params_; }
  const ParamVector<T>& parameters() const { return params_; }

  // y = F(x), logdet = log|det ∂F/∂x| per row. cache may be null when no backward pass follows.
  virtual void forward(const Mat& x, Mat& y, Vec& logdet, FlowCache* cache) const = 0;
  // x = F⁻¹(y), logdet = log|det ∂F⁻¹/∂y| per row.
  virtual void inverse(const Mat& y, Mat& x, Vec& logdet, FlowCache* cache) const = 0;
  // Given the cache of forward(x) and gy = dL/dy, gld = dL/dlogdet (per row): adds dL/dθ to grad
  // (resized and zeroed if not of size parameter_count()) and writes gx = dL/dx.
  virtual void backward_forward(FlowCache& cache, const Mat& gy, const Vec& gld, ParamVector<T>& grad,
                                Mat& gx) const = 0;
  // Given the cache of inverse(y) and gx = dL/dx, gld: adds dL/dθ to grad and writes gy = dL/dy.
  virtual void backward_inverse(FlowCache& cache, const Mat& gx, const Vec& gld, ParamVector<T>& grad,
                                Mat& gy) const = 0;

 protected:
  Flow() = default;
  Flow(const Flow&) = default;
  Flow& operator=(const Flow&) = default;
  ParamVector<T> params_;
};

// The cache of kind C, or Error naming `who` when another kind's was passed.
template <class C>
C& own_cache(FlowCache& c, const char* who) {
  C* p = dynamic_cast<C*>(&c);
  if (!p) throw Error(ExitCode::failure, std::string(who) + ": passed the work buffers of another kind of flow");
  return *p;
}

}  // namespace boltzmap
