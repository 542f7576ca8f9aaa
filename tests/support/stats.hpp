// Small statistics helpers shared by the unit tests: the chi-square upper-tail probability
// (regularised upper incomplete gamma Q(k/2, x/2), series / continued fraction as in Numerical
// Recipes §6.2, accurate to ~1e-12 here) and a Pearson chi-square over binned counts.
// Checked against closed forms in tests/core/test_rng.cpp (k = 2: e^{-x/2}; k = 1: erfc(√(x/2))).
#pragma once
#include <cmath>
#include <span>

namespace boltzmap::test {

// Q(a, x) = Γ(a, x) / Γ(a), a > 0, x ≥ 0.
inline double gamma_q(double a, double x) {
  if (x <= 0.0) return 1.0;
  const double log_prefactor = -x + a * std::log(x) - std::lgamma(a);
  if (x < a + 1.0) {  // series for P(a, x), then Q = 1 − P
    double term = 1.0 / a, sum = term;
    for (int n = 1; n < 100000; ++n) {
      term *= x / (a + n);
      sum += term;
      if (std::abs(term) < std::abs(sum) * 1e-16) break;
    }
    return 1.0 - sum * std::exp(log_prefactor);
  }
  // Continued fraction for Q (modified Lentz).
  const double tiny = 1e-300;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < 100000; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double del = d * c;
    h *= del;
    if (std::abs(del - 1.0) < 1e-16) break;
  }
  return std::exp(log_prefactor) * h;
}

// P(χ²_k ≥ x).
inline double chi_square_p_value(double x, int dof) { return gamma_q(0.5 * dof, 0.5 * x); }

// Pearson statistic Σ (O − E)² / E.
inline double chi_square_statistic(std::span<const double> observed, std::span<const double> expected) {
  double s = 0.0;
  for (size_t b = 0; b < observed.size(); ++b) s += (observed[b] - expected[b]) * (observed[b] - expected[b]) / expected[b];
  return s;
}

}  // namespace boltzmap::test
