// See loss.hpp. A training step's buffers all persist: the flow's in LossWorkspace::flow, the
// energies' inputs and outputs in the rest of the LossWorkspace, each row's configuration and
// forces in the LatentEnergy (per thread).
#include "flow/loss.hpp"

#include "core/parallel_errors.hpp"

#include <omp.h>

#include <cmath>

#include "physics/box.hpp"

namespace boltzmap {

LatentEnergy::LatentEnergy(const Preprocessor& pre, const System& sys, double clamp_start, char label)
    : pre_(pre),
      sys_(sys),
      clamp_start_(clamp_start),
      scale_(pre.box_length(label) / pre.box_length()),
      box_log_det_(label == 'B' ? pre.box_log_det() : 0.0),
      w_inv_(pre.pca().inverse_matrix()) {
  row_.system = sys_;
  row_.box_length = pre.box_length();
  row_.scale = scale_;
  row_.clamp_start = clamp_start_;
  row_.latent_dim = pre.latent_dim();
}

std::vector<double> LatentEnergy::configuration(const double* z) const {
  std::vector<double> x(static_cast<std::size_t>(pre_.n_particles()) * pre_.dim());
  configuration(z, x.data());
  return x;
}

void LatentEnergy::configuration(const double* z, double* x) const {
  const int D = pre_.dim(), m = pre_.latent_dim();
  Eigen::Map<Eigen::VectorXd> y(x + D, m);  // y = W⁻¹ z + μ, in place (each y_k is read before x_{1+k} is written)
  y.noalias() = w_inv_ * Eigen::Map<const Eigen::VectorXd>(z, m);
  y += pre_.pca().mean();
  latent_row_configuration(row_, x + D, x);
}

void LatentEnergy::evaluate_row(const double* z, double& e, double* gz, double* x, double* f) const {
  const int D = pre_.dim(), m = pre_.latent_dim();
  // y = W⁻¹ z + μ in f's tail (read before the forces overwrite f), the shared row maths
  // (flow/latent_row.hpp), ∂e/∂y in place of the same tail, then ∂e/∂z = W⁻ᵀ ∂e/∂y.
  Eigen::Map<Eigen::VectorXd> y(f + D, m);
  y.noalias() = w_inv_ * Eigen::Map<const Eigen::VectorXd>(z, m);
  y += pre_.pca().mean();
  e = latent_row_energy(row_, f + D, x, f, gz ? f + D : nullptr);
  if (gz) Eigen::Map<Eigen::VectorXd>(gz, m).noalias() = w_inv_.transpose() * y;
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
