// See mapping.hpp.
#include "analysis/mapping.hpp"

#include <omp.h>

#include <algorithm>
#include <limits>

#include "core/error.hpp"
#include "core/parallel_errors.hpp"

namespace boltzmap {

const char* direction_name(Direction d) { return d == Direction::a_to_b ? "A_to_B" : "B_to_A"; }

MappedSet map_configurations(const Preprocessor& pre, const Flow<float>& flow, const System& source,
                             const System& target, Direction dir, std::span<const float> x,
                             const std::function<void(std::size_t)>& progress) {
  const int N = pre.n_particles(), D = pre.dim(), m = pre.latent_dim();
  const std::size_t row = static_cast<std::size_t>(N) * D, n = x.size() / row;
  if (x.size() != n * row) throw Error(ExitCode::failure, "map_configurations: x is not [n][N][D]");
  if (flow.width() != m) throw Error(ExitCode::failure, "map_configurations: the flow does not fit the preprocessing");
  // The box-scaling layer (preprocessor.hpp): B's configurations enter the preprocessing's box as
  // x/s and leave it as s·x, so the whole map is F = S∘P⁻¹∘f∘P (A → B) or P⁻¹∘f⁻¹∘P∘S⁻¹ (B → A),
  // with log|det J| = the flow's ± (N − 1)·D·ln s. The identity map between the two boxes is the
  // scaling alone, x ↦ S^{±1}(x), with log|det| ± (N − 1)·D·ln s.
  const bool ab = dir == Direction::a_to_b;
  const char source_label = ab ? 'A' : 'B', target_label = ab ? 'B' : 'A';
  const double box_log_det = ab ? pre.box_log_det() : -pre.box_log_det();
  MappedSet out;
  out.positions.resize(n * row);
  for (auto* v : {&out.source_energy, &out.mapped_energy, &out.log_jacobian, &out.log_weight,
                  &out.log_weight_unrestricted, &out.identity_energy, &out.identity_log_weight})
    v->resize(n);
  out.in_domain.resize(n);
  constexpr std::size_t kChunk = 512;
  const std::size_t chunks = (n + kChunk - 1) / kChunk;
  std::size_t done = 0;
  FirstError error;  // nothing may leave the parallel region
#pragma omp parallel
  {
    using Mat = Flow<float>::Mat;
    Mat z, z2;
    Flow<float>::Vec logdet;
    std::unique_ptr<FlowCache> cache;  // work buffers reused across this thread's chunks
    std::vector<int> centre, element;
    std::vector<float> src, ident;
    error.run([&] {  // these allocate: a bad_alloc must not leave the region either
      centre.resize(kChunk);
      element.resize(kChunk);
      src.resize(kChunk * row);
      ident.resize(kChunk * row);
      cache = flow.make_cache();
      Preprocessor::evaluation_choices(centre, element);
    });
#pragma omp for schedule(dynamic)
    for (std::size_t c = 0; c < chunks; ++c) error.run([&] {
      if (error.failed()) return;  // the others' chunks are skipped, the loop still ends
      const std::size_t i0 = c * kChunk, rows = std::min(kChunk, n - i0);
      const int r = static_cast<int>(rows);
      std::copy_n(x.data() + i0 * row, rows * row, src.data());
      // The identity map's image in the target's box: x itself, or scaled by s^{±1}.
      std::copy_n(x.data() + i0 * row, rows * row, ident.data());
      pre.into_preprocessing_box(source_label, std::span<float>(ident.data(), rows * row));
      pre.out_of_preprocessing_box(target_label, std::span<float>(ident.data(), rows * row));
      pre.into_preprocessing_box(source_label, std::span<float>(src.data(), rows * row));
      z.resize(r, m);
      pre.forward(BatchView{src.data(), r, N, D}, std::span<const int>(centre.data(), rows),
                  std::span<const int>(element.data(), rows), z.data());
      if (ab)
        flow.forward(z, z2, logdet, cache.get());
      else
        flow.inverse(z, z2, logdet, cache.get());
      pre.in_domain(z2.data(), r, std::span<std::uint8_t>(out.in_domain.data() + i0, rows));
      pre.inverse(z2.data(), BatchView{out.positions.data() + i0 * row, r, N, D});
      pre.out_of_preprocessing_box(target_label, std::span<float>(out.positions.data() + i0 * row, rows * row));
      for (std::size_t j = 0; j < rows; ++j) {
        const std::size_t i = i0 + j;
        const std::span<const float> xs(x.data() + i * row, row), xm(out.positions.data() + i * row, row),
            xi(ident.data() + j * row, row);
        const double us = total_energy(source, xs), ut = total_energy(target, xm), ui = total_energy(target, xi);
        out.source_energy[i] = us;
        out.mapped_energy[i] = ut;
        out.identity_energy[i] = ui;
        out.log_jacobian[i] = logdet(static_cast<Eigen::Index>(j)) + box_log_det;
        out.log_weight_unrestricted[i] = -target.beta * ut + source.beta * us + out.log_jacobian[i];
        out.log_weight[i] = out.in_domain[i] ? out.log_weight_unrestricted[i] : -std::numeric_limits<double>::infinity();
        out.identity_log_weight[i] = -target.beta * ui + source.beta * us + box_log_det;
      }
#pragma omp atomic
      done += rows;
      if (progress && omp_get_thread_num() == 0) {
        std::size_t now;
#pragma omp atomic read
        now = done;
        progress(now);
      }
    });
  }
  error.rethrow();
  if (progress) progress(n);
  return out;
}

}  // namespace boltzmap
