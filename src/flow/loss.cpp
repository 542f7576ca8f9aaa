// See loss.hpp. A training step's buffers all persist: the flow's in LossWorkspace::flow, the
// energies' inputs and outputs in the rest of the LossWorkspace, each row's configuration and
// forces in the LatentEnergy (per thread).
#include "flow/loss.hpp"

#include "core/parallel_errors.hpp"

#include <omp.h>

#include <cmath>

#include "physics/box.hpp"

namespace boltzmap {

double clamp_reduced_energy(double a, double e_c, double* slope) {
  constexpr double cap = 1e20;
  if (!(a <= cap)) {  // NaN or above 10²⁰
    if (slope) *slope = 0.0;
    return e_c + std::log1p(cap - e_c);
  }
  if (a < e_c) {
    if (slope) *slope = 1.0;
    return a;
  }
  if (slope) *slope = 1.0 / (1.0 + a - e_c);
  return e_c + std::log1p(a - e_c);
}

LatentEnergy::LatentEnergy(const Preprocessor& pre, const System& sys, double clamp_start, char label)
    : pre_(pre),
      sys_(sys),
      clamp_start_(clamp_start),
      scale_(pre.box_length(label) / pre.box_length()),
      box_log_det_(label == 'B' ? pre.box_log_det() : 0.0),
      w_inv_(pre.pca().inverse_matrix()) {}

std::vector<double> LatentEnergy::configuration(const double* z) const {
  std::vector<double> x(static_cast<std::size_t>(pre_.n_particles()) * pre_.dim());
  configuration(z, x.data());
  return x;
}

void LatentEnergy::configuration(const double* z, double* x) const {
  const int D = pre_.dim(), m = pre_.latent_dim();
  const double L = pre_.box_length();
  Eigen::Map<Eigen::VectorXd> y(x + D, m);  // y = W⁻¹ z + μ, in place of the wrapped coordinates
  y.noalias() = w_inv_ * Eigen::Map<const Eigen::VectorXd>(z, m);
  y += pre_.pca().mean();
  for (int d = 0; d < D; ++d) x[d] = 0.5 * L * scale_;  // the re-inserted central particle
  for (int k = 0; k < m; ++k) x[D + k] = scale_ * wrap_into_box(x[D + k], L, 1.0 / L);  // then the box scaling
}

void LatentEnergy::evaluate_row(const double* z, double& e, double* gz, double* x, double* f) const {
  const int D = pre_.dim(), m = pre_.latent_dim(), nd = pre_.n_particles() * D;
  configuration(z, x);
  double slope = 0.0;
  const double a = sys_.beta * total_energy<double>(sys_, std::span<const double>(x, nd));
  e = clamp_reduced_energy(a, clamp_start_, &slope);
  if (!gz) return;
  Eigen::Map<Eigen::VectorXd> g(gz, m);
  if (slope == 0.0) {  // the capped regime (or NaN): constant energy, no gradient (and no 0·NaN)
    g.setZero();
    return;
  }
  forces<double>(sys_, std::span<const double>(x, nd), std::span<double>(f, nd));
  // ∂e/∂y_k = slope·β·(−F)·s for the N − 1 non-central particles (in place of their forces; s the
  // box scaling x = s·y, 1 for A); ∂e/∂z = W⁻ᵀ ∂e/∂y.
  Eigen::Map<Eigen::VectorXd> gy(f + D, m);
  for (int k = 0; k < m; ++k) gy(k) = -slope * sys_.beta * scale_ * gy(k);
  g.noalias() = w_inv_.transpose() * gy;
}

void LatentEnergy::evaluate(const Flow<double>::Mat& z, Flow<double>::Vec& e, Flow<double>::Mat* gz) const {
  const int rows = static_cast<int>(z.rows()), nd = pre_.n_particles() * pre_.dim();
  e.resize(rows);
  if (gz) gz->resize(rows, pre_.latent_dim());
  // Scratch per thread: a configuration and its forces. One thread runs without a parallel
  // region: libgomp allocates (and frees) a team for every one-thread region.
  const int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
  const std::size_t per_thread = 2 * static_cast<std::size_t>(nd);
  if (scratch_.size() < per_thread * threads) scratch_.resize(per_thread * threads);
  auto row = [&](int r, double* x) { evaluate_row(z.row(r).data(), e(r), gz ? gz->row(r).data() : nullptr, x, x + nd); };
  if (threads == 1) {
    for (int r = 0; r < rows; ++r) row(r, scratch_.data());
    return;
  }
  FirstError error;  // nothing may leave the parallel region
#pragma omp parallel num_threads(threads)
  {
    double* x = scratch_.data() + per_thread * omp_get_thread_num();
#pragma omp for schedule(static)
    for (int r = 0; r < rows; ++r) error.run([&] { row(r, x); });
  }
  error.rethrow();
}

namespace {

// One term: map z with F⁻¹ (inverse) or F, the energies of the result, Σ(e − log|det|)/n — the
// mean when n is z's row count, one rank's share of the mean when n is the whole batch's — and
// (grad non-null) the λ-weighted backward pass of that. The log|det| of the whole map from the
// source's box to the target's (energy's) is the flow's plus the box-scaling layer's constant
// energy.box_log_det() − source.box_log_det(): +(N − 1)·D·ln s in L_inv (A → B), −(N − 1)·D·ln s
// in L_dir (B → A), 0 when the boxes agree (preprocessor.hpp). It changes no gradient.
template <class T>
double loss_term(const Flow<T>& flow, const LatentEnergyBase& energy, const LatentEnergyBase& source,
                 const typename Flow<T>::Mat& z, double lambda, bool inverse, ParamVector<T>* grad,
                 LossWorkspace<T>& w, double n) {
  if (!w.flow) w.flow = flow.make_cache();
  if (inverse)
    flow.inverse(z, w.mapped, w.logdet, w.flow.get());
  else
    flow.forward(z, w.mapped, w.logdet, w.flow.get());
  w.mapped_double = w.mapped.template cast<double>();
  energy.evaluate(w.mapped_double, w.energy, grad ? &w.g_energy : nullptr);
  const double box = energy.box_log_det() - source.box_log_det();  // per row
  const double value = ((w.energy - w.logdet.template cast<double>()).sum() - box * static_cast<double>(z.rows())) / n;
  if (grad) {
    w.g_mapped = ((lambda / n) * w.g_energy).template cast<T>();
    w.g_logdet.setConstant(z.rows(), static_cast<T>(-lambda / n));
    if (inverse)
      flow.backward_inverse(*w.flow, w.g_mapped, w.g_logdet, *grad, w.g_input);
    else
      flow.backward_forward(*w.flow, w.g_mapped, w.g_logdet, *grad, w.g_input);
  }
  return value;
}

}  // namespace

template <class T>
LossValues losses(const Flow<T>& flow, const LatentEnergyBase& energy_a, const LatentEnergyBase& energy_b,
                  const typename Flow<T>::Mat& z_a, const typename Flow<T>::Mat& z_b, double lambda_dir,
                  double lambda_inv, ParamVector<T>* grad, LossWorkspace<T>* work, std::int64_t batch_rows) {
  LossValues out;
  if (grad && grad->size() != flow.parameter_count()) grad->assign(flow.parameter_count(), T(0));
  LossWorkspace<T> local;
  LossWorkspace<T>& w = work ? *work : local;
  const auto n = [batch_rows](const auto& z) { return static_cast<double>(batch_rows > 0 ? batch_rows : z.rows()); };
  if (lambda_dir != 0.0 && z_b.rows() > 0) out.dir = loss_term(flow, energy_a, energy_b, z_b, lambda_dir, true, grad, w, n(z_b));   // B → A: F⁻¹, U_A
  if (lambda_inv != 0.0 && z_a.rows() > 0) out.inv = loss_term(flow, energy_b, energy_a, z_a, lambda_inv, false, grad, w, n(z_a));  // A → B: F, U_B
  return out;
}

template LossValues losses<float>(const Flow<float>&, const LatentEnergyBase&, const LatentEnergyBase&,
                                  const Flow<float>::Mat&, const Flow<float>::Mat&, double, double,
                                  ParamVector<float>*, LossWorkspace<float>*, std::int64_t);
template LossValues losses<double>(const Flow<double>&, const LatentEnergyBase&, const LatentEnergyBase&,
                                   const Flow<double>::Mat&, const Flow<double>::Mat&, double, double,
                                   ParamVector<double>*, LossWorkspace<double>*, std::int64_t);

}  // namespace boltzmap
