// See loss.hpp.
#include "flow/loss.hpp"

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

LatentEnergy::LatentEnergy(const Preprocessor& pre, const System& sys, double clamp_start)
    : pre_(pre), sys_(sys), clamp_start_(clamp_start), w_inv_(pre.pca().inverse_matrix()) {}

std::vector<double> LatentEnergy::configuration(const double* z) const {
  const int N = pre_.n_particles(), D = pre_.dim(), m = pre_.latent_dim();
  const double L = pre_.box_length();
  const Eigen::VectorXd y = w_inv_ * Eigen::Map<const Eigen::VectorXd>(z, m) + pre_.pca().mean();
  std::vector<double> x(static_cast<std::size_t>(N) * D);
  for (int d = 0; d < D; ++d) x[d] = 0.5 * L;  // the re-inserted central particle
  for (int k = 0; k < m; ++k) x[D + k] = wrap_into_box(y(k), L, 1.0 / L);
  return x;
}

void LatentEnergy::evaluate(const RealNvp<double>::Mat& z, RealNvp<double>::Vec& e, RealNvp<double>::Mat* gz) const {
  const int rows = static_cast<int>(z.rows()), N = pre_.n_particles(), D = pre_.dim(), m = pre_.latent_dim();
  e.resize(rows);
  if (gz) gz->resize(rows, m);
#pragma omp parallel for schedule(static)
  for (int r = 0; r < rows; ++r) {
    const std::vector<double> x = configuration(z.row(r).data());
    double slope = 0.0;
    const double a = sys_.beta * total_energy<double>(sys_, x);
    e(r) = clamp_reduced_energy(a, clamp_start_, &slope);
    if (!gz) continue;
    std::vector<double> f(x.size());
    forces<double>(sys_, x, f);
    // ∂e/∂y_k = slope·β·(−F) for the N − 1 non-central particles; ∂e/∂z = W⁻ᵀ ∂e/∂y.
    Eigen::VectorXd gy(m);
    for (int k = 0; k < m; ++k) gy(k) = -slope * sys_.beta * f[D + k];
    gz->row(r) = (w_inv_.transpose() * gy).transpose();
  }
  (void)N;
}

LossValues losses(const RealNvp<double>& flow, const LatentEnergy& energy_a, const LatentEnergy& energy_b,
                  const RealNvp<double>::Mat& z_a, const RealNvp<double>::Mat& z_b, double lambda_dir,
                  double lambda_inv, std::vector<double>* grad) {
  using Mat = RealNvp<double>::Mat;
  using Vec = RealNvp<double>::Vec;
  LossValues out;
  if (grad && grad->size() != flow.parameter_count()) grad->assign(flow.parameter_count(), 0.0);
  RealNvp<double>::Cache cache;
  Mat mapped, g_in, g_e;
  Vec logdet, e;
  if (lambda_dir != 0.0 && z_b.rows() > 0) {  // B → A through F⁻¹, energies of A
    const double n = static_cast<double>(z_b.rows());
    flow.inverse(z_b, mapped, logdet, grad ? &cache : nullptr);
    energy_a.evaluate(mapped, e, grad ? &g_e : nullptr);
    out.dir = (e - logdet).mean();
    if (grad) {
      const Mat g_x = (lambda_dir / n) * g_e;
      const Vec g_ld = Vec::Constant(z_b.rows(), -lambda_dir / n);
      flow.backward_inverse(cache, g_x, g_ld, *grad, g_in);
    }
  }
  if (lambda_inv != 0.0 && z_a.rows() > 0) {  // A → B through F, energies of B
    const double n = static_cast<double>(z_a.rows());
    flow.forward(z_a, mapped, logdet, grad ? &cache : nullptr);
    energy_b.evaluate(mapped, e, grad ? &g_e : nullptr);
    out.inv = (e - logdet).mean();
    if (grad) {
      const Mat g_y = (lambda_inv / n) * g_e;
      const Vec g_ld = Vec::Constant(z_a.rows(), -lambda_inv / n);
      flow.backward_forward(cache, g_y, g_ld, *grad, g_in);
    }
  }
  return out;
}

}  // namespace boltzmap
