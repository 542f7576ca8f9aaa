// See set_statistics.hpp. Per chunk the pair histograms h_i are computed once (shared by every
// weighting); each replicate's g(r) sum is a matrix product (multiplicity × weight) · h, formed
// for blocks of replicates, one block per thread.
#include "analysis/set_statistics.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Dense>

#include "analysis/set_terms.hpp"
#include "core/error.hpp"
#include "core/parallel_errors.hpp"

namespace boltzmap {

namespace {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kScalars = kSetScalars;  // set_terms.hpp: s0 = Σc, s1 = Σcw, s2 = Σcw², su = ΣcwU, in, s1raw, s1out
constexpr int kReplicateBlock = 16;

}  // namespace

double max_log_weight(std::span<const double> lw, std::span<const std::uint8_t> inside) {
  double m = -kInf;
  for (std::size_t i = 0; i < lw.size(); ++i)
    if ((inside.empty() || inside[i]) && lw[i] > m) m = lw[i];
  return m;
}

void pair_histograms(std::span<const float> positions, std::size_t m, int N, int D, double L, const Bins& r_bins,
                     std::vector<double>& h) {
  const std::size_t row = static_cast<std::size_t>(N) * D, G = static_cast<std::size_t>(r_bins.count);
  if (positions.size() != m * row) throw Error(ExitCode::failure, "pair_histograms: positions of the wrong size");
  h.assign(m * G, 0.0);
#pragma omp parallel for schedule(static)
  for (std::size_t j = 0; j < m; ++j) add_pair_histogram(positions.data() + j * row, N, D, L, r_bins, h.data() + j * G);
}

SetAccumulator::SetAccumulator(int replicates, const Bins& energy_bins, const Bins& r_bins, std::vector<double> shift,
                               std::vector<double> shift_raw)
    : R1_(replicates + 1), E_(energy_bins.count), G_(r_bins.count), energy_bins_(energy_bins), r_bins_(r_bins),
      shift_(std::move(shift)), shift_raw_(std::move(shift_raw)) {
  if (shift_.size() != shift_raw_.size()) throw Error(ExitCode::failure, "SetAccumulator: shifts disagree in number");
  for (auto* v : {&shift_, &shift_raw_})
    for (double& x : *v)
      if (!std::isfinite(x)) x = 0.0;  // no weight (inside the domain): all zero, any shift will do
  per_weighting_ = static_cast<std::size_t>(R1_) * (kScalars + E_ + G_);
  sums_.assign(per_weighting_ * shift_.size(), 0.0);
}

void SetAccumulator::add(std::span<const double> h, std::span<const double> energy,
                         const std::vector<Weighting>& weightings, std::span<const std::uint8_t> counts, std::size_t m) {
  const std::size_t K = shift_.size(), G = static_cast<std::size_t>(G_);
  if (weightings.size() != K || energy.size() != m || h.size() != m * G || counts.size() != static_cast<std::size_t>(R1_) * m)
    throw Error(ExitCode::failure, "SetAccumulator: a chunk's arrays disagree in size");
  for (const auto& w : weightings)
    if ((!w.log_w.empty() && w.log_w.size() != m) || (!w.inside.empty() && w.inside.size() != m))
      throw Error(ExitCode::failure, "SetAccumulator: a weighting's size differs from the chunk's");
  if (m == 0) return;
  std::vector<int> ebin(m);
  for (std::size_t j = 0; j < m; ++j) ebin[j] = energy_bins_.index(energy[j]);
  const Eigen::Map<const RowMat> hm(h.data(), static_cast<Eigen::Index>(m), static_cast<Eigen::Index>(G));
  std::vector<double> w(m), wraw(m);
  std::vector<std::uint8_t> in(m);
  const int blocks = (R1_ + kReplicateBlock - 1) / kReplicateBlock;
  for (std::size_t k = 0; k < K; ++k) {
    const Weighting& wt = weightings[k];
    const double* lw = wt.log_w.empty() ? nullptr : wt.log_w.data();
    const std::uint8_t* inside = wt.inside.empty() ? nullptr : wt.inside.data();
    for (std::size_t j = 0; j < m; ++j) {
      const RowWeight rw = row_weight(lw, inside, j, shift_[k], shift_raw_[k]);
      in[j] = rw.in;
      w[j] = rw.w;
      wraw[j] = rw.wraw;
    }
    double* base = sums_.data() + k * per_weighting_;
    double* hist = base + static_cast<std::size_t>(kScalars) * R1_;
    double* g = hist + static_cast<std::size_t>(R1_) * E_;
    FirstError error;  // nothing may leave the parallel region (the block buffer allocates)
#pragma omp parallel
    {
      RowMat cw;
#pragma omp for schedule(dynamic)
      for (int blk = 0; blk < blocks; ++blk) error.run([&] {
        const int r0 = blk * kReplicateBlock, rows = std::min(kReplicateBlock, R1_ - r0);
        cw.setZero(rows, static_cast<Eigen::Index>(m));
        for (int rr = 0; rr < rows; ++rr) {
          const int r = r0 + rr;
          const std::uint8_t* c = counts.data() + static_cast<std::size_t>(r) * m;
          ScalarSums s;
          for (std::size_t j = 0; j < m; ++j) {
            if (c[j] == 0) continue;
            const double x = s.add(c[j], w[j], wraw[j], in[j] != 0, energy[j]);
            if (x == 0.0) continue;
            if (ebin[j] >= 0) hist[static_cast<std::size_t>(r) * E_ + ebin[j]] += x;
            cw(rr, static_cast<Eigen::Index>(j)) = x;
          }
          for (int q = 0; q < kScalars; ++q) base[static_cast<std::size_t>(q) * R1_ + r] += s.get(q);
        }
        Eigen::Map<RowMat> gb(g + static_cast<std::size_t>(r0) * G, rows, static_cast<Eigen::Index>(G));
        gb.noalias() += cw * hm;
      });
    }
    error.rethrow();
  }
}

std::vector<SetStatistics> SetAccumulator::finish(int n_particles, int dim, double L) const {
  const auto norm = rdf_normalisation(r_bins_, n_particles, dim, L);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<SetStatistics> out(shift_.size());
  for (std::size_t k = 0; k < shift_.size(); ++k) {
    const double* base = sums_.data() + k * per_weighting_;
    auto scalar = [&](int q, int r) { return base[static_cast<std::size_t>(q) * R1_ + r]; };
    const double* hist = base + static_cast<std::size_t>(kScalars) * R1_;
    const double* g = hist + static_cast<std::size_t>(R1_) * E_;
    SetStatistics& o = out[k];
    o.energy_bins = E_;
    o.rdf_bins = G_;
    o.n = scalar(0, 0);
    for (auto* v : {&o.mean_energy, &o.ess, &o.ess_fraction, &o.log_mean_weight, &o.inside_fraction,
                    &o.outside_weight_fraction})
      v->assign(R1_, nan);
    o.energy_histogram.assign(static_cast<std::size_t>(R1_) * E_, nan);
    o.rdf.assign(static_cast<std::size_t>(R1_) * G_, nan);
    for (int r = 0; r < R1_; ++r) {
      const double s0 = scalar(0, r), s1 = scalar(1, r), s2 = scalar(2, r), su = scalar(3, r), in = scalar(4, r),
                   s1raw = scalar(5, r), s1out = scalar(6, r);
      if (s0 > 0) {
        o.inside_fraction[r] = in / s0;
        o.log_mean_weight[r] = std::log(s1 / s0) + shift_[k];
      }
      if (s1raw > 0) o.outside_weight_fraction[r] = s1out / s1raw;
      if (!(s1 > 0)) continue;  // no configuration of non-zero weight in this replicate
      o.mean_energy[r] = su / s1;
      o.ess[r] = s1 * s1 / s2;
      o.ess_fraction[r] = o.ess[r] / s0;
      for (int b = 0; b < E_; ++b)
        o.energy_histogram[static_cast<std::size_t>(r) * E_ + b] = hist[static_cast<std::size_t>(r) * E_ + b] / (s1 * energy_bins_.width());
      for (int b = 0; b < G_; ++b)
        o.rdf[static_cast<std::size_t>(r) * G_ + b] = g[static_cast<std::size_t>(r) * G_ + b] / s1 * norm[b];
    }
  }
  return out;
}

std::vector<SetStatistics> set_statistics(std::span<const float> positions, std::span<const double> energy,
                                          int n_particles, int dim, double L, const std::vector<Weighting>& weightings,
                                          const BootstrapCounts& counts, const Bins& energy_bins, const Bins& r_bins) {
  const std::size_t n = energy.size(), row = static_cast<std::size_t>(n_particles) * dim;
  if (positions.size() != n * row || counts.n != n)
    throw Error(ExitCode::failure, "set_statistics: positions, energies and bootstrap counts disagree in size");
  std::vector<double> shift, shift_raw;
  for (const auto& w : weightings) {
    if ((!w.log_w.empty() && w.log_w.size() != n) || (!w.inside.empty() && w.inside.size() != n))
      throw Error(ExitCode::failure, "set_statistics: a weighting's size differs from the set's");
    shift.push_back(w.log_w.empty() ? 0.0 : max_log_weight(w.log_w, w.inside));
    shift_raw.push_back(w.log_w.empty() ? 0.0 : max_log_weight(w.log_w, {}));
  }
  SetAccumulator acc(counts.replicates, energy_bins, r_bins, shift, shift_raw);
  std::vector<double> h;
  pair_histograms(positions, n, n_particles, dim, L, r_bins, h);
  acc.add(h, energy, weightings, counts.data, n);
  return acc.finish(n_particles, dim, L);
}

}  // namespace boltzmap
