// See equivariant_flow.hpp. Every layer runs in place on the output (the couplings allow y = x and
// gx = gy), so a pass copies its input once and then walks the layers: no intermediate
// configuration is stored, since each CircularCouplingCache keeps what its backward pass reads.
// The backward of a stack visits the layers in the opposite order of its pass, each with the same
// dℓ/dlogdet (logdet = Σ_l logdet_l).
#include "flow/equivariant_flow.hpp"

#include <omp.h>

#include <algorithm>

#include "core/error.hpp"
#include "core/parallel_errors.hpp"

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

namespace {
// f(k) for every chunk k: on the OpenMP threads when there are several chunks and threads (and we
// are not inside a parallel region already), else in turn on this thread (no OpenMP region: one
// would allocate its team). The first exception is rethrown after every chunk has stopped.
template <class F>
void on_chunks(int chunks, F&& f) {
  const int threads = omp_in_parallel() ? 1 : std::min(chunks, omp_get_max_threads());
  if (threads <= 1) {
    for (int k = 0; k < chunks; ++k) f(k);
    return;
  }
  FirstError error;  // nothing may leave the parallel region
#pragma omp parallel for schedule(dynamic) num_threads(threads)
  for (int k = 0; k < chunks; ++k)
    error.run([&] {
      if (!error.failed()) f(k);
    });
  error.rethrow();
}
}  // namespace

template <class T>
void EquivariantFlow<T>::pass(const Mat& in, Mat& out, Vec& logdet, Cache* cache, bool inverse) const {
  if (in.cols() != width())
    throw Error(ExitCode::failure, "equivariant flow: a batch needs n·D columns");
  Cache local;
  Cache& c = cache ? *cache : local;
  const int batch = static_cast<int>(in.rows()), w = width();
  const int chunks = (batch + kChunk - 1) / kChunk;
  if (static_cast<int>(c.chunk.size()) != chunks) c.chunk.resize(chunks);
  for (Chunk& ch : c.chunk)
    if (ch.layer.size() != layers_.size()) ch.layer.resize(layers_.size());
  out = in;  // no allocation when out already has in's size
  c.logdet_sum.setZero(batch);
  const int L = static_cast<int>(layers_.size());
  on_chunks(chunks, [&](int k) {
      Chunk& ch = c.chunk[k];
      const int b0 = k * kChunk, nb = std::min(kChunk, batch - b0);
      T* rows = out.data() + static_cast<Eigen::Index>(b0) * w;
      ch.layer_logdet.resize(nb);
      for (int j = 0; j < L; ++j) {
        const int l = inverse ? L - 1 - j : j;
        const T* p = params_.data() + offsets_[l];
        if (inverse)
          circular_coupling_inverse_cpu(layers_[l], p, rows, nb, rows, ch.layer_logdet.data(), ch.layer[l]);
        else
          circular_coupling_forward_cpu(layers_[l], p, rows, nb, rows, ch.layer_logdet.data(), ch.layer[l]);
        c.logdet_sum.segment(b0, nb) += ch.layer_logdet.template cast<double>();
      }
    });
  logdet = c.logdet_sum.template cast<T>();
}

template <class T>
void EquivariantFlow<T>::backward(Cache& c, const Mat& g_out, const Vec& gld, ParamVector<T>& grad, Mat& g_in,
                                  bool inverse) const {
  const int batch = static_cast<int>(g_out.rows()), w = width();
  const int chunks = (batch + kChunk - 1) / kChunk;
  if (static_cast<int>(c.chunk.size()) != chunks || g_out.cols() != w || gld.size() != batch)
    throw Error(ExitCode::failure, "equivariant flow: backward pass without its pass's cache, or of another size");
  if (grad.size() != params_.size()) grad.assign(params_.size(), T(0));
  g_in = g_out;
  const int L = static_cast<int>(layers_.size());
  on_chunks(chunks, [&](int k) {
      Chunk& ch = c.chunk[k];
      const int b0 = k * kChunk, nb = std::min(kChunk, batch - b0);
      if (ch.grad.size() != params_.size())
        ch.grad.assign(params_.size(), T(0));
      else
        std::fill(ch.grad.begin(), ch.grad.end(), T(0));
      T* rows = g_in.data() + static_cast<Eigen::Index>(b0) * w;
      for (int j = 0; j < L; ++j) {
        // The pass ran l = 0…L − 1 (forward) or L − 1…0 (inverse): its backward runs the other way.
        const int l = inverse ? j : L - 1 - j;
        CircularCouplingCache<T>& lc = ch.layer[l];
        if (lc.batch != nb)
          throw Error(ExitCode::failure, "equivariant flow: backward pass of another batch size than its pass");
        const T* p = params_.data() + offsets_[l];
        T* g = ch.grad.data() + offsets_[l];
        if (inverse)
          circular_coupling_inverse_backward_cpu(layers_[l], p, lc, rows, gld.data() + b0, g, rows);
        else
          circular_coupling_forward_backward_cpu(layers_[l], p, lc, rows, gld.data() + b0, g, rows);
      }
    });
  // The chunks' gradients in chunk order: the same sum for any number of threads.
  for (const Chunk& ch : c.chunk)
    for (std::size_t i = 0; i < grad.size(); ++i) grad[i] += ch.grad[i];
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
