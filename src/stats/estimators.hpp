// Estimators on log-weights (METHOD.md "Weights, observables, free energy"), all in double:
// logsumexp, Kish's effective sample size, the one-sided (exponential-averaging) free-energy
// estimates with the coverage correction of "The domain of the map", and Bennett's acceptance
// ratio. Log-weights may be −∞ (a configuration outside the canonical domain: weight zero).
// Every function takes optional multiplicities `counts` (a bootstrap replicate: configuration i
// appears counts[i] times; empty = each once), so the same code gives the estimate and its
// bootstrap replicates.
// Conventions: log w_B(x_A) = −β_B U_B(F(x_A)) + β_A U_A(x_A) + log|det J_F(x_A)| (A→B, Eq. 11),
// log w_A(x_B) the mirror (B→A, Eq. 10); ΔF always means β_B F_B − β_A F_A.
// A room of its own (stats/) because both the trainer (flow/, the RESS metric) and the analysis
// use it, and flow/ must not include analysis/. Tests: tests/stats/test_estimators.cpp.
#pragma once
#include <cstdint>
#include <functional>
#include <span>

namespace boltzmap {

using Counts = std::span<const std::uint8_t>;

// log Σ_i counts_i·exp(v_i); −∞ when every term is −∞ (or there are none).
double logsumexp(std::span<const double> v, Counts counts = {});
// Σ counts (n when counts is empty).
double total_count(std::size_t n, Counts counts);
// Kish ESS (Σw)²/Σw² of w = exp(log_w) with multiplicities; 0 when every weight is zero.
double kish_ess(std::span<const double> log_w, Counts counts = {});
// log of the sample mean of w: logsumexp − ln Σcounts.
double log_mean_weight(std::span<const double> log_w, Counts counts = {});

// ΔF from A→B samples: −ln mean(w_B) + ln c_B, with c_B the coverage of B's samples (the
// fraction whose B→A image stays in the domain; 1 = no correction).
double delta_f_from_a(std::span<const double> log_w_b, double coverage_b = 1.0, Counts counts = {});
// ΔF from B→A samples: ln mean(w_A) − ln c_A.
double delta_f_from_b(std::span<const double> log_w_a, double coverage_a = 1.0, Counts counts = {});

// Bennett's acceptance ratio from both directions: the root ΔF of
//   Σ_i f(M + W_F,i − ΔF) = Σ_j f(−M + W_R,j + ΔF),  f(x) = 1/(1 + eˣ),
// with forward works W_F = −log w_B (A→B samples), reverse works W_R = −log w_A (B→A samples)
// and M = ln(n_F/n_R). Configurations of weight zero (W = +∞) drop out of both sums. Solved by
// Newton's method safeguarded by bisection, to 1e-12 relative; `guess` (e.g. the full-sample
// answer when solving a bootstrap replicate) only speeds it up. counts_fwd go with log_w_b (A's
// samples), counts_rev with log_w_a (B's). NaN when either side has no configuration of non-zero
// weight or a log-weight is NaN.
double delta_f_bar(std::span<const double> log_w_b, std::span<const double> log_w_a, Counts counts_fwd = {},
                   Counts counts_rev = {}, double guess = 0.0);

// The root of BAR's g(Δ) = Σ_F f(M + W_F − Δ) − Σ_R f(−M + W_R + Δ) (increasing in Δ) for any way
// of forming the sums: `g(delta, slope)` returns g and, when slope is not null, g′ there. Brackets
// the root by doubling steps out from `guess`, then Newton safeguarded by bisection to 1e-12
// relative; NaN when no bracket is found within ±10⁶. delta_f_bar (one process) and the streamed
// analysis (sums over chunks and ranks, src/analysis/analysis.cpp) both use it.
double bar_root(const std::function<double(double, double*)>& g, double guess);

// The fermi function f(x) = 1/(1 + eˣ) without overflow (f(+∞) = 0).
double fermi(double x);

// BAR for bootstrap replicates without a pass over the data per replicate: expanded about a centre
// Δ₀ (the full sample's root), each configuration's term is a power series in the shift s,
//   f(x + s) = Σ_k g_k(x) sᵏ,   g_k = f⁽ᵏ⁾(x)/k!,
// so a replicate's sums need only its moments A_k = Σ_F c·g_k(x_F), B_k = Σ_R c·g_k(x_R), which
// one pass accumulates for every replicate at once. The series of f converges for |s| < π (poles
// at x ± iπ); below |s| = kTaylorShift with kTaylorOrder terms the remainder is under 1e-13 of
// the sums. fermi_taylor writes g_0 … g_K of f(x + s) (K = kTaylorOrder; all zero for x = +∞).
inline constexpr int kTaylorOrder = 16;
inline constexpr double kTaylorShift = 0.5;
void fermi_taylor(double x, double* g);
// The root s of Σ_k A_k sᵏ = Σ_k B_k (−s)ᵏ (k = 0 … kTaylorOrder; the left side decreases in s,
// the right increases) within |s| ≤ kTaylorShift, or NaN when the root lies outside (the replicate
// must then be solved exactly).
double taylor_bar_shift(std::span<const double> a, std::span<const double> b);

}  // namespace boltzmap
