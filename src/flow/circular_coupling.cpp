// See circular_coupling.hpp. Notation: n particles per configuration, rows r = b·n + i, pair rows
// p = (b·n + i)·(n − 1) + j' over the neighbours j ≠ i (j = j' for j' < i, else j' + 1).
// The backward passes mirror the forward in reverse: spline (circular_spline.hpp's backward
// functions) → W_2 → tanh → W_1 → split [dh | dm] → pair messages (recomputed chunk by chunk) →
// V, U, then ψ_ij by angle addition back onto φ_i and φ_j → W_e → φ → the conditioning coordinates.
// Nothing allocates once the cache holds buffers of the batch's size (products through gemm(),
// scratch of the message stage sized to one chunk, rows handled through Maps of existing buffers).
#include "flow/circular_coupling.hpp"

#include <algorithm>
#include <cmath>

#include "core/error.hpp"
#include "core/rng.hpp"
#include "flow/circular_spline.hpp"

namespace boltzmap {

CircularCouplingLayout circular_coupling_layout(const CircularCouplingShape& s) {
  if (s.particles < 1 || s.dim < 2 || s.axis < 0 || s.axis >= s.dim || s.bins < 1 || s.frequencies < 1 ||
      s.hidden < 1 || !(s.length > 0) || !(s.min_bin >= 0 && s.bins * s.min_bin < 1) ||
      !(s.min_derivative > 0 && s.min_derivative < 1) || s.pair_rows < 1)
    throw Error(ExitCode::failure, "circular coupling: invalid shape (need n ≥ 1, D ≥ 2, 0 ≤ axis < D, K, F, H ≥ 1, "
                                   "L > 0, K·min_bin < 1, 0 < min_derivative < 1)");
  CircularCouplingLayout l;
  const std::size_t H = s.hidden;
  l.cond = s.dim - 1;
  l.features = 2 * s.frequencies * l.cond;
  l.outputs = 3 * s.bins;
  const std::size_t P = l.features, O = l.outputs;
  std::size_t o = 0;
  auto take = [&o](std::size_t n) {
    const std::size_t at = o;
    o += n;
    return at;
  };
  l.embed_w = take(H * P);
  l.embed_b = take(H);
  l.pair_u = take(H * P);
  l.pair_v = take(H * H);
  l.pair_b = take(H);
  l.out1_w = take(H * 2 * H);
  l.out1_b = take(H);
  l.out2_w = take(O * H);
  l.out2_b = take(O);
  l.shift = take(s.shift ? 1 : 0);
  l.count = o;
  return l;
}

template <class T>
void circular_coupling_initialise(const CircularCouplingShape& s, std::uint64_t seed, std::uint32_t first_id, T* p) {
  const CircularCouplingLayout l = circular_coupling_layout(s);
  std::fill(p, p + l.count, T(0));
  auto glorot = [&](std::size_t off, int out, int in, std::uint32_t id) {
    const double a = std::sqrt(6.0 / (in + out));
    for (std::size_t i = 0; i < static_cast<std::size_t>(in) * out; ++i) {
      const Random4 r = philox(seed, RngStream::Init, id, i);
      p[off + i] = static_cast<T>(a * (2.0 * uniform_double(r.v[0], r.v[1]) - 1.0));
    }
  };
  const int H = s.hidden, P = l.features;
  glorot(l.embed_w, H, P, first_id);
  glorot(l.pair_u, H, P, first_id + 1);
  glorot(l.pair_v, H, H, first_id + 2);
  glorot(l.out1_w, H, 2 * H, first_id + 3);
}

namespace {

template <class T>
using Cache = CircularCouplingCache<T>;
template <class T>
using Mat = typename Cache<T>::Mat;
template <class T>
using ConstMap = Eigen::Map<const Mat<T>>;
template <class T>
using MutMap = Eigen::Map<Mat<T>>;
template <class T>
using RowMap = Eigen::Map<Eigen::Matrix<T, 1, Eigen::Dynamic>>;
template <class T>
using ConstRowMap = Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>;

int pairs_per_configuration(const CircularCouplingShape& s) { return s.particles * (s.particles - 1); }
int chunk_configurations(const CircularCouplingShape& s) { return std::max(1, s.pair_rows / std::max(1, pairs_per_configuration(s))); }

template <class T>
CircularSplineSpec<T> spline_spec(const CircularCouplingShape& s) {
  return make_circular_spline_spec<T>(s.bins, static_cast<T>(s.length), static_cast<T>(s.min_bin),
                                      static_cast<T>(s.min_derivative));
}

// Sizes every buffer for `batch` configurations (a no-op when they already fit exactly).
template <class T>
void size_cache(const CircularCouplingShape& s, const CircularCouplingLayout& l, int batch, Cache<T>& c) {
  const int n = s.particles, rows = batch * n, H = s.hidden, P = l.features, O = l.outputs, K1 = s.bins + 1;
  if (c.batch == batch && c.cond.rows() == rows && c.cond.cols() == l.cond && c.h.cols() == H && c.phi.cols() == P &&
      c.theta.cols() == O && c.knots.cols() == 3 * K1)
    return;
  c.cond.resize(rows, l.cond);
  c.in.resize(rows);
  c.out.resize(rows);
  c.phi.resize(rows, P);
  c.h.resize(rows, H);
  c.hv.resize(rows, H);
  c.hm.resize(rows, 2 * H);
  c.g.resize(rows, H);
  c.theta.resize(rows, O);
  c.knots.resize(rows, 3 * K1);
  const int prow = std::min(chunk_configurations(s), batch) * pairs_per_configuration(s);
  c.psi.resize(prow, P);
  c.pre.resize(prow, H);
  c.dpsi.resize(prow, P);
  c.dtheta.resize(rows, O);
  c.dg.resize(rows, H);
  c.dhm.resize(rows, 2 * H);
  c.dh.resize(rows, H);
  c.dm.resize(rows, H);
  c.dhv.resize(rows, H);
  c.dphi.resize(rows, P);
  c.dembed.resize(rows, H);
  c.dspline.resize(rows);
  c.du_chunk.resize(H, P);
  c.du_sum.resize(H, P);
  c.batch = batch;
}

// Conditioning coordinates (wrapped) and the spline's input from a batch z [batch][n][D].
template <class T>
void load(const CircularCouplingShape& s, const T* z, bool inverse, T shift, Cache<T>& c) {
  const int D = s.dim, a = s.axis;
  const T L = static_cast<T>(s.length);
  for (Eigen::Index r = 0; r < c.cond.rows(); ++r) {
    const T* zr = z + r * D;
    for (int d = 0, q = 0; d < D; ++d)
      if (d != a) c.cond(r, q++) = circle_wrap(zr[d], L);
    c.in(r) = inverse ? circular_shift_inverse(zr[a], shift, L) : circle_wrap(zr[a], L);
  }
}

// φ(r, q·2F + 2(k − 1) + {0, 1}) = cos, sin(ω_k c_rq).
template <class T>
void fourier_features(const CircularCouplingShape& s, Cache<T>& c) {
  const int F = s.frequencies;
  const T w = static_cast<T>(2 * M_PI / s.length);
  for (Eigen::Index r = 0; r < c.cond.rows(); ++r)
    for (Eigen::Index q = 0; q < c.cond.cols(); ++q)
      for (int k = 1; k <= F; ++k) {
        const T angle = w * static_cast<T>(k) * c.cond(r, q);
        c.phi(r, q * 2 * F + 2 * (k - 1)) = std::cos(angle);
        c.phi(r, q * 2 * F + 2 * (k - 1) + 1) = std::sin(angle);
      }
}

// ψ of the pairs of configurations [b0, b0 + nb) into c.psi's first rows: the Fourier features of
// c_j − c_i by angle addition, cos(u − v) = cos u cos v + sin u sin v, sin(u − v) = sin u cos v − cos u sin v.
template <class T>
void pair_features(const CircularCouplingShape& s, int P, int b0, int nb, Cache<T>& c) {
  const int n = s.particles;
  T* out = c.psi.data();
  for (int b = b0; b < b0 + nb; ++b)
    for (int i = 0; i < n; ++i) {
      const T* fi = c.phi.data() + static_cast<Eigen::Index>(b * n + i) * P;
      for (int j = 0; j < n; ++j) {
        if (j == i) continue;
        const T* fj = c.phi.data() + static_cast<Eigen::Index>(b * n + j) * P;
        for (int f = 0; f < P; f += 2) {
          out[f] = fj[f] * fi[f] + fj[f + 1] * fi[f + 1];
          out[f + 1] = fj[f + 1] * fi[f] - fj[f] * fi[f + 1];
        }
        out += P;
      }
    }
}

// The chunk's pair activations tanh(U ψ_ij + V h_j + b_p) into c.pre's first nb·n(n − 1) rows.
template <class T>
void pair_activations(const CircularCouplingShape& s, const CircularCouplingLayout& l, const T* p, int b0, int nb,
                      Cache<T>& c) {
  const int n = s.particles, H = s.hidden, P = l.features, rows = nb * pairs_per_configuration(s);
  pair_features(s, P, b0, nb, c);
  const ConstMap<T> U(p + l.pair_u, H, P);
  const ConstMap<T> psi(c.psi.data(), rows, P);
  MutMap<T> pre(c.pre.data(), rows, H);
  gemm(pre, psi, U.transpose(), false, c.gemm);
  Eigen::Index pr = 0;
  for (int b = b0; b < b0 + nb; ++b)
    for (int i = 0; i < n; ++i)
      for (int j = 0; j < n; ++j)
        if (j != i) pre.row(pr++) += c.hv.row(b * n + j);
  pre.array() = pre.array().tanh();
}

// m_i = mean_{j≠i} of the pair activations, into the right half of c.hm (0 for n = 1).
template <class T>
void messages_forward(const CircularCouplingShape& s, const CircularCouplingLayout& l, const T* p, Cache<T>& c) {
  const int n = s.particles, H = s.hidden, batch = c.batch;
  auto m = c.hm.rightCols(H);
  m.setZero();
  if (n < 2) return;
  const T inv = T(1) / static_cast<T>(n - 1);
  const int cc = chunk_configurations(s);
  for (int b0 = 0; b0 < batch; b0 += cc) {
    const int nb = std::min(cc, batch - b0);
    pair_activations(s, l, p, b0, nb, c);
    Eigen::Index pr = 0;
    for (int r = b0 * n; r < (b0 + nb) * n; ++r) {
      for (int j = 0; j + 1 < n; ++j) m.row(r) += c.pre.row(pr++);
      m.row(r) *= inv;
    }
  }
}

// Everything from the conditioning coordinates to θ and the knots of every row.
template <class T>
void conditioner_forward(const CircularCouplingShape& s, const CircularCouplingLayout& l, const T* p, Cache<T>& c) {
  const int H = s.hidden, P = l.features, O = l.outputs, K1 = s.bins + 1;
  fourier_features(s, c);
  const ConstMap<T> We(p + l.embed_w, H, P), V(p + l.pair_v, H, H), W1(p + l.out1_w, H, 2 * H), W2(p + l.out2_w, O, H);
  gemm(c.h, c.phi, We.transpose(), false, c.gemm);
  c.h.rowwise() += ConstRowMap<T>(p + l.embed_b, H);
  c.h.array() = c.h.array().tanh();
  gemm(c.hv, c.h, V.transpose(), false, c.gemm);
  c.hv.rowwise() += ConstRowMap<T>(p + l.pair_b, H);
  c.hm.leftCols(H) = c.h;
  messages_forward(s, l, p, c);
  gemm(c.g, c.hm, W1.transpose(), false, c.gemm);
  c.g.rowwise() += ConstRowMap<T>(p + l.out1_b, H);
  c.g.array() = c.g.array().tanh();
  gemm(c.theta, c.g, W2.transpose(), false, c.gemm);
  c.theta.rowwise() += ConstRowMap<T>(p + l.out2_b, O);
  const CircularSplineSpec<T> sp = spline_spec<T>(s);
  for (Eigen::Index r = 0; r < c.theta.rows(); ++r) {
    T* kn = c.knots.data() + r * 3 * K1;
    circular_spline_knots(sp, c.theta.data() + r * O, kn, kn + K1, kn + 2 * K1);
  }
}

// From c.dtheta (dℓ/dθ per row): adds every conditioner parameter's gradient into grad and leaves
// dℓ/dφ in c.dphi.
template <class T>
void conditioner_backward(const CircularCouplingShape& s, const CircularCouplingLayout& l, const T* p, Cache<T>& c,
                          T* grad) {
  const int n = s.particles, H = s.hidden, P = l.features, O = l.outputs, batch = c.batch;
  const ConstMap<T> We(p + l.embed_w, H, P), U(p + l.pair_u, H, P), V(p + l.pair_v, H, H), W1(p + l.out1_w, H, 2 * H),
      W2(p + l.out2_w, O, H);
  MutMap<T> gWe(grad + l.embed_w, H, P), gU(grad + l.pair_u, H, P), gV(grad + l.pair_v, H, H),
      gW1(grad + l.out1_w, H, 2 * H), gW2(grad + l.out2_w, O, H);
  // θ = W_2 g + b_2, g = tanh(W_1 [h | m] + b_1).
  gemm(gW2, c.dtheta.transpose(), c.g, true, c.gemm);
  RowMap<T>(grad + l.out2_b, O) += c.dtheta.colwise().sum();
  gemm(c.dg, c.dtheta, W2, false, c.gemm);
  c.dg.array() *= T(1) - c.g.array().square();
  gemm(gW1, c.dg.transpose(), c.hm, true, c.gemm);
  RowMap<T>(grad + l.out1_b, H) += c.dg.colwise().sum();
  gemm(c.dhm, c.dg, W1, false, c.gemm);
  c.dh = c.dhm.leftCols(H);
  c.dphi.setZero();
  if (n >= 2) {
    // m_i = mean_j tanh(a_ij), a_ij = U ψ_ij + hv_j: dℓ/da_ij = dℓ/dm_i (1 − tanh²)/(n − 1).
    c.dm = c.dhm.rightCols(H) * (T(1) / static_cast<T>(n - 1));
    c.dhv.setZero();
    c.du_sum.setZero();
    const int cc = chunk_configurations(s);
    for (int b0 = 0; b0 < batch; b0 += cc) {
      const int nb = std::min(cc, batch - b0), rows = nb * pairs_per_configuration(s);
      pair_activations(s, l, p, b0, nb, c);  // recomputed: bitwise those of the forward pass
      MutMap<T> dpre(c.pre.data(), rows, H);
      Eigen::Index pr = 0;
      for (int b = b0; b < b0 + nb; ++b)
        for (int i = 0; i < n; ++i)
          for (int j = 0; j < n; ++j) {
            if (j == i) continue;
            dpre.row(pr).array() = c.dm.row(b * n + i).array() * (T(1) - dpre.row(pr).array().square());
            c.dhv.row(b * n + j) += dpre.row(pr);
            ++pr;
          }
      const ConstMap<T> psi(c.psi.data(), rows, P);
      MutMap<T> dpsi(c.dpsi.data(), rows, P);
      gemm(c.du_chunk, dpre.transpose(), psi, false, c.gemm);
      c.du_sum += c.du_chunk.template cast<double>();
      gemm(dpsi, dpre, U, false, c.gemm);
      // ψ_ij back onto φ_i and φ_j (the derivatives of the angle-addition formulas).
      const T* d = c.dpsi.data();
      for (int b = b0; b < b0 + nb; ++b)
        for (int i = 0; i < n; ++i) {
          const T* fi = c.phi.data() + static_cast<Eigen::Index>(b * n + i) * P;
          T* gi = c.dphi.data() + static_cast<Eigen::Index>(b * n + i) * P;
          for (int j = 0; j < n; ++j) {
            if (j == i) continue;
            const T* fj = c.phi.data() + static_cast<Eigen::Index>(b * n + j) * P;
            T* gj = c.dphi.data() + static_cast<Eigen::Index>(b * n + j) * P;
            for (int f = 0; f < P; f += 2) {
              const T dc = d[f], ds = d[f + 1];
              gj[f] += dc * fi[f] - ds * fi[f + 1];
              gj[f + 1] += dc * fi[f + 1] + ds * fi[f];
              gi[f] += dc * fj[f] + ds * fj[f + 1];
              gi[f + 1] += dc * fj[f + 1] - ds * fj[f];
            }
            d += P;
          }
        }
    }
    gU += c.du_sum.template cast<T>();
    // hv = V h + b_p.
    gemm(gV, c.dhv.transpose(), c.h, true, c.gemm);
    RowMap<T>(grad + l.pair_b, H) += c.dhv.colwise().sum();
    gemm(c.dh, c.dhv, V, true, c.gemm);
  }
  // h = tanh(W_e φ + b_e).
  c.dembed.array() = c.dh.array() * (T(1) - c.h.array().square());
  gemm(gWe, c.dembed.transpose(), c.phi, true, c.gemm);
  RowMap<T>(grad + l.embed_b, H) += c.dembed.colwise().sum();
  gemm(c.dphi, c.dembed, We, true, c.gemm);
}

// out[r·D + d] = in[r·D + d] + dℓ/dc for the conditioning axes (dφ/dc: −ω sin, ω cos), and the
// transformed axis from c.dspline.
template <class T>
void write_input_gradient(const CircularCouplingShape& s, const CircularCouplingLayout& l, const Cache<T>& c,
                          const T* g_in, T* g_out) {
  const int D = s.dim, a = s.axis, F = s.frequencies, P = l.features;
  const T w = static_cast<T>(2 * M_PI / s.length);
  for (Eigen::Index r = 0; r < c.cond.rows(); ++r) {
    const T* f = c.phi.data() + r * P;
    const T* df = c.dphi.data() + r * P;
    for (int d = 0, q = 0; d < D; ++d) {
      if (d == a) continue;
      T acc = T(0);
      for (int k = 1; k <= F; ++k) {
        const int o = q * 2 * F + 2 * (k - 1);
        acc += w * static_cast<T>(k) * (f[o] * df[o + 1] - f[o + 1] * df[o]);
      }
      g_out[r * D + d] = g_in[r * D + d] + acc;
      ++q;
    }
    g_out[r * D + a] = c.dspline(r);
  }
}

template <class T>
void pass(const CircularCouplingShape& s, const T* params, const T* z, int batch, T* out, T* logdet, Cache<T>& c,
          bool inverse) {
  const CircularCouplingLayout l = circular_coupling_layout(s);
  size_cache(s, l, batch, c);
  const T L = static_cast<T>(s.length), shift = s.shift ? params[l.shift] : T(0);
  load(s, z, inverse, shift, c);
  conditioner_forward(s, l, params, c);
  const CircularSplineSpec<T> sp = spline_spec<T>(s);
  const int n = s.particles, D = s.dim, a = s.axis, K1 = s.bins + 1;
  for (int b = 0; b < batch; ++b) {
    double sum = 0;  // log-dets summed in double
    for (int r = b * n; r < (b + 1) * n; ++r) {
      const T* kn = c.knots.data() + static_cast<Eigen::Index>(r) * 3 * K1;
      T ld;
      if (inverse)
        c.out(r) = circular_spline_inverse(sp, kn, kn + K1, kn + 2 * K1, c.in(r), &ld);
      else
        c.out(r) = circular_shift_forward(circular_spline_forward(sp, kn, kn + K1, kn + 2 * K1, c.in(r), &ld), shift, L);
      sum += ld;
    }
    logdet[b] = static_cast<T>(sum);
  }
  for (Eigen::Index r = 0; r < c.cond.rows(); ++r)
    for (int d = 0; d < D; ++d) out[r * D + d] = d == a ? c.out(r) : z[r * D + d];
}

template <class T>
void backward(const CircularCouplingShape& s, const T* params, Cache<T>& c, const T* g_out, const T* gld, T* grad,
              T* g_in, bool inverse) {
  const CircularCouplingLayout l = circular_coupling_layout(s);
  if (c.batch < 0 || c.cond.rows() != static_cast<Eigen::Index>(c.batch) * s.particles || c.phi.cols() != l.features)
    throw Error(ExitCode::failure, "circular coupling: backward pass without its forward pass's cache");
  const CircularSplineSpec<T> sp = spline_spec<T>(s);
  const int n = s.particles, D = s.dim, a = s.axis, K1 = s.bins + 1, O = l.outputs;
  c.dtheta.setZero();
  double g_shift = 0;
  for (int b = 0; b < c.batch; ++b)
    for (int r = b * n; r < (b + 1) * n; ++r) {
      const T* kn = c.knots.data() + static_cast<Eigen::Index>(r) * 3 * K1;
      const T* th = c.theta.data() + static_cast<Eigen::Index>(r) * O;
      T* gth = c.dtheta.data() + static_cast<Eigen::Index>(r) * O;
      const T g = g_out[static_cast<Eigen::Index>(r) * D + a];
      if (inverse) {
        // x_a = S⁻¹(u), u = wrap(y_a − shift): dℓ/dy_a = dℓ/du, dℓ/dshift = −dℓ/du.
        c.dspline(r) = circular_spline_inverse_backward(sp, th, kn, kn + K1, kn + 2 * K1, c.in(r), g, gld[b], gth);
        g_shift -= c.dspline(r);
      } else {
        // y_a = wrap(S(x_a) + shift): dℓ/dS = dℓ/dshift = dℓ/dy_a.
        c.dspline(r) = circular_spline_forward_backward(sp, th, kn, kn + K1, kn + 2 * K1, c.in(r), g, gld[b], gth);
        g_shift += g;
      }
    }
  if (s.shift) grad[l.shift] += static_cast<T>(g_shift);
  conditioner_backward(s, l, params, c, grad);
  write_input_gradient(s, l, c, g_out, g_in);
}

}  // namespace

template <class T>
void circular_coupling_forward_cpu(const CircularCouplingShape& s, const T* params, const T* x, int batch, T* y,
                                   T* logdet, CircularCouplingCache<T>& cache) {
  pass(s, params, x, batch, y, logdet, cache, false);
}
template <class T>
void circular_coupling_inverse_cpu(const CircularCouplingShape& s, const T* params, const T* y, int batch, T* x,
                                   T* logdet, CircularCouplingCache<T>& cache) {
  pass(s, params, y, batch, x, logdet, cache, true);
}
template <class T>
void circular_coupling_forward_backward_cpu(const CircularCouplingShape& s, const T* params,
                                            CircularCouplingCache<T>& cache, const T* gy, const T* gld, T* grad, T* gx) {
  backward(s, params, cache, gy, gld, grad, gx, false);
}
template <class T>
void circular_coupling_inverse_backward_cpu(const CircularCouplingShape& s, const T* params,
                                            CircularCouplingCache<T>& cache, const T* gx, const T* gld, T* grad, T* gy) {
  backward(s, params, cache, gx, gld, grad, gy, true);
}

#define BOLTZMAP_INSTANTIATE(T)                                                                                        \
  template void circular_coupling_initialise<T>(const CircularCouplingShape&, std::uint64_t, std::uint32_t, T*);      \
  template void circular_coupling_forward_cpu<T>(const CircularCouplingShape&, const T*, const T*, int, T*, T*,       \
                                                 CircularCouplingCache<T>&);                                           \
  template void circular_coupling_inverse_cpu<T>(const CircularCouplingShape&, const T*, const T*, int, T*, T*,       \
                                                 CircularCouplingCache<T>&);                                           \
  template void circular_coupling_forward_backward_cpu<T>(const CircularCouplingShape&, const T*,                     \
                                                          CircularCouplingCache<T>&, const T*, const T*, T*, T*);      \
  template void circular_coupling_inverse_backward_cpu<T>(const CircularCouplingShape&, const T*,                     \
                                                          CircularCouplingCache<T>&, const T*, const T*, T*, T*);
BOLTZMAP_INSTANTIATE(float)
BOLTZMAP_INSTANTIATE(double)
#undef BOLTZMAP_INSTANTIATE

}  // namespace boltzmap
