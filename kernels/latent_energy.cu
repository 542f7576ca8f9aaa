// See latent_energy.cuh. One thread per configuration: the row's pairs in the CPU's order (the
// shared latent_row_energy), so that given the same y a row's e and ∂e/∂y are the CPU's bits
// (--fmad=false; IEEE division and square root; CUDA's log1p may differ from glibc's by an ulp in
// the clamp's log regime). Work per row: N(N − 1)/2 pair terms twice (energy, forces).
// A first version, correct before fast: a warp per row with a lane per particle (as the MC engine)
// is the next step if the energies show in the training step's profile.
#include "cuda_check.cuh"
#include "latent_energy.cuh"

namespace boltzmap::cuda {
namespace {

__global__ void latent_row_energies_kernel(LatentRowParams p, const double* __restrict__ y,
                                           const double* __restrict__ mu, int rows, double* __restrict__ scratch,
                                           double* __restrict__ e, double* __restrict__ gy) {
  const int r = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (r >= rows) return;
  const int D = p.system.box.dimension, m = p.latent_dim, nd = p.system.n_particles * D;
  double* x = scratch + static_cast<std::size_t>(r) * 2 * nd;
  double* f = x + nd;
  const double* yr = y + static_cast<std::size_t>(r) * m;
  // y + μ into f's tail, as LatentEnergy::evaluate_row does (read before the forces overwrite f).
  for (int k = 0; k < m; ++k) f[D + k] = yr[k] + mu[k];
  e[r] = latent_row_energy(p, f + D, x, f, gy ? f + D : nullptr);
  if (gy) {
    double* g = gy + static_cast<std::size_t>(r) * m;
    for (int k = 0; k < m; ++k) g[k] = f[D + k];
  }
}

}  // namespace

void latent_row_energies(const LatentRowParams& p, const double* y, const double* mu, int rows, double* scratch,
                         double* e, double* gy, cudaStream_t stream) {
  if (rows <= 0) return;
  constexpr int threads = 128;
  const int blocks = (rows + threads - 1) / threads;
  latent_row_energies_kernel<<<blocks, threads, 0, stream>>>(p, y, mu, rows, scratch, e, gy);
  CUDA_LAUNCH_CHECK("latent_row_energies_kernel", stream);
}

}  // namespace boltzmap::cuda
