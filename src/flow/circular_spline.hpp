// Circular rational-quadratic spline (METHOD.md "The equivariant periodic flow"; Durkan et al. 2019
// "Neural Spline Flows", Rezende et al. 2020 "Normalizing flows on tori and spheres"): the
// element-wise maths of one transformed coordinate of the equivariant flow (issue 13). A C¹
// increasing bijection of the circle [−L/2, L/2) with K bins; forward, closed-form inverse, their
// log-derivatives and hand-written backward passes, plus the optional circular shift.
// Plain pointers, sizes and structs, no exceptions, BOLTZMAP_HD, float or double, so that the batched
// CPU loops of the coupling layer and their CUDA twin (kernels/circular_spline.cu, to come) call
// these same functions.
// Tests: tests/flow/test_circular_spline.cpp (identity, round trips, edges, periodicity, C¹,
// monotonicity, log-det and every gradient against central differences, a textbook oracle).
//
// Parameters of one coordinate, theta[3K] = [K width logits | K height logits | K derivative
// pre-activations] (K derivatives, not K + 1: on the circle the end knots are one point):
//   widths  w_j = L·(m + (1 − K·m)·softmax(width logits)_j),   heights h_j likewise,  m = min_bin;
//   knot derivatives δ_j = d_min + softplus(c_j + c₀) for j < K, δ_K = δ_0,  d_min = min_derivative,
//   with c₀ = log(e^(1−d_min) − 1), so softplus(c₀) = 1 − d_min and c = 0 gives δ = 1.
// Zero parameters are therefore the identity: equal widths and heights (bitwise: both come from the
// same arithmetic), slopes s = h/w = 1 and δ = 1. The formulas below are arranged so that this holds
// EXACTLY in floating point (y == x and log-det == 0), not only to round-off: see each function.
// Knots: xk[K+1], yk[K+1] (xk[0] = yk[0] = −L/2, xk[K] = yk[K] = L/2 exactly), dk[K+1] (dk[K] = dk[0]).
// Accuracy (measured by the tests): forward y to a few ε·L·κ, with κ = max(s, δ0, δ1)/min(s, δ0, δ1)
// of the bin; the inverse's x to about ε·L·(1 + (1 + κ)/F'), F' = dy/dx, i.e. float round trips
// lose digits only where the map is nearly flat.
#pragma once
#include <cmath>

#include "core/hd.hpp"

namespace boltzmap {

template <class T>
struct CircularSplineSpec {
  int bins = 8;                // K
  T length = T(1);             // L: the circle is [−L/2, L/2)
  T min_bin = T(1e-3);         // m: every width and height ≥ m·L (needs K·m < 1; the caller checks)
  T min_derivative = T(1e-3);  // d_min: every knot derivative > d_min (needs 0 < d_min < 1)
  // Derived by make_circular_spline_spec():
  T softplus_offset = T(0);    // c₀ = log(e^(1−d_min) − 1)
  T sigmoid_offset = T(0);     // σ(c₀) = 1 − e^(−(1−d_min))
};

template <class T>
BOLTZMAP_HD CircularSplineSpec<T> make_circular_spline_spec(int bins, T length, T min_bin = T(1e-3),
                                                            T min_derivative = T(1e-3)) {
  CircularSplineSpec<T> s;
  s.bins = bins;
  s.length = length;
  s.min_bin = min_bin;
  s.min_derivative = min_derivative;
  s.softplus_offset = std::log(std::expm1(T(1) - min_derivative));
  s.sigmoid_offset = -std::expm1(-(T(1) - min_derivative));
  return s;
}

// x onto [−L/2, L/2). A value already there is returned untouched (bitwise), so the identity stays
// exact; L/2 itself becomes −L/2.
template <class T>
BOLTZMAP_HD T circle_wrap(T x, T L) {
  const T half = T(0.5) * L;
  if (x >= -half && x < half) return x;
  T y = x - L * std::floor(x / L + T(0.5));
  if (y < -half) y += L;  // corrections of one period when x/L + ½ rounds across an integer
  if (y >= half) y -= L;
  return y;
}

// Knot derivative δ(c) = d_min + softplus(c + c₀). Near c = 0 it is evaluated as
// 1 + log1p(σ(c₀)·expm1(c)) (the same function: softplus(c + c₀) − softplus(c₀) =
// log((1 + e^(c+c₀))/(1 + e^c₀)) = log1p(σ(c₀)(e^c − 1))), so that δ(0) = 1 exactly for any d_min;
// elsewhere as the softplus itself, which keeps δ's relative accuracy down to d_min (the 1 + log1p
// form is only good to ε absolute) and cannot overflow.
template <class T>
BOLTZMAP_HD T spline_knot_derivative(const CircularSplineSpec<T>& sp, T c) {
  if (c > T(-1) && c < T(20)) return T(1) + std::log1p(sp.sigmoid_offset * std::expm1(c));
  const T z = c + sp.softplus_offset;
  return sp.min_derivative + (z > T(0) ? z + std::log1p(std::exp(-z)) : std::log1p(std::exp(z)));
}
// dδ/dc = σ(c + c₀).
template <class T>
BOLTZMAP_HD T spline_knot_derivative_grad(const CircularSplineSpec<T>& sp, T c) {
  return T(1) / (T(1) + std::exp(-(c + sp.softplus_offset)));
}

// Cumulative knots from K logits: knots[0] = −L/2, knots[j+1] = knots[j] + w_j, knots[K] = L/2
// (set, not summed, so the circle closes exactly; the last width absorbs the round-off).
template <class T>
BOLTZMAP_HD void spline_cumulative_knots(const T* logits, int K, T L, T min_bin, T* knots) {
  T mx = logits[0];
  for (int j = 1; j < K; ++j) mx = logits[j] > mx ? logits[j] : mx;
  T sum = T(0);
  for (int j = 0; j < K; ++j) sum += std::exp(logits[j] - mx);
  const T scale = (T(1) - T(K) * min_bin) / sum;
  knots[0] = T(-0.5) * L;
  for (int j = 0; j + 1 < K; ++j) knots[j + 1] = knots[j] + L * (min_bin + scale * std::exp(logits[j] - mx));
  knots[K] = T(0.5) * L;
}

// Knots of one coordinate's spline from theta[3K] (layout above) into xk, yk, dk [K+1] each.
template <class T>
BOLTZMAP_HD void circular_spline_knots(const CircularSplineSpec<T>& sp, const T* theta, T* xk, T* yk, T* dk) {
  const int K = sp.bins;
  spline_cumulative_knots(theta, K, sp.length, sp.min_bin, xk);
  spline_cumulative_knots(theta + K, K, sp.length, sp.min_bin, yk);
  for (int j = 0; j < K; ++j) dk[j] = spline_knot_derivative(sp, theta[2 * K + j]);
  dk[K] = dk[0];
}

// The bin k with knots[k] ≤ v < knots[k+1], for v in [−L/2, L/2): a linear search (K is small).
template <class T>
BOLTZMAP_HD int spline_find_bin(const T* knots, int K, T v) {
  int k = 0;
  while (k + 1 < K && v >= knots[k + 1]) ++k;
  return k;
}

// One bin: [x0, x0 + w) → [y0, y0 + h), knot derivatives d0 (left) and d1 (right).
template <class T>
struct SplineBin {
  T x0, w, y0, h, d0, d1;
};
template <class T>
BOLTZMAP_HD SplineBin<T> spline_bin(const T* xk, const T* yk, const T* dk, int k) {
  return SplineBin<T>{xk[k], xk[k + 1] - xk[k], yk[k], yk[k + 1] - yk[k], dk[k], dk[k + 1]};
}

// In bin b at ξ = (x − x0)/w ∈ [0, 1], with s = h/w and q = ξ(1 − ξ) (Durkan et al. eqs. 4–5):
//   y = y0 + h·P/D,  P = sξ² + δ0·q,  D = s + (δ0 + δ1 − 2s)·q,
//   dy/dx = s²·N/D²,  N = δ1ξ² + 2s·q + δ0(1 − ξ)².
// log dy/dx as one log of s²N/D². N is evaluated as s + (δ1 − s)ξ² + (δ0 − s)(1 − ξ)² (the same
// polynomial, since ξ² + 2q + (1 − ξ)² = 1), which is exactly s when δ0 = δ1 = s, so the identity
// spline has log-det exactly 0; where that form would cancel (the correction below −s/2) the sum
// of positive terms is used instead, so N keeps its relative accuracy at extreme parameters.
template <class T>
BOLTZMAP_HD T spline_log_slope(const SplineBin<T>& b, T xi) {
  const T s = b.h / b.w, u = T(1) - xi, q = xi * u;
  const T D = s + (b.d0 + b.d1 - T(2) * s) * q;
  const T c = (b.d1 - s) * xi * xi + (b.d0 - s) * u * u;
  const T N = c >= T(-0.5) * s ? s + c : b.d1 * xi * xi + T(2) * s * q + b.d0 * u * u;
  return std::log(s * s * N / (D * D));
}

// Forward map y = F(x) of the wrapped x, with *logdet = log dy/dx. With θ = x − x0, y − y0 = θ·M and
// M = s(sξ + δ0(1 − ξ))/D (that is h·P/D). Where the bin does not contract much (M ≥ ½) y is written
// as the increment of x itself, y = x + [(y0 − x0) + θ(M − 1)], whose bracket is exactly 0 for the
// identity spline (fl(ξ + fl(1 − ξ)) = 1 for ξ in [0, 1], so M − 1 = 0), hence y == x there; the
// plain y0 + θM would lose the low bits of a small x in a bin starting far from 0. Where M < ½ the
// increment form would cancel (x − θ), and y0 + θM is used: non-decreasing in x to round-off.
// Clamped to the bin's image against round-off (monotone across knots) and wrapped: the top of the
// last bin, L/2, is −L/2.
template <class T>
BOLTZMAP_HD T circular_spline_forward(const CircularSplineSpec<T>& sp, const T* xk, const T* yk, const T* dk, T x,
                                      T* logdet) {
  x = circle_wrap(x, sp.length);
  const int k = spline_find_bin(xk, sp.bins, x);
  const SplineBin<T> b = spline_bin(xk, yk, dk, k);
  const T theta = x - b.x0;
  const T xi = theta / b.w;
  const T s = b.h / b.w;
  const T D = s + (b.d0 + b.d1 - T(2) * s) * (xi * (T(1) - xi));
  const T num = s * (s * xi + b.d0 * (T(1) - xi));  // M = num/D
  T y = num >= T(0.5) * D ? x + ((b.y0 - b.x0) + theta * (num - D) / D) : b.y0 + theta * num / D;
  y = y < b.y0 ? b.y0 : (y > yk[k + 1] ? yk[k + 1] : y);
  *logdet = spline_log_slope(b, xi);
  return circle_wrap(y, sp.length);
}

// ξ of the point of bin b whose image is y0 + φ (0 ≤ φ ≤ h), from the quadratic aξ² + bξ + c = 0
// of Durkan et al. eqs. 6–8,
//   a = h(s − δ0) + φ(δ0 + δ1 − 2s),  b = hδ0 − φ(δ0 + δ1 − 2s),  c = −sφ,
// by its stable root ξ = 2c/(−b − √(b² − 4ac)) = 2sφ/(b + √·) (the denominator is 2sφ/ξ ≥ 2sφ > 0:
// no cancellation). Then x − x0 = ξw = φ·Minv with Minv = 2h/(b + √·). As in the forward: where
// Minv ≥ ½ (*increment = true) *m = Minv − 1 = (2h − b − √·)/(b + √·), for the caller's increment
// form x = y + [(x0 − y0) + φ(Minv − 1)], exactly y for the identity spline (b = h and √(h²) = h in
// binary floating point, so 2h − b − √· = 0); else *m = Minv, for x = x0 + φ·Minv.
template <class T>
BOLTZMAP_HD T spline_inverse_xi(const SplineBin<T>& bin, T phi, T* m, bool* increment) {
  const T s = bin.h / bin.w, sum = bin.d0 + bin.d1 - T(2) * s;
  const T qa = bin.h * (s - bin.d0) + phi * sum;
  const T qb = bin.h * bin.d0 - phi * sum;
  const T qc = -s * phi;
  const T disc = qb * qb - T(4) * qa * qc;
  const T root = std::sqrt(disc > T(0) ? disc : T(0));
  const T den = qb + root;
  *increment = T(2) * bin.h >= T(0.5) * den;
  *m = *increment ? (T(2) * bin.h - qb - root) / den : T(2) * bin.h / den;  // Minv − 1, or Minv
  const T xi = T(2) * s * phi / den;
  return xi < T(0) ? T(0) : (xi > T(1) ? T(1) : xi);
}

// Inverse map x = F⁻¹(y) of the wrapped y, with *logdet = log dx/dy = −log dy/dx at x; x built as
// the increment of y where Minv ≥ ½ (exactly y for the identity), else x0 + φ·Minv; clamped and
// wrapped as in the forward.
template <class T>
BOLTZMAP_HD T circular_spline_inverse(const CircularSplineSpec<T>& sp, const T* xk, const T* yk, const T* dk, T y,
                                      T* logdet) {
  y = circle_wrap(y, sp.length);
  const int k = spline_find_bin(yk, sp.bins, y);
  const SplineBin<T> b = spline_bin(xk, yk, dk, k);
  const T phi = y - b.y0;
  T m;
  bool increment;
  const T xi = spline_inverse_xi(b, phi, &m, &increment);
  T x = increment ? y + ((b.x0 - b.y0) + phi * m) : b.x0 + phi * m;
  x = x < b.x0 ? b.x0 : (x > xk[k + 1] ? xk[k + 1] : x);
  *logdet = -spline_log_slope(b, xi);
  return circle_wrap(x, sp.length);
}

// ---- Backward passes -------------------------------------------------------------------------
// dℓ/d(x, x0, w, y0, h, δ0, δ1) of ℓ = g_y·y + g_ld·log(dy/dx) in one bin at ξ (upstream g_y, g_ld).
// With y = y0 + h·P/D as above (P, D, N, q, s as in spline_log_slope) and ld = 2 log s + log N − 2 log D:
//   ∂y/∂ξ  = h·s·N/D²  (= w·dy/dx)           ∂ld/∂ξ  = N_ξ/N − 2·D_ξ/D,
//            N_ξ = 2[δ1ξ + s(1 − 2ξ) − δ0(1 − ξ)],  D_ξ = (δ0 + δ1 − 2s)(1 − 2ξ);
//   ∂y/∂s  = h[ξ²D − P(1 − 2q)]/D²           ∂ld/∂s  = 2/s + 2q/N − 2(1 − 2q)/D;
//   ∂y/∂δ0 = h·q(D − P)/D²                   ∂ld/∂δ0 = (1 − ξ)²/N − 2q/D;
//   ∂y/∂δ1 = −h·q·P/D²                       ∂ld/∂δ1 = ξ²/N − 2q/D;
//   ∂y/∂h at fixed s = P/D,  ∂y/∂y0 = 1;
// then ξ = (x − x0)/w and s = h/w: ∂/∂x = G_ξ/w, ∂/∂x0 = −G_ξ/w, ∂/∂w = −(ξG_ξ + sG_s)/w, ∂/∂h += G_s/w.
template <class T>
struct SplineBinGrad {
  T x, x0, w, y0, h, d0, d1;
};
template <class T>
BOLTZMAP_HD SplineBinGrad<T> spline_bin_backward(const SplineBin<T>& b, T xi, T g_y, T g_ld) {
  const T s = b.h / b.w, u = T(1) - xi, q = xi * u, sum = b.d0 + b.d1 - T(2) * s;
  const T D = s + sum * q, D2 = D * D;
  const T P = s * xi * xi + b.d0 * q;
  const T N = b.d1 * xi * xi + T(2) * s * q + b.d0 * u * u;
  const T n_xi = T(2) * (b.d1 * xi + s * (T(1) - T(2) * xi) - b.d0 * u);
  const T d_xi = sum * (T(1) - T(2) * xi);
  const T g_xi = g_y * b.h * s * N / D2 + g_ld * (n_xi / N - T(2) * d_xi / D);
  const T g_s = g_y * b.h * (xi * xi * D - P * (T(1) - T(2) * q)) / D2 +
                g_ld * (T(2) / s + T(2) * q / N - T(2) * (T(1) - T(2) * q) / D);
  SplineBinGrad<T> g;
  g.d0 = g_y * b.h * q * (D - P) / D2 + g_ld * (u * u / N - T(2) * q / D);
  g.d1 = -g_y * b.h * q * P / D2 + g_ld * (xi * xi / N - T(2) * q / D);
  g.x = g_xi / b.w;
  g.x0 = -g.x;
  g.w = -(xi * g_xi + s * g_s) / b.w;
  g.y0 = g_y;
  g.h = g_y * P / D + g_s / b.w;
  return g;
}

// Knots K_j = −L/2 + Σ_{i<j} w_i (j < K), K_K = L/2 (a constant), w_i = L(m + (1 − Km)p_i),
// p = softmax(logits). Given dℓ/dK_k = g_lo and dℓ/dK_{k+1} = g_hi, accumulates into g_logits[K]:
//   dℓ/dw_i = g_lo·[i < k] + g_hi·[i ≤ k]·[k + 1 < K],
//   dℓ/dlogit_i = L(1 − Km)·p_i·(dℓ/dw_i − Σ_j p_j dℓ/dw_j)   (the softmax Jacobian p_i(δ_ij − p_j)).
// (Treating K_K = L/2 as the sum of all widths instead would add g_hi to every dℓ/dw_i, which the
// softmax Jacobian annihilates: the same result.)
template <class T>
BOLTZMAP_HD void spline_cumulative_knots_backward(const T* logits, int K, T L, T min_bin, int k, T g_lo, T g_hi,
                                                  T* g_logits) {
  T mx = logits[0];
  for (int j = 1; j < K; ++j) mx = logits[j] > mx ? logits[j] : mx;
  T sum = T(0);
  for (int j = 0; j < K; ++j) sum += std::exp(logits[j] - mx);
  const T top = k + 1 < K ? g_hi : T(0);
  T mean = T(0);
  for (int j = 0; j < k + 1; ++j) mean += std::exp(logits[j] - mx) / sum * ((j < k ? g_lo : T(0)) + top);
  const T scale = L * (T(1) - T(K) * min_bin);
  for (int j = 0; j < K; ++j) {
    const T gw = j > k ? T(0) : (j < k ? g_lo : T(0)) + top;
    g_logits[j] += scale * std::exp(logits[j] - mx) / sum * (gw - mean);
  }
}

// From one bin's gradient to theta's: the bin's edges are knots k and k + 1 (x0 = K_k, w = K_{k+1} − K_k,
// likewise y0, h), its derivatives δ_k and δ_{(k+1) mod K}. Accumulates into g_theta[3K].
template <class T>
BOLTZMAP_HD void spline_params_backward(const CircularSplineSpec<T>& sp, const T* theta, int k,
                                        const SplineBinGrad<T>& g, T* g_theta) {
  const int K = sp.bins;
  spline_cumulative_knots_backward(theta, K, sp.length, sp.min_bin, k, g.x0 - g.w, g.w, g_theta);
  spline_cumulative_knots_backward(theta + K, K, sp.length, sp.min_bin, k, g.y0 - g.h, g.h, g_theta + K);
  const int k1 = (k + 1) % K;
  g_theta[2 * K + k] += g.d0 * spline_knot_derivative_grad(sp, theta[2 * K + k]);
  g_theta[2 * K + k1] += g.d1 * spline_knot_derivative_grad(sp, theta[2 * K + k1]);
}

// Backward of circular_spline_forward at x: from g_y = dℓ/dy and g_ld = dℓ/d(log dy/dx), accumulates
// dℓ/dtheta into g_theta[3K] and returns dℓ/dx (the wraps have derivative 1; the round-off clamps
// are ignored). theta and the knots made from it are both passed: the knots locate the bin, theta
// gives the softmax and softplus Jacobians.
template <class T>
BOLTZMAP_HD T circular_spline_forward_backward(const CircularSplineSpec<T>& sp, const T* theta, const T* xk,
                                               const T* yk, const T* dk, T x, T g_y, T g_ld, T* g_theta) {
  x = circle_wrap(x, sp.length);
  const int k = spline_find_bin(xk, sp.bins, x);
  const SplineBin<T> b = spline_bin(xk, yk, dk, k);
  const SplineBinGrad<T> g = spline_bin_backward(b, (x - b.x0) / b.w, g_y, g_ld);
  spline_params_backward(sp, theta, k, g, g_theta);
  return g.x;
}

// Backward of circular_spline_inverse at y: from g_x = dℓ/dx and g_ld = dℓ/d(log dx/dy), accumulates
// dℓ/dtheta and returns dℓ/dy. x(y, θ) solves F(x, θ) = y and log dx/dy = −ℓ_F(x(y, θ), θ) with
// ℓ_F = log F'. Implicit differentiation: dx/dy = 1/F', ∂x/∂θ = −F_θ/F'. With u = g_x − g_ld·∂ℓ_F/∂x
// (everything that reaches x):
//   dℓ/dy = u/F',   dℓ/dθ = −(u/F')·F_θ − g_ld·∂ℓ_F/∂θ,
// which is the forward backward at x with upstream (g_y, g_ld) = (−u/F', −g_ld).
template <class T>
BOLTZMAP_HD T circular_spline_inverse_backward(const CircularSplineSpec<T>& sp, const T* theta, const T* xk,
                                               const T* yk, const T* dk, T y, T g_x, T g_ld, T* g_theta) {
  y = circle_wrap(y, sp.length);
  const int k = spline_find_bin(yk, sp.bins, y);
  const SplineBin<T> b = spline_bin(xk, yk, dk, k);
  T m;
  bool increment;
  const T xi = spline_inverse_xi(b, y - b.y0, &m, &increment);
  const T dld_dx = spline_bin_backward(b, xi, T(0), T(1)).x;  // ∂ℓ_F/∂x
  const T slope = std::exp(spline_log_slope(b, xi));           // F'
  const T u = g_x - g_ld * dld_dx;
  spline_params_backward(sp, theta, k, spline_bin_backward(b, xi, -u / slope, -g_ld), g_theta);
  return u / slope;
}

// ---- Optional circular shift: y ← wrap(y + shift), log-det 0 ------------------------------------
// Backward: dℓ/dy_in = dℓ/dy_out and dℓ/dshift += dℓ/dy_out (inverse: y ← wrap(y − shift),
// dℓ/dshift −= dℓ/dy_out). shift = 0 is the identity exactly (circle_wrap leaves [−L/2, L/2) alone).
template <class T>
BOLTZMAP_HD T circular_shift_forward(T y, T shift, T L) {
  return circle_wrap(y + shift, L);
}
template <class T>
BOLTZMAP_HD T circular_shift_inverse(T y, T shift, T L) {
  return circle_wrap(y - shift, L);
}
template <class T>
BOLTZMAP_HD T circular_shift_forward_backward(T g_out, T* g_shift) {
  *g_shift += g_out;
  return g_out;
}
template <class T>
BOLTZMAP_HD T circular_shift_inverse_backward(T g_out, T* g_shift) {
  *g_shift -= g_out;
  return g_out;
}

}  // namespace boltzmap
