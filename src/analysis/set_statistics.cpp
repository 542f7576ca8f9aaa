// See set_statistics.hpp. Work is split into blocks of configurations; per block the pair
// histograms h_i are computed once (shared by every weighting) and each replicate's g(r) sum is
// one matrix product (multiplicity × weight) · h. Per-thread partial sums are added in thread
// order, so a run is reproducible for a given thread count.
#include "analysis/set_statistics.hpp"

#include "core/parallel_errors.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include <Eigen/Dense>

#include "core/error.hpp"

namespace boltzmap {

namespace {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
constexpr double kInf = std::numeric_limits<double>::infinity();

struct Sums {
  std::vector<double> s0, s1, s2, su, in, s1raw, s1out;  // [R + 1]
  RowMat hist, g;                                         // [R + 1][bins]
  Sums(int rows, int ebins, int rbins)
      : s0(rows), s1(rows), s2(rows), su(rows), in(rows), s1raw(rows), s1out(rows),
        hist(RowMat::Zero(rows, ebins)), g(RowMat::Zero(rows, rbins)) {}
  void add(const Sums& o) {
    for (std::size_t r = 0; r < s0.size(); ++r) {
      s0[r] += o.s0[r], s1[r] += o.s1[r], s2[r] += o.s2[r], su[r] += o.su[r];
      in[r] += o.in[r], s1raw[r] += o.s1raw[r], s1out[r] += o.s1out[r];
    }
    hist += o.hist;
    g += o.g;
  }
};

double max_log(std::span<const double> lw, std::span<const std::uint8_t> inside) {
  double m = -kInf;
  for (std::size_t i = 0; i < lw.size(); ++i)
    if ((inside.empty() || inside[i]) && lw[i] > m) m = lw[i];
  return m;
}

}  // namespace

std::vector<SetStatistics> set_statistics(std::span<const float> positions, std::span<const double> energy,
                                          int n_particles, int dim, double L, const std::vector<Weighting>& weightings,
                                          const BootstrapCounts& counts, const Bins& energy_bins, const Bins& r_bins) {
  const std::size_t n = energy.size(), row = static_cast<std::size_t>(n_particles) * dim;
  if (positions.size() != n * row || counts.n != n)
    throw Error(ExitCode::failure, "set_statistics: positions, energies and bootstrap counts disagree in size");
  for (const auto& w : weightings)
    if ((!w.log_w.empty() && w.log_w.size() != n) || (!w.inside.empty() && w.inside.size() != n))
      throw Error(ExitCode::failure, "set_statistics: a weighting's size differs from the set's");
  const int R1 = counts.replicates + 1, E = energy_bins.count, G = r_bins.count;
  const std::size_t K = weightings.size();
  // Shifts so the largest weight is 1 (restricted and unrestricted separately).
  std::vector<double> shift(K, 0.0), shift_raw(K, 0.0);
  for (std::size_t k = 0; k < K; ++k)
    if (!weightings[k].log_w.empty()) {
      shift[k] = max_log(weightings[k].log_w, weightings[k].inside);
      shift_raw[k] = max_log(weightings[k].log_w, {});
      if (!std::isfinite(shift[k])) shift[k] = 0.0;  // no weight inside the domain: all zero
      if (!std::isfinite(shift_raw[k])) shift_raw[k] = 0.0;
    }
  std::vector<int> ebin(n);
  for (std::size_t i = 0; i < n; ++i) ebin[i] = energy_bins.index(energy[i]);

  constexpr std::size_t kBlock = 256;
  const std::size_t blocks = (n + kBlock - 1) / kBlock;
  const int threads = omp_get_max_threads();
  std::vector<std::vector<Sums>> partial(threads);
  // Nothing may leave the parallel region: the buffers allocate (bad_alloc). Every thread still
  // reaches the loop's barrier; after a failure anywhere, the blocks are skipped.
  FirstError error;
#pragma omp parallel num_threads(threads)
  {
    auto& mine = partial[omp_get_thread_num()];
    RowMat h, cw;
    std::vector<double> w, wraw;
    error.run([&] {
      for (std::size_t k = 0; k < K; ++k) mine.emplace_back(R1, E, G);
      h.resize(kBlock, G);
      cw.resize(R1, kBlock);
      w.resize(kBlock);
      wraw.resize(kBlock);
    });
#pragma omp for schedule(static)
    for (std::size_t blk = 0; blk < blocks; ++blk) error.run([&] {
      if (error.failed()) return;
      const std::size_t i0 = blk * kBlock, m = std::min(kBlock, n - i0);
      h.setZero();
      for (std::size_t j = 0; j < m; ++j)
        add_pair_histogram(positions.data() + (i0 + j) * row, n_particles, dim, L, r_bins, h.row(j).data());
      for (std::size_t k = 0; k < K; ++k) {
        const Weighting& wt = weightings[k];
        Sums& s = mine[k];
        for (std::size_t j = 0; j < m; ++j) {
          const std::size_t i = i0 + j;
          const bool in = wt.inside.empty() || wt.inside[i];
          const double lw = wt.log_w.empty() ? 0.0 : wt.log_w[i];
          w[j] = in ? std::exp(lw - shift[k]) : 0.0;
          wraw[j] = std::exp(lw - shift_raw[k]);
        }
        cw.setZero();
        for (int r = 0; r < R1; ++r) {
          const std::uint8_t* c = counts.data.data() + static_cast<std::size_t>(r) * n + i0;
          for (std::size_t j = 0; j < m; ++j) {
            if (c[j] == 0) continue;
            const double cj = c[j], x = cj * w[j];
            const bool in = wt.inside.empty() || wt.inside[i0 + j];
            s.s0[r] += cj;
            s.s1[r] += x;
            s.s2[r] += x * w[j];
            if (x != 0.0) s.su[r] += x * energy[i0 + j];
            s.in[r] += in ? cj : 0.0;
            s.s1raw[r] += cj * wraw[j];
            s.s1out[r] += in ? 0.0 : cj * wraw[j];
            if (x == 0.0) continue;  // weight zero: its energy (even inf/NaN) must not enter
            if (ebin[i0 + j] >= 0) s.hist(r, ebin[i0 + j]) += x;
            cw(r, static_cast<Eigen::Index>(j)) = x;
          }
        }
        s.g.noalias() += cw.leftCols(static_cast<Eigen::Index>(m)) * h.topRows(static_cast<Eigen::Index>(m));
      }
    });
  }
  error.rethrow();
  const auto norm = rdf_normalisation(r_bins, n_particles, dim, L);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<SetStatistics> out(K);
  for (std::size_t k = 0; k < K; ++k) {
    Sums s(R1, E, G);
    for (int t = 0; t < threads; ++t)
      if (!partial[t].empty()) s.add(partial[t][k]);
    SetStatistics& o = out[k];
    o.energy_bins = E;
    o.rdf_bins = G;
    o.n = s.s0[0];
    for (auto* v : {&o.mean_energy, &o.ess, &o.ess_fraction, &o.log_mean_weight, &o.inside_fraction,
                    &o.outside_weight_fraction})
      v->assign(R1, nan);
    o.energy_histogram.assign(static_cast<std::size_t>(R1) * E, nan);
    o.rdf.assign(static_cast<std::size_t>(R1) * G, nan);
    for (int r = 0; r < R1; ++r) {
      if (s.s0[r] > 0) {
        o.inside_fraction[r] = s.in[r] / s.s0[r];
        o.log_mean_weight[r] = std::log(s.s1[r] / s.s0[r]) + shift[k];
      }
      if (s.s1raw[r] > 0) o.outside_weight_fraction[r] = s.s1out[r] / s.s1raw[r];
      if (!(s.s1[r] > 0)) continue;  // no configuration of non-zero weight in this replicate
      o.mean_energy[r] = s.su[r] / s.s1[r];
      o.ess[r] = s.s1[r] * s.s1[r] / s.s2[r];
      o.ess_fraction[r] = o.ess[r] / s.s0[r];
      for (int b = 0; b < E; ++b) o.energy_histogram[static_cast<std::size_t>(r) * E + b] = s.hist(r, b) / (s.s1[r] * energy_bins.width());
      for (int b = 0; b < G; ++b) o.rdf[static_cast<std::size_t>(r) * G + b] = s.g(r, b) / s.s1[r] * norm[b];
    }
  }
  return out;
}

}  // namespace boltzmap
