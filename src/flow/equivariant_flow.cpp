// See equivariant_flow.hpp. Every layer runs in place on the output (the couplings allow y = x and
// gx = gy), so a pass copies its input once and then walks the layers: no intermediate
// configuration is stored, since each CircularCouplingCache keeps what its backward pass reads.
// The backward of a stack visits the layers in the opposite order of its pass, each with the same
// dℓ/dlogdet (logdet = Σ_l logdet_l).
#include "flow/equivariant_flow.hpp"

#include "core/error.hpp"

namespace boltzmap {

template <class T>
EquivariantFlow<T>::EquivariantFlow(EquivariantFlowShape shape, std::uint64_t seed) : shape_(shape) {
  if (shape_.layers < 1) throw Error(ExitCode::failure, "equivariant flow: need at least one layer");
  std::size_t offset = 0;
  for (int l = 0; l < shape_.layers; ++l) {
    CircularCouplingShape s;
    s.particles = shape_.particles;
    s.dim = shape_.dim;
    s.axis = shape_.dim > 0 ? l % shape_.dim : 0;
    s.bins = shape_.bins;
    s.frequencies = shape_.frequencies;
    s.hidden = shape_.hidden;
    s.length = shape_.length;
    s.shift = shape_.shift;
    s.min_bin = shape_.min_bin;
    s.min_derivative = shape_.min_derivative;
    s.pair_rows = shape_.pair_rows;
    offsets_.push_back(offset);
    offset += circular_coupling_layout(s).count;  // throws on an invalid shape
    layers_.push_back(s);
  }
  params_.assign(offset, T(0));
  for (int l = 0; l < shape_.layers; ++l)
    circular_coupling_initialise(layers_[l], seed, static_cast<std::uint32_t>(4 * l), params_.data() + offsets_[l]);
}

template <class T>
void EquivariantFlow<T>::pass(const Mat& in, Mat& out, Vec& logdet, Cache* cache, bool inverse) const {
  if (in.cols() != width())
    throw Error(ExitCode::failure, "equivariant flow: a batch needs n·D columns");
  Cache local;
  Cache& c = cache ? *cache : local;
  if (c.layer.size() != layers_.size()) c.layer.resize(layers_.size());
  const int batch = static_cast<int>(in.rows());
  out = in;  // no allocation when out already has in's size
  c.layer_logdet.resize(batch);
  c.logdet_sum.setZero(batch);
  const int L = static_cast<int>(layers_.size());
  for (int k = 0; k < L; ++k) {
    const int l = inverse ? L - 1 - k : k;
    const T* p = params_.data() + offsets_[l];
    if (inverse)
      circular_coupling_inverse_cpu(layers_[l], p, out.data(), batch, out.data(), c.layer_logdet.data(), c.layer[l]);
    else
      circular_coupling_forward_cpu(layers_[l], p, out.data(), batch, out.data(), c.layer_logdet.data(), c.layer[l]);
    c.logdet_sum += c.layer_logdet.template cast<double>();
  }
  logdet = c.logdet_sum.template cast<T>();
}

template <class T>
void EquivariantFlow<T>::backward(Cache& c, const Mat& g_out, const Vec& gld, ParamVector<T>& grad, Mat& g_in,
                                  bool inverse) const {
  const int batch = static_cast<int>(g_out.rows());
  if (c.layer.size() != layers_.size() || g_out.cols() != width() || gld.size() != batch)
    throw Error(ExitCode::failure, "equivariant flow: backward pass without its pass's cache, or of another size");
  if (grad.size() != params_.size()) grad.assign(params_.size(), T(0));
  g_in = g_out;
  const int L = static_cast<int>(layers_.size());
  for (int k = 0; k < L; ++k) {
    // The pass ran l = 0…L − 1 (forward) or L − 1…0 (inverse): its backward runs the other way.
    const int l = inverse ? k : L - 1 - k;
    CircularCouplingCache<T>& lc = c.layer[l];
    if (lc.batch != batch)
      throw Error(ExitCode::failure, "equivariant flow: backward pass of another batch size than its pass");
    const T* p = params_.data() + offsets_[l];
    T* g = grad.data() + offsets_[l];
    if (inverse)
      circular_coupling_inverse_backward_cpu(layers_[l], p, lc, g_in.data(), gld.data(), g, g_in.data());
    else
      circular_coupling_forward_backward_cpu(layers_[l], p, lc, g_in.data(), gld.data(), g, g_in.data());
  }
}

template <class T>
void EquivariantFlow<T>::forward(const Mat& x, Mat& y, Vec& logdet, FlowCache* cache) const {
  pass(x, y, logdet, cache ? &own_cache<Cache>(*cache, "EquivariantFlow::forward") : nullptr, false);
}
template <class T>
void EquivariantFlow<T>::inverse(const Mat& y, Mat& x, Vec& logdet, FlowCache* cache) const {
  pass(y, x, logdet, cache ? &own_cache<Cache>(*cache, "EquivariantFlow::inverse") : nullptr, true);
}
template <class T>
void EquivariantFlow<T>::backward_forward(FlowCache& cache, const Mat& gy, const Vec& gld, ParamVector<T>& grad,
                                          Mat& gx) const {
  backward(own_cache<Cache>(cache, "EquivariantFlow::backward_forward"), gy, gld, grad, gx, false);
}
template <class T>
void EquivariantFlow<T>::backward_inverse(FlowCache& cache, const Mat& gx, const Vec& gld, ParamVector<T>& grad,
                                          Mat& gy) const {
  backward(own_cache<Cache>(cache, "EquivariantFlow::backward_inverse"), gx, gld, grad, gy, true);
}

template class EquivariantFlow<float>;
template class EquivariantFlow<double>;

}  // namespace boltzmap
