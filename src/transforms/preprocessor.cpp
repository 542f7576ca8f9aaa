// See preprocessor.hpp.
#include "transforms/preprocessor.hpp"

#include <cmath>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "physics/box.hpp"
#include "core/rng.hpp"
#include "transforms/preprocess_row.hpp"
#include "transforms/symmetry.hpp"
#include "transforms/wrap.hpp"

namespace boltzmap {

namespace {
// Buffers that the PCA's Eigen products read: aligned, so results do not depend on where malloc
// put them (Eigen's vectorised reductions peel unaligned heads).
using AlignedFloats = std::vector<float, Eigen::aligned_allocator<float>>;

// One row's workspace of the row functions (preprocess_row.hpp) in host memory: one per thread.
struct HostRowScratch {
  std::vector<float> f;
  std::vector<double> d;
  std::vector<int> i;
  PreprocessRowScratch s;
  HostRowScratch(int n, int dim)
      : f(preprocess_row_floats(n, dim)),
        d(preprocess_row_doubles(n)),
        i(preprocess_row_ints(n)),
        s(preprocess_row_scratch(f.data(), d.data(), i.data(), n, dim)) {}
};
}  // namespace

Preprocessor::Preprocessor(const PreprocessSettings& settings, int n_particles, int dim, double L, double L_b)
    : settings_(settings),
      n_(n_particles),
      dim_(dim),
      L_(L),
      L_b_(L_b > 0.0 ? L_b : L),
      // The torus space relabels nothing: its sites are unused zeros, and any N fits it.
      relabel_(settings.torus ? std::vector<double>(static_cast<std::size_t>(n_particles - 1) * dim, 0.0)
                              : reference_sites(settings.reference_lattice, dim, n_particles, L),
               dim, L) {}

double Preprocessor::box_log_det() const {
  return static_cast<double>(n_ - 1) * dim_ * std::log(L_b_ / L_);
}

void scale_coordinates(std::span<float> x, double factor, double L_new) {
  if (factor == 1.0) return;
  for (float& v : x) v = scale_coordinate(v, factor, L_new);
}

void Preprocessor::into_preprocessing_box(char label, std::span<float> x) const {
  if (label == 'B') scale_coordinates(x, L_ / L_b_, L_);
}

void Preprocessor::out_of_preprocessing_box(char label, std::span<float> x) const {
  if (label == 'B') scale_coordinates(x, L_b_ / L_, L_b_);
}

void Preprocessor::training_choices(std::uint64_t seed, std::uint64_t first_id, std::span<int> centre,
                                    std::span<int> element) const {
  const auto order = static_cast<std::uint32_t>(symmetry_group_order(dim_));
  for (size_t r = 0; r < centre.size(); ++r) {
    const std::uint64_t id = first_id + r;
    const Random4 q = philox(seed, RngStream::Augment, static_cast<std::uint32_t>(id), id >> 32);
    centre[r] = settings_.centre == "random" ? static_cast<int>(uniform_index(q.v[0], static_cast<std::uint32_t>(n_))) : 0;
    element[r] = settings_.augment ? static_cast<int>(uniform_index(q.v[1], order)) : 0;
  }
}

void Preprocessor::evaluation_choices(std::span<int> centre, std::span<int> element) {
  std::fill(centre.begin(), centre.end(), 0);
  std::fill(element.begin(), element.end(), 0);
}

PreprocessRowParams Preprocessor::row_params(bool wrap) const {
  PreprocessRowParams p;
  p.n = n_;
  p.dim = dim_;
  p.L = L_;
  p.relabel = !settings_.torus;
  p.sites = relabel_.site_coordinates().data();
  p.centres = wrap && fitted() ? centres_.data() : nullptr;
  return p;
}

void Preprocessor::canonical(BatchView x, std::span<const int> centre, std::span<const int> element, float* y,
                             bool wrap) const {
  const PreprocessRowParams p = row_params(wrap);
  const int m = latent_dim();
  std::string failure;  // an exception must not leave an OpenMP region: keep the first message
#pragma omp parallel
  {
    const HostRowScratch scratch(n_, dim_);  // per thread, allocated once per call
#pragma omp for schedule(static)
    for (int r = 0; r < x.rows; ++r) {
      const int bad = canonical_row(p, x.row(r), centre[r], element[r], y + static_cast<std::size_t>(r) * m, scratch.s);
      if (bad >= 0) {
#pragma omp critical
        if (failure.empty())
          failure = "relabelling configuration " + std::to_string(r) + ": cost row " + std::to_string(bad) + " has NaN or inf";
      }
    }
  }
  if (!failure.empty()) throw numerical_error(failure);
}

void Preprocessor::fit(std::span<const BatchView> training, std::uint64_t seed) {
  if (settings_.torus) {
    // Nothing to fit: wrap windows [0, L) about the centred particle at L/2, and z = y − L/2.
    const int m = latent_dim();
    set_state(std::vector<double>(m, 0.5 * L_),
              Pca(Eigen::VectorXd::Constant(m, 0.5 * L_), Eigen::MatrixXd::Identity(m, m), Eigen::VectorXd::Ones(m), false));
    return;
  }
  std::vector<std::vector<float>> relabelled(training.size());
  std::vector<BatchView> views;
  for (size_t p = 0; p < training.size(); ++p) {
    const BatchView& t = training[p];
    if (t.particles != n_ || t.dim != dim_) throw Error(ExitCode::failure, "Preprocessor::fit: wrong configuration shape");
    std::vector<int> c(t.rows), g(t.rows);
    training_choices(seed, static_cast<std::uint64_t>(p) << 40, c, g);
    relabelled[p].resize(static_cast<size_t>(t.rows) * latent_dim());
    canonical(t, c, g, relabelled[p].data(), false);
    views.push_back(BatchView{relabelled[p].data(), t.rows, n_ - 1, dim_});
  }
  // Wrap centres: circular means over the union (as one batch of all rows).
  AlignedFloats all;
  for (const auto& r : relabelled) all.insert(all.end(), r.begin(), r.end());
  const BatchView union_view{all.data(), static_cast<int>(all.size() / latent_dim()), n_ - 1, dim_};
  centres_ = fit_wrap_centres(union_view, L_);
  wrap_forward(union_view, centres_, L_);
  const BatchView flat{all.data(), union_view.rows, 1, latent_dim()};
  pca_ = Pca::fit(std::span<const BatchView>(&flat, 1), settings_.whiten);
}

void Preprocessor::set_state(std::vector<double> wrap_centres, Pca pca) {
  centres_ = std::move(wrap_centres);
  pca_ = std::move(pca);
}

void Preprocessor::forward(BatchView x, std::span<const int> centre, std::span<const int> element, float* z,
                           float* wrapped) const {
  if (!fitted()) throw Error(ExitCode::failure, "Preprocessor::forward before fit()");
  AlignedFloats y(static_cast<size_t>(x.rows) * latent_dim());
  canonical(x, centre, element, y.data(), true);
  if (wrapped) std::copy(y.begin(), y.end(), wrapped);
  pca_.forward(BatchView{y.data(), x.rows, 1, latent_dim()}, z);
}

void Preprocessor::inverse(const float* z, BatchView x) const {
  const int m = latent_dim();
  AlignedFloats y(static_cast<size_t>(x.rows) * m);
  pca_.inverse(z, BatchView{y.data(), x.rows, 1, m});
  const PreprocessRowParams p = row_params(true);
  for (int r = 0; r < x.rows; ++r) uncanonical_row(p, y.data() + static_cast<size_t>(r) * m, x.row(r));
}

void Preprocessor::in_domain(const float* z, int rows, std::span<std::uint8_t> inside) const {
  if (!fitted()) throw Error(ExitCode::failure, "Preprocessor::in_domain before fit()");
  if (settings_.torus) {  // every point of the torus is a configuration: coverage 1 by construction
    std::fill(inside.begin(), inside.begin() + rows, std::uint8_t{1});
    return;
  }
  const int m = latent_dim();
  AlignedFloats y(static_cast<size_t>(rows) * m);
  pca_.inverse(z, BatchView{y.data(), rows, 1, m});
  const PreprocessRowParams p = row_params(true);
#pragma omp parallel
  {
    const HostRowScratch scratch(n_, dim_);
#pragma omp for schedule(static)
    for (int r = 0; r < rows; ++r) inside[r] = in_domain_row(p, y.data() + static_cast<size_t>(r) * m, scratch.s);
  }
}

}  // namespace boltzmap
