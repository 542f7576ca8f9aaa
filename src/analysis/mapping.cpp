// See mapping.hpp.
#include "analysis/mapping.hpp"

#include <omp.h>

#include <algorithm>
#include <limits>

#include "core/error.hpp"
#include "core/parallel_errors.hpp"

namespace boltzmap {

const char* direction_name(Direction d) { return d == Direction::a_to_b ? "A_to_B" : "B_to_A"; }

MappedSet map_configurations(const Preprocessor& pre, const RealNvp<float>& flow, const System& source,
                             const System& target, Direction dir, std::span<const float> x,
                             const std::function<void(std::size_t)>& progress) {
  const int N = pre.n_particles(), D = pre.dim(), m = pre.latent_dim();
  const std::size_t row = static_cast<std::size_t>(N) * D, n = x.size() / row;
  if (x.size() != n * row) throw Error(ExitCode::failure, "map_configurations: x is not [n][N][D]");
  if (flow.shape().dim != m) throw Error(ExitCode::failure, "map_configurations: the flow does not fit the preprocessing");
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
    using Mat = RealNvp<float>::Mat;
    Mat z, z2;
    RealNvp<float>::Vec logdet;
    RealNvp<float>::Cache cache;  // work buffers reused across this thread's chunks
    std::vector<int> centre, element;
    std::vector<float> src;
    error.run([&] {  // these allocate: a bad_alloc must not leave the region either
      centre.resize(kChunk);
      element.resize(kChunk);
      src.resize(kChunk * row);
      Preprocessor::evaluation_choices(centre, element);
    });
#pragma omp for schedule(dynamic)
    for (std::size_t c = 0; c < chunks; ++c) error.run([&] {
      if (error.failed()) return;  // the others' chunks are skipped, the loop still ends
      const std::size_t i0 = c * kChunk, rows = std::min(kChunk, n - i0);
      const int r = static_cast<int>(rows);
      std::copy_n(x.data() + i0 * row, rows * row, src.data());
      z.resize(r, m);
      pre.forward(BatchView{src.data(), r, N, D}, std::span<const int>(centre.data(), rows),
                  std::span<const int>(element.data(), rows), z.data());
      if (dir == Direction::a_to_b)
        flow.forward(z, z2, logdet, &cache);
      else
        flow.inverse(z, z2, logdet, &cache);
      pre.in_domain(z2.data(), r, std::span<std::uint8_t>(out.in_domain.data() + i0, rows));
      pre.inverse(z2.data(), BatchView{out.positions.data() + i0 * row, r, N, D});
      for (std::size_t j = 0; j < rows; ++j) {
        const std::size_t i = i0 + j;
        const std::span<const float> xs(x.data() + i * row, row), xm(out.positions.data() + i * row, row);
        const double us = total_energy(source, xs), ut = total_energy(target, xm), ui = total_energy(target, xs);
        out.source_energy[i] = us;
        out.mapped_energy[i] = ut;
        out.identity_energy[i] = ui;
        out.log_jacobian[i] = logdet(static_cast<Eigen::Index>(j));
        out.log_weight_unrestricted[i] = -target.beta * ut + source.beta * us + out.log_jacobian[i];
        out.log_weight[i] = out.in_domain[i] ? out.log_weight_unrestricted[i] : -std::numeric_limits<double>::infinity();
        out.identity_log_weight[i] = -target.beta * ui + source.beta * us;
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
