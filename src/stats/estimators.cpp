// See estimators.hpp.
#include "stats/estimators.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace boltzmap {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

double count_of(Counts c, std::size_t i) { return c.empty() ? 1.0 : static_cast<double>(c[i]); }

double max_finite(std::span<const double> v, Counts counts) {
  double m = -kInf;
  for (std::size_t i = 0; i < v.size(); ++i)
    if (count_of(counts, i) > 0 && v[i] > m) m = v[i];
  return m;
}

}  // namespace

double fermi(double x) {
  if (x > 0) {
    const double e = std::exp(-x);
    return e / (1.0 + e);
  }
  return 1.0 / (1.0 + std::exp(x));
}

double total_count(std::size_t n, Counts counts) {
  if (counts.empty()) return static_cast<double>(n);
  double s = 0;
  for (auto c : counts) s += c;
  return s;
}

double logsumexp(std::span<const double> v, Counts counts) {
  const double m = max_finite(v, counts);
  if (!std::isfinite(m)) return m;  // all −∞ (or +∞ / NaN present: propagate)
  double s = 0;
  for (std::size_t i = 0; i < v.size(); ++i) s += count_of(counts, i) * std::exp(v[i] - m);
  return m + std::log(s);
}

double kish_ess(std::span<const double> log_w, Counts counts) {
  const double m = max_finite(log_w, counts);
  if (!std::isfinite(m)) return 0.0;
  double s1 = 0, s2 = 0;
  for (std::size_t i = 0; i < log_w.size(); ++i) {
    const double w = std::exp(log_w[i] - m), c = count_of(counts, i);
    s1 += c * w;
    s2 += c * w * w;
  }
  return s1 * s1 / s2;
}

double log_mean_weight(std::span<const double> log_w, Counts counts) {
  return logsumexp(log_w, counts) - std::log(total_count(log_w.size(), counts));
}

double delta_f_from_a(std::span<const double> log_w_b, double coverage_b, Counts counts) {
  return -log_mean_weight(log_w_b, counts) + std::log(coverage_b);
}

double delta_f_from_b(std::span<const double> log_w_a, double coverage_a, Counts counts) {
  return log_mean_weight(log_w_a, counts) - std::log(coverage_a);
}

double delta_f_bar(std::span<const double> log_w_b, std::span<const double> log_w_a, Counts counts_fwd, Counts counts_rev,
                   double guess) {
  const double n_f = total_count(log_w_b.size(), counts_fwd), n_r = total_count(log_w_a.size(), counts_rev);
  if (!(n_f > 0 && n_r > 0) || !std::isfinite(max_finite(log_w_b, counts_fwd)) ||
      !std::isfinite(max_finite(log_w_a, counts_rev)))
    return std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < log_w_b.size(); ++i)
    if (count_of(counts_fwd, i) > 0 && std::isnan(log_w_b[i])) return std::numeric_limits<double>::quiet_NaN();
  for (std::size_t j = 0; j < log_w_a.size(); ++j)
    if (count_of(counts_rev, j) > 0 && std::isnan(log_w_a[j])) return std::numeric_limits<double>::quiet_NaN();
  const double M = std::log(n_f / n_r);
  // g(Δ) = Σ_F f(M + W_F − Δ) − Σ_R f(−M + W_R + Δ), increasing in Δ; g' = Σ f(1 − f) over both.
  auto g = [&](double delta, double* slope) {
    double lhs = 0, rhs = 0, d = 0;
    for (std::size_t i = 0; i < log_w_b.size(); ++i) {
      const double c = count_of(counts_fwd, i);
      if (c == 0 || log_w_b[i] == -kInf) continue;
      const double f = fermi(M - log_w_b[i] - delta);
      lhs += c * f;
      d += c * f * (1 - f);
    }
    for (std::size_t j = 0; j < log_w_a.size(); ++j) {
      const double c = count_of(counts_rev, j);
      if (c == 0 || log_w_a[j] == -kInf) continue;
      const double f = fermi(-M - log_w_a[j] + delta);
      rhs += c * f;
      d += c * f * (1 - f);
    }
    if (slope) *slope = d;
    return lhs - rhs;
  };
  return bar_root(g, guess);
}

double bar_root(const std::function<double(double, double*)>& g, double guess) {
  // Bracket the root by stepping out from the guess in doubling steps.
  double x = std::isfinite(guess) ? guess : 0.0;
  double lo = x, hi = x, step = 1.0;
  while (g(lo, nullptr) > 0) {
    hi = lo;
    lo -= step;
    step *= 2;
    if (step > 1e6) return std::numeric_limits<double>::quiet_NaN();
  }
  step = 1.0;
  while (g(hi, nullptr) < 0) {
    lo = hi;
    hi += step;
    step *= 2;
    if (step > 1e6) return std::numeric_limits<double>::quiet_NaN();
  }
  x = std::clamp(x, lo, hi);
  for (int it = 0; it < 200; ++it) {
    double slope = 0;
    const double v = g(x, &slope);
    if (v == 0) return x;
    (v < 0 ? lo : hi) = x;
    double next = slope > 0 ? x - v / slope : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::abs(next - x) <= 1e-12 * (1.0 + std::abs(x)) || hi - lo <= 1e-12 * (1.0 + std::abs(x))) return next;
    x = next;
  }
  return x;
}

void fermi_taylor(double x, double* g) {
  constexpr int K = kTaylorOrder;
  if (x == kInf) {
    std::fill(g, g + K + 1, 0.0);
    return;
  }
  // f(x + s) = num(s)/den(s) with power series num and den, divided term by term:
  //   x ≤ 0: 1/(1 + a·eˢ),         a = eˣ ≤ 1:  num = 1,           den = 1 + a·Σ sᵏ/k!
  //   x > 0: b·e⁻ˢ/(1 + b·e⁻ˢ),    b = e⁻ˣ < 1: num = b·Σ (−s)ᵏ/k!, den = 1 + b·Σ (−s)ᵏ/k!
  // (the small exponential keeps every term finite and f's tail accurate).
  const bool neg = x <= 0;
  const double a = neg ? std::exp(x) : std::exp(-x);
  double num[K + 1], den[K + 1];
  double fact = 1.0;
  for (int k = 0; k <= K; ++k) {
    if (k > 0) fact /= k;
    const double t = a * fact * (neg || k % 2 == 0 ? 1.0 : -1.0);
    num[k] = neg ? (k == 0 ? 1.0 : 0.0) : t;
    den[k] = t + (k == 0 ? 1.0 : 0.0);
  }
  for (int k = 0; k <= K; ++k) {
    double v = num[k];
    for (int j = 1; j <= k; ++j) v -= den[j] * g[k - j];
    g[k] = v / den[0];
  }
}

double taylor_bar_shift(std::span<const double> a, std::span<const double> b) {
  constexpr int K = kTaylorOrder;
  // h(s) = Σ a_k sᵏ − Σ b_k (−s)ᵏ, decreasing; h′ by the same sums.
  auto h = [&](double s, double* slope) {
    double v = 0, d = 0;
    for (int k = K; k >= 0; --k) {
      const double c = a[static_cast<std::size_t>(k)] - (k % 2 == 0 ? 1.0 : -1.0) * b[static_cast<std::size_t>(k)];
      d = d * s + v;
      v = v * s + c;
    }
    if (slope) *slope = d;
    return v;
  };
  double lo = -kTaylorShift, hi = kTaylorShift;
  const double h_lo = h(lo, nullptr), h_hi = h(hi, nullptr);
  if (!(h_lo >= 0 && h_hi <= 0)) return std::numeric_limits<double>::quiet_NaN();
  double x = 0.0;
  for (int it = 0; it < 200; ++it) {
    double slope = 0;
    const double v = h(x, &slope);
    if (v == 0) return x;
    (v > 0 ? lo : hi) = x;
    double next = slope < 0 ? x - v / slope : 0.5 * (lo + hi);
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (std::abs(next - x) <= 1e-15 || hi - lo <= 1e-15) return next;
    x = next;
  }
  return x;
}

}  // namespace boltzmap
