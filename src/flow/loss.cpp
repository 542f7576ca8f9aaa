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
    if (slope == 0.0) {  // the capped regime (or NaN): constant energy, no gradient (and no 0·NaN)
      gz->row(r).setZero();
      continue;
    }
    std::vector<double> f(x.size());
    forces<double>(sys_, x, f);
    // ∂e/∂y_k = slope·β·(−F) for the N − 1 non-central particles; ∂e/∂z = W⁻ᵀ ∂e/∂y.
    Eigen::VectorXd gy(m);
    for (int k = 0; k < m; ++k) gy(k) = -slope * sys_.beta * f[D + k];
    gz->row(r) = (w_inv_.transpose() * gy).transpose();
  }
  (void)N;
}

template <class T>
LossValues losses(const RealNvp<T>& flow, const LatentEnergyBase& energy_a, const LatentEnergyBase& energy_b,
                  const typename RealNvp<T>::Mat& z_a, const typename RealNvp<T>::Mat& z_b, double lambda_dir,
                  double lambda_inv, ParamVector<T>* grad, typename RealNvp<T>::Cache* cache_in) {
  using Mat = typename RealNvp<T>::Mat;
  using Vec = typename RealNvp<T>::Vec;
  LossValues out;
  if (grad && grad->size() != flow.parameter_count()) grad->assign(flow.parameter_count(), T(0));
  typename RealNvp<T>::Cache local;
  typename RealNvp<T>::Cache& cache = cache_in ? *cache_in : local;
  Mat mapped, g_in;
  Vec logdet;
  RealNvp<double>::Mat g_e;
  RealNvp<double>::Vec e;
  // One direction: map with `apply`, energies with `energy`, backward with `back`.
  auto term = [&](const Mat& z, double lambda, const LatentEnergyBase& energy, bool inverse) {
    const double n = static_cast<double>(z.rows());
    if (inverse)
      flow.inverse(z, mapped, logdet, &cache);
    else
      flow.forward(z, mapped, logdet, &cache);
    energy.evaluate(mapped.template cast<double>(), e, grad ? &g_e : nullptr);
    const double value = (e - logdet.template cast<double>()).mean();
    if (grad) {
      const Mat g_out = ((lambda / n) * g_e).template cast<T>();
      const Vec g_ld = Vec::Constant(z.rows(), static_cast<T>(-lambda / n));
      if (inverse)
        flow.backward_inverse(cache, g_out, g_ld, *grad, g_in);
      else
        flow.backward_forward(cache, g_out, g_ld, *grad, g_in);
    }
    return value;
  };
  if (lambda_dir != 0.0 && z_b.rows() > 0) out.dir = term(z_b, lambda_dir, energy_a, true);   // B → A: F⁻¹, U_A
  if (lambda_inv != 0.0 && z_a.rows() > 0) out.inv = term(z_a, lambda_inv, energy_b, false);  // A → B: F, U_B
  return out;
}

template LossValues losses<float>(const RealNvp<float>&, const LatentEnergyBase&, const LatentEnergyBase&,
                                  const RealNvp<float>::Mat&, const RealNvp<float>::Mat&, double, double,
                                  ParamVector<float>*, RealNvp<float>::Cache*);
template LossValues losses<double>(const RealNvp<double>&, const LatentEnergyBase&, const LatentEnergyBase&,
                                   const RealNvp<double>::Mat&, const RealNvp<double>::Mat&, double, double,
                                   ParamVector<double>*, RealNvp<double>::Cache*);

}  // namespace boltzmap
