// See mapping_cuda.hpp.
#include "analysis/mapping_cuda.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <vector>

#include "core/error.hpp"
#include "cuda_check.cuh"
#include "flow/realnvp.hpp"
#include "flow/realnvp_cuda.hpp"
#include "mapping.cuh"
#include "transforms/preprocessor_cuda.hpp"

namespace boltzmap {

namespace {

template <class T>
void download(T* host, const cuda::DeviceBuffer<T>& d, std::size_t n, cudaStream_t stream) {
  if (n > 0) CUDA_CHECK(cudaMemcpyAsync(host, d.data(), n * sizeof(T), cudaMemcpyDeviceToHost, stream));
}

}  // namespace

struct CudaMapper::Impl {
  CudaRealNvp flow;
  CudaPreprocessor pre;
  CudaRealNvp::Workspace ws;
  System a, b;
  double box_log_det;
  int chunk, n, dim, m;
  std::size_t row;
  cuda::DeviceBuffer<float> x, src, ident, mapped;  // [chunk][N][D]
  cuda::DeviceBuffer<float> z, z2;                  // [chunk][m]
  cuda::DeviceBuffer<float> logdet;                 // [chunk]
  cuda::DeviceBuffer<std::uint8_t> inside;          // [chunk]
  cuda::DeviceBuffer<double> doubles;               // [7][chunk]: MappedRows' arrays
  Impl(const Preprocessor& p, const RealNvp<float>& f, const System& sa, const System& sb, int chunk_rows)
      : flow(f),
        pre(p, flow.stream()),
        a(sa),
        b(sb),
        box_log_det(p.box_log_det()),
        chunk(chunk_rows),
        n(p.n_particles()),
        dim(p.dim()),
        m(p.latent_dim()),
        row(static_cast<std::size_t>(n) * dim),
        x(static_cast<std::size_t>(chunk_rows) * row),
        src(x.size()),
        ident(x.size()),
        mapped(x.size()),
        z(static_cast<std::size_t>(chunk_rows) * m),
        z2(z.size()),
        logdet(static_cast<std::size_t>(chunk_rows)),
        inside(static_cast<std::size_t>(chunk_rows)),
        doubles(7 * static_cast<std::size_t>(chunk_rows)) {}
  double* column(int k) { return doubles.data() + static_cast<std::size_t>(k) * chunk; }
};

CudaMapper::CudaMapper(const Preprocessor& pre, const Flow<float>& flow, const System& a, const System& b,
                       int chunk_rows) {
  if (chunk_rows < 1) throw Error(ExitCode::failure, "CudaMapper: chunk_rows must be >= 1");
  if (flow.width() != pre.latent_dim())
    throw Error(ExitCode::failure, "CudaMapper: the flow does not fit the preprocessing");
  // The device memory per row in a round: the configurations four times, the latent rows twice,
  // the results, and the preprocessing's scratch, whose relabelling cost matrix grows as N².
  const int n = pre.n_particles(), D = pre.dim(), m = pre.latent_dim();
  const std::size_t per_row = 4 * sizeof(float) * static_cast<std::size_t>(n) * D + 3 * sizeof(float) * m +
                              sizeof(float) + 1 + 7 * sizeof(double) + sizeof(float) * preprocess_row_floats(n, D) +
                              sizeof(double) * preprocess_row_doubles(n) + sizeof(int) * preprocess_row_ints(n);
  constexpr std::size_t kBudget = std::size_t{2} << 30;  // 2 GiB per round
  const int rows = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(chunk_rows), std::max<std::size_t>(1, kBudget / per_row)));
  impl_ = std::make_unique<Impl>(pre, realnvp_for_cuda(flow, "the map stage on CUDA needs"), a, b, rows);
}

CudaMapper::~CudaMapper() = default;

std::string CudaMapper::description() const {
  return fmt::format("{}; {} configurations per device round", impl_->flow.description(), impl_->chunk);
}

MappedSet CudaMapper::map(Direction dir, std::span<const float> x, const std::function<void(std::size_t)>& progress) {
  Impl& s = *impl_;
  const std::size_t row = s.row, n = x.size() / row;
  if (x.size() != n * row) throw Error(ExitCode::failure, "CudaMapper::map: x is not [n][N][D]");
  const bool ab = dir == Direction::a_to_b;
  const char source_label = ab ? 'A' : 'B', target_label = ab ? 'B' : 'A';
  const System& source = ab ? s.a : s.b;
  const System& target = ab ? s.b : s.a;
  const double box_log_det = ab ? s.box_log_det : -s.box_log_det;
  cudaStream_t st = s.flow.stream();
  MappedSet out;
  out.positions.resize(n * row);
  std::vector<double>* cols[7] = {&out.source_energy,          &out.mapped_energy, &out.identity_energy,
                                  &out.log_jacobian,           &out.log_weight_unrestricted,
                                  &out.log_weight,             &out.identity_log_weight};
  for (auto* v : cols) v->resize(n);
  out.in_domain.resize(n);
  const cuda::MappedRows rows_out{s.column(0), s.column(1), s.column(2), s.column(3),
                                  s.column(4), s.column(5), s.column(6)};
  for (std::size_t i0 = 0; i0 < n; i0 += static_cast<std::size_t>(s.chunk)) {
    const int rows = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(s.chunk), n - i0));
    const std::size_t count = static_cast<std::size_t>(rows) * row, bytes = count * sizeof(float);
    CUDA_CHECK(cudaMemcpyAsync(s.x.data(), x.data() + i0 * row, bytes, cudaMemcpyHostToDevice, st));
    CUDA_CHECK(cudaMemcpyAsync(s.ident.data(), s.x.data(), bytes, cudaMemcpyDeviceToDevice, st));
    CUDA_CHECK(cudaMemcpyAsync(s.src.data(), s.x.data(), bytes, cudaMemcpyDeviceToDevice, st));
    // The identity map's image in the target's box, and the source in the preprocessing's box.
    s.pre.into_preprocessing_box(source_label, s.ident.data(), count);
    s.pre.out_of_preprocessing_box(target_label, s.ident.data(), count);
    s.pre.into_preprocessing_box(source_label, s.src.data(), count);
    s.pre.forward(s.src.data(), nullptr, nullptr, rows, s.z.data());  // the evaluation choices
    if (ab)
      s.flow.forward(s.z.data(), s.z2.data(), s.logdet.data(), rows, s.ws);
    else
      s.flow.inverse(s.z.data(), s.z2.data(), s.logdet.data(), rows, s.ws);
    s.pre.in_domain(s.z2.data(), rows, s.inside.data());
    s.pre.inverse(s.z2.data(), rows, s.mapped.data());
    s.pre.out_of_preprocessing_box(target_label, s.mapped.data(), count);
    cuda::mapped_row_weights(source, target, s.x.data(), s.mapped.data(), s.ident.data(), s.logdet.data(),
                             s.inside.data(), rows, box_log_det, rows_out, st);
    download(out.positions.data() + i0 * row, s.mapped, count, st);
    for (int k = 0; k < 7; ++k)
      if (rows > 0) CUDA_CHECK(cudaMemcpyAsync(cols[k]->data() + i0, s.column(k), rows * sizeof(double), cudaMemcpyDeviceToHost, st));
    download(out.in_domain.data() + i0, s.inside, static_cast<std::size_t>(rows), st);
    s.pre.check();  // synchronises: the chunk's results are on the host
    if (progress) progress(i0 + static_cast<std::size_t>(rows));
  }
  return out;
}

}  // namespace boltzmap
