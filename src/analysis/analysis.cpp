// See analysis.hpp.
// GCC 12 reports a false "may be used uninitialized" inside Eigen's AVX-512 GEMM packing
// (avx512fintrin.h, _mm512_extractf64x4_pd) for the moment products below.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "analysis/analysis.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <memory>

#include <Eigen/Dense>

#include "analysis/set_kernels.hpp"
#include "core/error.hpp"
#include "core/parallel_errors.hpp"
#include "core/rng.hpp"
#include "parallel/all_or_none.hpp"
#include "stats/estimators.hpp"

namespace boltzmap {

namespace {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int64_t kQuantileSample = std::int64_t{1} << 17;  // energies per column for the bins
// BAR moment columns: the Taylor coefficients g_0 … g_K, then Σc over weights ≠ 0, then Σc.
constexpr int kMomentCols = kTaylorOrder + 3;
constexpr int kReplicateBlock = 16;

// The q-quantile of the finite values.
double quantile(std::span<const double> v, double q) {
  std::vector<double> f;
  f.reserve(v.size());
  for (double x : v)
    if (std::isfinite(x)) f.push_back(x);
  if (f.empty()) return kNaN;
  const auto k = static_cast<std::size_t>(q * static_cast<double>(f.size() - 1));
  std::nth_element(f.begin(), f.begin() + static_cast<std::ptrdiff_t>(k), f.end());
  return f[k];
}

// Common energy bins for the sets of a direction: from the lowest 0.1st to the highest 99.9th
// percentile of the reference, untransformed and raw mapped energies (a few outliers of a poor
// map would otherwise squeeze every curve into one bin).
Bins energy_bins(const std::array<const std::vector<double>*, 3>& columns, int count) {
  double lo = kInf, hi = -kInf;
  for (const auto* e : columns) {
    if (e->empty()) continue;
    lo = std::min(lo, quantile(*e, 0.001));
    hi = std::max(hi, quantile(*e, 0.999));
  }
  if (!(hi > lo)) hi = lo + 1.0;
  const double pad = 0.02 * (hi - lo);
  return Bins{lo - pad, hi + pad, count};
}

// A log-weight restricted to the canonical domain: −∞ (weight zero) outside.
double restricted(const EvaluationRows& r, std::size_t j) {
  return r.in_domain[j] ? r.log_weight_unrestricted[j] : -kInf;
}

// log Σ exp(v) kept as (max, Σ exp(v − max)), mergeable across chunks and ranks.
struct LogSum {
  double max = -kInf, sum = 0;
  void add(double v) {
    if (v == -kInf) return;
    if (v > max) {
      sum = sum * std::exp(max - v) + 1.0;
      max = v;
    } else {
      sum += std::exp(v - max);
    }
  }
};

// One system's rows and how they are shared and resampled.
struct Side {
  EvaluationSource& src;
  std::int64_t n;
  Range mine;
  Resampler counts;
};

// Runs body(rows, first, m) over this rank's rows of a side, a chunk at a time; an error on any
// rank is an error on every rank (all_or_none), so no rank waits in the next collective.
template <class F>
void each_chunk(const Comm& comm, Side& s, std::int64_t chunk, Columns columns, F&& body) {
  all_or_none(comm, [&] {
    for (std::int64_t first = s.mine.begin; first < s.mine.end; first += chunk) {
      const std::int64_t m = std::min(chunk, s.mine.end - first);
      const EvaluationRows r = s.src.rows(first, m, columns);
      body(r, first, static_cast<std::size_t>(m));
    }
  });
}

void check_rows(const EvaluationRows& r, std::size_t m, std::size_t row, Columns columns, char label) {
  bool ok = r.energy.size() == m && r.mapped_energy.size() == m && r.identity_energy.size() == m &&
            r.log_weight_unrestricted.size() == m && r.identity_log_weight.size() == m && r.in_domain.size() == m;
  if (columns == Columns::all)
    ok = ok && r.positions.size() == m * row && r.source_positions.size() == m * row && r.mapped_positions.size() == m * row;
  if (!ok) throw Error(ExitCode::failure, std::string("analyze: inconsistent array sizes in system ") + label + "'s rows");
}

// What the first pass finds over one side (before the reduction over ranks).
struct SideScan {
  std::vector<double> energy, identity_energy, mapped_energy;  // the strided subsample
  double max_identity = -kInf, max_inside = -kInf, max_all = -kInf;
  LogSum flow, identity;  // of the restricted and the identity log-weights
};

SideScan scan(const Comm& comm, Side& s, std::int64_t chunk, std::size_t row, char label) {
  SideScan out;
  const std::int64_t stride = std::max<std::int64_t>(1, (s.n + kQuantileSample - 1) / kQuantileSample);
  each_chunk(comm, s, chunk, Columns::scalars, [&](const EvaluationRows& r, std::int64_t first, std::size_t m) {
    check_rows(r, m, row, Columns::scalars, label);
    for (std::size_t j = 0; j < m; ++j) {
      const std::int64_t i = first + static_cast<std::int64_t>(j);
      if (std::isnan(r.log_weight_unrestricted[j]) || std::isnan(r.identity_log_weight[j]))
        throw numerical_error("analyze: configuration " + std::to_string(i) + " of " + std::string(1, label) +
                              "'s evaluation set has a NaN log-weight (a broken mapped file? `boltzmap map` again)");
      if (i % stride == 0) {
        out.energy.push_back(r.energy[j]);
        out.identity_energy.push_back(r.identity_energy[j]);
        out.mapped_energy.push_back(r.mapped_energy[j]);
      }
      out.max_identity = std::max(out.max_identity, r.identity_log_weight[j]);
      out.max_all = std::max(out.max_all, r.log_weight_unrestricted[j]);
      if (r.in_domain[j]) out.max_inside = std::max(out.max_inside, r.log_weight_unrestricted[j]);
      out.flow.add(restricted(r, j));
      out.identity.add(r.identity_log_weight[j]);
    }
  });
  return out;
}

// The global log Σ exp of a LogSum over the ranks.
double reduce_log_sum(const Comm& comm, const LogSum& l) {
  const double m = comm.max(l.max);
  if (m == -kInf) return -kInf;
  return m + std::log(comm.sum(l.max == -kInf ? 0.0 : l.sum * std::exp(l.max - m)));
}

// BAR's sums over both sides' rows on this rank for replicate r at Δ, reduced over the ranks:
// {Σ_F c f, Σ_R c f, Σ c f(1 − f)} with M = ln(n_F/n_R) of the replicate.
double bar_g(const Comm& comm, Side& a, Side& b, std::int64_t chunk, bool flow, int r, double M, double delta,
             double* slope) {
  std::array<double, 3> v{0, 0, 0};
  std::vector<std::uint8_t> c;
  for (Side* s : {&a, &b}) {
    const bool fwd = s == &a;
    each_chunk(comm, *s, chunk, Columns::weights, [&](const EvaluationRows& rows, std::int64_t first, std::size_t m) {
      c.resize(m);
      s->counts.fill_row(r, static_cast<std::size_t>(first), m, c.data());
      for (std::size_t j = 0; j < m; ++j) {
        const double lw = flow ? restricted(rows, j) : rows.identity_log_weight[j];
        if (c[j] == 0 || lw == -kInf) continue;
        const double f = fermi(fwd ? M - lw - delta : -M - lw + delta);
        v[fwd ? 0 : 1] += c[j] * f;
        v[2] += c[j] * f * (1 - f);
      }
    });
  }
  comm.allreduce_sum(std::span<double>(v));
  if (slope) *slope = v[2];
  return v[0] - v[1];
}

// BAR for replicate r (0 = the full sample) by passes over the rows: n_F, n_R its counts' totals.
double bar_exact(const Comm& comm, Side& a, Side& b, std::int64_t chunk, bool flow, int r, double n_f, double n_r,
                 double guess) {
  const double M = std::log(n_f / n_r);
  return bar_root([&](double delta, double* slope) { return bar_g(comm, a, b, chunk, flow, r, M, delta, slope); }, guess);
}

// The sums of pass 3 for one direction X → Y, fed by X's rows (identity and mapped sets) and by
// Y's rows (the reference).
struct DirectionSums {
  Bins e_bins, r_bins;
  double L_target;
  SetAccumulator reference, identity, mapped;
};

// moments [R + 1][kMomentCols] += counts [R + 1][m] · coefficients [m][kMomentCols]
void add_moments(std::span<const std::uint8_t> counts, const RowMat& coef, std::size_t m, int R1, double* moments) {
  const int blocks = (R1 + kReplicateBlock - 1) / kReplicateBlock;
  FirstError error;
#pragma omp parallel
  {
    RowMat c;
#pragma omp for schedule(dynamic)
    for (int blk = 0; blk < blocks; ++blk) error.run([&] {
      const int r0 = blk * kReplicateBlock, rows = std::min(kReplicateBlock, R1 - r0);
      c.resize(rows, static_cast<Eigen::Index>(m));
      for (int rr = 0; rr < rows; ++rr)
        for (std::size_t j = 0; j < m; ++j)
          c(rr, static_cast<Eigen::Index>(j)) = counts[static_cast<std::size_t>(r0 + rr) * m + j];
      Eigen::Map<RowMat> out(moments + static_cast<std::size_t>(r0) * kMomentCols, rows, kMomentCols);
      const Eigen::Map<const RowMat> g(coef.data(), static_cast<Eigen::Index>(m), kMomentCols);
      out.noalias() += c * g;
    });
  }
  error.rethrow();
}

// Per-configuration Taylor coefficients of BAR's term for log-weight lw: x = sign·(M₀ + lw) … see
// analyze(): forward x = M₀ − lw − Δ₀, reverse x = −M₀ − lw + Δ₀.
void fill_coefficients(RowMat& coef, std::size_t j, double lw, double x) {
  double* g = coef.row(static_cast<Eigen::Index>(j)).data();
  if (lw == -kInf) {
    std::fill(g, g + kMomentCols, 0.0);
  } else {
    fermi_taylor(x, g);
    g[kTaylorOrder + 1] = 1.0;
  }
  g[kTaylorOrder + 2] = 1.0;
}

// Replicate r's BAR root from the moments: Δ₀ + (M_r − M₀) − s_r, or NaN when a side has no
// weight; `exact` collects the replicates whose root lies beyond the series' range.
double bar_from_moments(const std::vector<double>& fwd, const std::vector<double>& rev, int r, double delta0, double M0,
                        std::vector<int>& exact) {
  const double* a = fwd.data() + static_cast<std::size_t>(r) * kMomentCols;
  const double* b = rev.data() + static_cast<std::size_t>(r) * kMomentCols;
  if (!std::isfinite(delta0) || !(a[kTaylorOrder + 1] > 0) || !(b[kTaylorOrder + 1] > 0)) return kNaN;
  const double Mr = std::log(a[kTaylorOrder + 2] / b[kTaylorOrder + 2]);
  const double s = taylor_bar_shift({a, kTaylorOrder + 1}, {b, kTaylorOrder + 1});
  if (std::isnan(s)) {
    exact.push_back(r);
    return kNaN;
  }
  return delta0 + (Mr - M0) - s;
}

// In-memory rows of one system (analyze on DirectionData).
class ArraySource final : public EvaluationSource {
 public:
  ArraySource(const DirectionData& own_map, const DirectionData& other, std::size_t row) : d_(own_map), o_(other), row_(row) {}
  std::int64_t size() const override { return static_cast<std::int64_t>(d_.mapped_energy.size()); }
  EvaluationRows rows(std::int64_t first, std::int64_t count, Columns columns) override {
    const auto f = static_cast<std::size_t>(first), m = static_cast<std::size_t>(count);
    EvaluationRows r;  // (in memory every column costs nothing: all but positions always)
    if (columns == Columns::all) {
      r.positions = o_.reference_positions.subspan(f * row_, m * row_);
      r.source_positions = d_.source_positions.subspan(f * row_, m * row_);
      r.mapped_positions = d_.mapped_positions.subspan(f * row_, m * row_);
    }
    r.energy = o_.reference_energy.subspan(f, m);
    r.mapped_energy = d_.mapped_energy.subspan(f, m);
    r.identity_energy = d_.identity_energy.subspan(f, m);
    r.log_weight_unrestricted = d_.log_weight_unrestricted.subspan(f, m);
    r.identity_log_weight = d_.identity_log_weight.subspan(f, m);
    r.in_domain = d_.in_domain.subspan(f, m);
    return r;
  }

 private:
  const DirectionData &d_, &o_;
  std::size_t row_;
};

void check_sizes(const DirectionData& d, int N, int D, const char* name) {
  const std::size_t row = static_cast<std::size_t>(N) * D, n = d.mapped_energy.size();
  if (d.source_positions.size() != n * row || d.mapped_positions.size() != n * row || d.identity_energy.size() != n ||
      d.log_weight_unrestricted.size() != n || d.identity_log_weight.size() != n || d.in_domain.size() != n ||
      d.reference_positions.size() != d.reference_energy.size() * row)
    throw Error(ExitCode::failure, std::string("analyze: inconsistent array sizes in direction ") + name);
}

}  // namespace

AnalysisResult analyze(EvaluationSource& src_a, EvaluationSource& src_b, int N, int D, double L,
                       const AnalysisOptions& o, const Comm& comm) {
  const std::int64_t n_a = src_a.size(), n_b = src_b.size();
  if (n_a == 0 || n_b == 0)
    throw input_error(std::string("analyze: system ") + (n_a == 0 ? "A" : "B") +
                      " has no configurations to analyse (evaluation set of size 0?)");
  if (o.scheme == BootstrapScheme::multinomial && comm.size() > 1)
    throw input_error("analysis.bootstrap_scheme = \"multinomial\" needs the whole evaluation set on one process (its "
                      "draws couple every configuration); on " + std::to_string(comm.size()) +
                      " ranks use \"poisson\" (the same replicates whatever the number of ranks), or run analyze on one rank");
  if (o.chunk < 1) throw Error(ExitCode::failure, "analyze: chunk < 1");
  const std::size_t row = static_cast<std::size_t>(N) * D;
  const int R1 = o.replicates + 1;
  const double L_b = o.box_length_b > 0.0 ? o.box_length_b : L;
  // One resampling per system's evaluation set, shared by every set built on those samples.
  Side a{src_a, n_a, block_of(n_a, comm.rank(), comm.size()),
         Resampler(o.scheme, o.replicates, static_cast<std::size_t>(n_a), derive_seed(o.seed, 10))};
  Side b{src_b, n_b, block_of(n_b, comm.rank(), comm.size()),
         Resampler(o.scheme, o.replicates, static_cast<std::size_t>(n_b), derive_seed(o.seed, 11))};

  // 1. Shifts, bins and starting guesses.
  SideScan sa = scan(comm, a, o.chunk, row, 'A'), sb = scan(comm, b, o.chunk, row, 'B');
  std::array<double, 6> maxima = {sa.max_identity, sa.max_inside, sa.max_all, sb.max_identity, sb.max_inside, sb.max_all};
  comm.allreduce_max(std::span<double>(maxima));
  for (auto* v : {&sa.energy, &sa.identity_energy, &sa.mapped_energy, &sb.energy, &sb.identity_energy, &sb.mapped_energy})
    *v = comm.allgather_concat(std::span<const double>(*v));
  const double lse_flow_a = reduce_log_sum(comm, sa.flow), lse_flow_b = reduce_log_sum(comm, sb.flow);
  const double lse_id_a = reduce_log_sum(comm, sa.identity), lse_id_b = reduce_log_sum(comm, sb.identity);
  const double ln_na = std::log(static_cast<double>(n_a)), ln_nb = std::log(static_cast<double>(n_b));
  // Exponential-averaging guesses (no coverage correction: only a starting point).
  const double guess_flow = 0.5 * (-(lse_flow_a - ln_na) + (lse_flow_b - ln_nb));
  const double guess_id = 0.5 * (-(lse_id_a - ln_na) + (lse_id_b - ln_nb));

  // 2. The full-sample BAR roots (NaN when a side has no weight).
  const double M0 = std::log(static_cast<double>(n_a) / static_cast<double>(n_b));
  const double bar0 = std::isfinite(maxima[1]) && std::isfinite(maxima[4])
                          ? bar_exact(comm, a, b, o.chunk, true, 0, static_cast<double>(n_a), static_cast<double>(n_b),
                                      std::isfinite(guess_flow) ? guess_flow : 0.0)
                          : kNaN;
  const double bar0_id = std::isfinite(maxima[0]) && std::isfinite(maxima[3])
                             ? bar_exact(comm, a, b, o.chunk, false, 0, static_cast<double>(n_a),
                                         static_cast<double>(n_b), std::isfinite(guess_id) ? guess_id : 0.0)
                             : kNaN;

  // 3. One pass for every set and replicate.
  auto direction = [&](bool ab) {
    const SideScan& src = ab ? sa : sb;
    const SideScan& ref = ab ? sb : sa;
    const Bins eb = energy_bins({&ref.energy, &src.identity_energy, &src.mapped_energy}, o.energy_bins);
    const double Lt = ab ? L_b : L;
    const int k = ab ? 0 : 3;
    return DirectionSums{eb,
                         Bins{0.0, 0.5 * Lt, o.rdf_bins},
                         Lt,
                         SetAccumulator(o.replicates, eb, Bins{0.0, 0.5 * Lt, o.rdf_bins}, {0.0, 0.0}, {0.0, 0.0}),
                         SetAccumulator(o.replicates, eb, Bins{0.0, 0.5 * Lt, o.rdf_bins}, {0.0, maxima[k]}, {0.0, maxima[k]}),
                         SetAccumulator(o.replicates, eb, Bins{0.0, 0.5 * Lt, o.rdf_bins}, {0.0, maxima[k + 1]},
                                        {0.0, maxima[k + 2]})};
  };
  DirectionSums ab = direction(true), ba = direction(false);
  // BAR moments [R + 1][kMomentCols]: flow and identity, forward (A's rows) and reverse (B's).
  std::vector<double> m_flow_a(static_cast<std::size_t>(R1) * kMomentCols, 0.0), m_flow_b = m_flow_a,
      m_id_a = m_flow_a, m_id_b = m_flow_a;
  {
    std::vector<std::uint8_t> counts;
    const std::unique_ptr<SetKernels> kernels = make_set_kernels(o.backend);
    RowMat coef(o.chunk, kMomentCols);
    for (Side* s : {&a, &b}) {
      const bool is_a = s == &a;
      DirectionSums& out = is_a ? ab : ba;     // X → Y: identity and mapped sets
      DirectionSums& back = is_a ? ba : ab;    // Y → X: X's rows are its reference
      const double L_own = is_a ? L : L_b;
      each_chunk(comm, *s, o.chunk, Columns::all, [&](const EvaluationRows& r, std::int64_t first, std::size_t m) {
        check_rows(r, m, row, Columns::all, is_a ? 'A' : 'B');
        counts.resize(static_cast<std::size_t>(R1) * m);
        s->counts.fill(static_cast<std::size_t>(first), m, counts.data());
        // The three sets of these rows (set_kernels.hpp: on the CPU or the GPU, the same sums).
        kernels->set_counts(counts, o.replicates, m);
        kernels->add(back.reference, r.positions, N, D, L_own, r.energy, {Weighting{}, Weighting{{}, r.in_domain}});
        kernels->add(out.identity, r.source_positions, N, D, out.L_target, r.identity_energy,
                     {Weighting{}, Weighting{r.identity_log_weight, {}}});
        kernels->add(out.mapped, r.mapped_positions, N, D, out.L_target, r.mapped_energy,
                     {Weighting{}, Weighting{r.log_weight_unrestricted, r.in_domain}});
        for (const bool flow : {true, false}) {
          const double d0 = flow ? bar0 : bar0_id;
          if (!std::isfinite(d0)) continue;
          for (std::size_t j = 0; j < m; ++j) {
            const double lw = flow ? restricted(r, j) : r.identity_log_weight[j];
            fill_coefficients(coef, j, lw, is_a ? M0 - lw - d0 : -M0 - lw + d0);
          }
          add_moments(counts, coef, m, R1, (flow ? (is_a ? m_flow_a : m_flow_b) : (is_a ? m_id_a : m_id_b)).data());
        }
      });
    }
    for (DirectionSums* d : {&ab, &ba})
      for (SetAccumulator* acc : {&d->reference, &d->identity, &d->mapped}) kernels->flush(*acc);
  }
  // The sums of every rank, added (one message).
  {
    std::vector<std::vector<double>*> parts = {&ab.reference.sums(), &ab.identity.sums(), &ab.mapped.sums(),
                                               &ba.reference.sums(), &ba.identity.sums(), &ba.mapped.sums(),
                                               &m_flow_a,            &m_flow_b,           &m_id_a,
                                               &m_id_b};
    std::vector<double> all;
    for (auto* p : parts) all.insert(all.end(), p->begin(), p->end());
    comm.allreduce_sum(std::span<double>(all));
    std::size_t at = 0;
    for (auto* p : parts) {
      std::copy(all.begin() + static_cast<std::ptrdiff_t>(at), all.begin() + static_cast<std::ptrdiff_t>(at + p->size()),
                p->begin());
      at += p->size();
    }
  }

  AnalysisResult res;
  res.replicates = o.replicates;
  auto finish = [&](DirectionSums& s, DirectionResult& r, double L_reference) {
    r.energy_bins = s.e_bins;
    r.r_bins = s.r_bins;
    auto ref = s.reference.finish(N, D, L_reference);
    auto id = s.identity.finish(N, D, s.L_target);
    auto mapped = s.mapped.finish(N, D, s.L_target);
    r.reference = std::move(ref[0]);
    r.reference_covered = std::move(ref[1]);
    r.untransformed = std::move(id[0]);
    r.identity = std::move(id[1]);
    r.raw = std::move(mapped[0]);
    r.reweighted = std::move(mapped[1]);
  };
  // Y → X's reference rows are X's, in X's box: the target's box of that direction.
  finish(ab, res.a_to_b, L_b);
  finish(ba, res.b_to_a, L);

  auto& f = res.a_to_b;
  auto& bk = res.b_to_a;
  for (auto* dr : {&f, &bk})
    for (auto* v : {&dr->delta_f, &dr->delta_f_uncorrected, &dr->delta_f_identity}) v->resize(R1);
  for (int r = 0; r < R1; ++r) {
    // c_A: share of A's samples whose A→B image stays in the domain (and c_B mirrored).
    const double c_a = f.reweighted.inside_fraction[r], c_b = bk.reweighted.inside_fraction[r];
    f.delta_f_uncorrected[r] = -f.reweighted.log_mean_weight[r];
    f.delta_f[r] = f.delta_f_uncorrected[r] + std::log(c_b);
    bk.delta_f_uncorrected[r] = bk.reweighted.log_mean_weight[r];
    bk.delta_f[r] = bk.delta_f_uncorrected[r] - std::log(c_a);
    f.delta_f_identity[r] = -f.identity.log_mean_weight[r];
    bk.delta_f_identity[r] = bk.identity.log_mean_weight[r];
  }
  res.delta_f_bar.assign(R1, kNaN);
  res.delta_f_bar_identity.assign(R1, kNaN);
  res.delta_f_bar[0] = bar0;
  res.delta_f_bar_identity[0] = bar0_id;
  std::vector<int> exact_flow, exact_id;
  for (int r = 1; r < R1; ++r) {
    res.delta_f_bar[r] = bar_from_moments(m_flow_a, m_flow_b, r, bar0, M0, exact_flow);
    res.delta_f_bar_identity[r] = bar_from_moments(m_id_a, m_id_b, r, bar0_id, M0, exact_id);
  }
  // Every rank must solve the same replicates directly (each solve is collective): the lists are
  // agreed on (an element-wise max of flags), not trusted to come out alike from the reduced sums.
  for (auto* list : {&exact_flow, &exact_id}) {
    std::vector<int> flag(static_cast<std::size_t>(R1), 0);
    for (int r : *list) flag[static_cast<std::size_t>(r)] = 1;
    comm.allreduce_max(std::span<int>(flag));
    list->clear();
    for (int r = 1; r < R1; ++r)
      if (flag[static_cast<std::size_t>(r)]) list->push_back(r);
  }
  // Replicates beyond the series' range: the direct solve (a few scalar passes each).
  for (const bool flow : {true, false})
    for (int r : flow ? exact_flow : exact_id) {
      const auto& ma = flow ? m_flow_a : m_id_a;
      const auto& mb = flow ? m_flow_b : m_id_b;
      const double n_f = ma[static_cast<std::size_t>(r) * kMomentCols + kTaylorOrder + 2];
      const double n_r = mb[static_cast<std::size_t>(r) * kMomentCols + kTaylorOrder + 2];
      (flow ? res.delta_f_bar : res.delta_f_bar_identity)[static_cast<std::size_t>(r)] =
          bar_exact(comm, a, b, o.chunk, flow, r, n_f, n_r, flow ? bar0 : bar0_id);
    }
  res.bar_replicates_solved_exactly = static_cast<int>(exact_flow.size() + exact_id.size());
  // The removed degrees of freedom (METHOD.md: "constants … removed degrees of freedom must be
  // tracked"). The weights integrate over the N − 1 free particles with particle c fixed at the
  // centre: they estimate ln Z′_B − ln Z′_A, Z′ = ∫ e^{−βU} d^{(N−1)D}x (box-scaling layer
  // included). The configurational integral over all N particles is Z = ∫_{V^N} e^{−βU} d^{ND}x
  // = V·Z′ (translation invariance), so β_B F_B − β_A F_A = −ln(Z_B/Z_A) = −ln(Z′_B/Z′_A) − ln(V_B/V_A),
  // with ln(V_B/V_A) = D·ln(L_B/L_A): zero when the boxes agree.
  const double volume_term = -static_cast<double>(D) * std::log(L_b / L);
  if (volume_term != 0.0)
    for (auto* v : {&f.delta_f, &f.delta_f_uncorrected, &f.delta_f_identity, &bk.delta_f, &bk.delta_f_uncorrected,
                    &bk.delta_f_identity, &res.delta_f_bar, &res.delta_f_bar_identity})
      for (double& x : *v) x += volume_term;
  return res;
}

AnalysisResult analyze(const DirectionData& ab, const DirectionData& ba, int N, int D, double L,
                       const AnalysisOptions& o) {
  check_sizes(ab, N, D, "A_to_B");
  check_sizes(ba, N, D, "B_to_A");
  if (ab.reference_energy.size() != ba.mapped_energy.size() || ba.reference_energy.size() != ab.mapped_energy.size())
    throw Error(ExitCode::failure, "analyze: each direction's reference must be the other's source samples");
  if (ab.mapped_energy.empty() || ba.mapped_energy.empty())
    throw input_error(std::string("analyze: direction ") + (ab.mapped_energy.empty() ? "A_to_B" : "B_to_A") +
                      " has no configurations (evaluation sets of size 0?)");
  const std::size_t row = static_cast<std::size_t>(N) * D;
  ArraySource a(ab, ba, row), b(ba, ab, row);
  return analyze(a, b, N, D, L, o, Comm(MPI_COMM_SELF));
}

}  // namespace boltzmap
