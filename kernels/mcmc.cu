// GPU MC walkers (see mcmc.cuh): one warp per walker. The walker's coordinates sit in shared
// memory for a whole launch ([dim][particle], as on the CPU); lane l owns partners l, l + 32, …
// Each move, every lane draws the same Philox numbers (draw_move: no broadcast needed), computes
// its partners' float32 terms u(|new − x_j|) − u(|old − x_j|) with pair_delta() into shared memory,
// and then every lane sums the N terms in partner order 0, 1, …, N − 1 — the order of the CPU
// block kernel (run_block), so ΔU is the same float, bit for bit (nvcc --fmad=false, IEEE
// division; CMakeLists.txt). When any pair is closer than r_fast (__any_sync) the move is
// re-evaluated in double exactly as particle_energy_soa does (each lane its partners' two pair
// energies, then the sums in partner order, skipping the moved particle). The Metropolis test is
// metropolis_accept() (CUDA's exp: within 1 ulp of glibc's). O(N) per move: 2(N − 1) pair terms
// spread over 32 lanes, plus the ordered N-term sum.
// Why the ordered sum and not a shuffle tree: identical trajectories make every later difference
// a bug, not rounding (tests/gpu/test_mcmc_parity.cpp); the sum is N shared-memory reads and adds.
#include "mcmc.cuh"

#include <algorithm>
#include <cmath>
#include <string>

#include "cuda_check.cuh"
#include "physics/energy.hpp"

namespace boltzmap::cuda {

namespace {

constexpr unsigned full_mask = 0xFFFFFFFFu;
constexpr int max_warps_per_block = 4;

// Per-warp shared layout: e_old[n], e_new[n] (double), xs[D·n], term[n] (float).
__host__ __device__ std::size_t bytes_per_warp(int n, int d) {
  const std::size_t b = static_cast<std::size_t>(n) * (2 * sizeof(double) + (d + 1) * sizeof(float));
  return (b + 7) / 8 * 8;
}

template <int D, int NC>
__global__ void mcmc_moves_kernel(MoveParams mp, float* __restrict__ x, double* __restrict__ energy,
                                  unsigned long long* __restrict__ accepted, int count, std::uint32_t first,
                                  std::uint64_t counter0, std::uint64_t moves, float step) {
  extern __shared__ double shared[];  // double: 8-byte alignment of every slice
  const int n = NC > 0 ? NC : mp.system.n_particles;
  const int warp = static_cast<int>(threadIdx.x) / 32, lane = static_cast<int>(threadIdx.x) % 32;
  const int w = static_cast<int>(blockIdx.x) * (static_cast<int>(blockDim.x) / 32) + warp;
  if (w >= count) return;  // a whole warp: no partial-warp sync below
  unsigned char* base = reinterpret_cast<unsigned char*>(shared) + warp * bytes_per_warp(n, D);
  double* e_old = reinterpret_cast<double*>(base);
  double* e_new = e_old + n;
  float* xs = reinterpret_cast<float*>(e_new + n);  // [dim][particle]
  float* term = xs + D * n;                         // [particle]

  float* xw = x + static_cast<std::size_t>(w) * D * n;
  for (int k = lane; k < D * n; k += 32) xs[k] = xw[k];
  __syncwarp();
  double e = energy[w];
  unsigned long long acc = 0;
  const std::uint32_t walker = first + static_cast<std::uint32_t>(w);
  const double L = mp.system.box.length, inv_L = 1.0 / L;  // as particle_energy_soa

  for (std::uint64_t m = 0; m < moves; ++m) {
    const MoveDraw draw = draw_move<D>(mp.seed, walker, counter0 + m, n, step);
    const int i = draw.particle;
    float op[D], np[D];
#pragma unroll
    for (int d = 0; d < D; ++d) {
      op[d] = xs[d * n + i];
      np[d] = wrap_into_box(op[d] + draw.displacement[d], mp.L, mp.inv_L);
    }
    int close = 0;
    for (int j = lane; j < n; j += 32) {
      float t = 0.0f;
      pair_delta<D>(mp, xs + j, n, op, np, 1, j != i, t, close);
      term[j] = t;
    }
    close = __any_sync(full_mask, close);
    __syncwarp();
    double du;
    if (!close) {
      float s = 0.0f;
      for (int j = 0; j < n; ++j) s += term[j];
      du = static_cast<double>(s);
    } else {
      for (int j = lane; j < n; j += 32) {
        double r2o = 0.0, r2n = 0.0;
#pragma unroll
        for (int d = 0; d < D; ++d) {
          const double xj = xs[d * n + j];
          const double uo = minimum_image(xj - static_cast<double>(op[d]), L, inv_L);
          const double un = minimum_image(xj - static_cast<double>(np[d]), L, inv_L);
          r2o += uo * uo;
          r2n += un * un;
        }
        e_old[j] = pair_energy(mp.system.potential, r2o);
        e_new[j] = pair_energy(mp.system.potential, r2n);
      }
      __syncwarp();
      double so = 0.0, sn = 0.0;
      for (int j = 0; j < n; ++j) {
        if (j == i) continue;
        sn += e_new[j];
        so += e_old[j];
      }
      du = sn - so;
    }
    if (metropolis_accept(mp.system.beta * du, draw.accept_u)) {
      if (lane == 0)
#pragma unroll
        for (int d = 0; d < D; ++d) xs[d * n + i] = np[d];
      e += du;
      ++acc;
    }
    __syncwarp();  // the move's update seen, and term/e_* free, before the next move
  }
  for (int k = lane; k < D * n; k += 32) xw[k] = xs[k];
  if (lane == 0) {
    energy[w] = e;
    atomicAdd(accepted, acc);
  }
}

template <int D>
__global__ void mcmc_recompute_kernel(MoveParams mp, const float* __restrict__ x, double* __restrict__ energy,
                                      unsigned long long* max_drift_bits, int count) {
  const int w = static_cast<int>(blockIdx.x * blockDim.x + threadIdx.x);
  if (w >= count) return;
  const int n = mp.system.n_particles;
  const double e = total_energy_soa<D>(mp, x + static_cast<std::size_t>(w) * D * n);
  double drift = fabs(e - energy[w]);
  if (isnan(drift)) drift = INFINITY;
  atomicMax(max_drift_bits, static_cast<unsigned long long>(__double_as_longlong(drift)));
  energy[w] = e;
}

}  // namespace

std::size_t mcmc_shared_bytes_per_walker(int n_particles, int dimension) { return bytes_per_warp(n_particles, dimension); }

void mcmc_run(const MoveParams& mp, float* x, double* energy, unsigned long long* accepted, int count,
              std::uint32_t first_walker, std::uint64_t counter0, std::uint64_t moves, float step,
              cudaStream_t stream) {
  if (count <= 0 || moves == 0) return;
  const int n = mp.system.n_particles, D = mp.system.box.dimension;
  const std::size_t per_warp = bytes_per_warp(n, D);
  constexpr std::size_t shared_limit = 48 * 1024;  // without opting in to more
  if (per_warp > shared_limit)
    throw Error(ExitCode::failure, "mcmc_run: N = " + std::to_string(n) + " in " + std::to_string(D) +
                                       "D needs " + std::to_string(per_warp) +
                                       " bytes of shared memory per walker, more than 48 KiB");
  const int wpb = static_cast<int>(std::min<std::size_t>(max_warps_per_block, shared_limit / per_warp));
  const dim3 grid(static_cast<unsigned>((count + wpb - 1) / wpb)), block(static_cast<unsigned>(32 * wpb));
  const std::size_t shared = per_warp * wpb;
  if (D == 2 && n == 32) {  // the paper's size: N fixed at compile time, as on the CPU
    mcmc_moves_kernel<2, 32><<<grid, block, shared, stream>>>(mp, x, energy, accepted, count, first_walker, counter0,
                                                              moves, step);
    CUDA_LAUNCH_CHECK("mcmc_moves_kernel<2, 32>", stream);
  } else if (D == 2) {
    mcmc_moves_kernel<2, 0><<<grid, block, shared, stream>>>(mp, x, energy, accepted, count, first_walker, counter0,
                                                             moves, step);
    CUDA_LAUNCH_CHECK("mcmc_moves_kernel<2, 0>", stream);
  } else {
    mcmc_moves_kernel<3, 0><<<grid, block, shared, stream>>>(mp, x, energy, accepted, count, first_walker, counter0,
                                                             moves, step);
    CUDA_LAUNCH_CHECK("mcmc_moves_kernel<3, 0>", stream);
  }
}

void mcmc_recompute(const MoveParams& mp, const float* x, double* energy, unsigned long long* max_drift_bits,
                    int count, cudaStream_t stream) {
  if (count <= 0) return;
  const int threads = 128;
  const dim3 grid(static_cast<unsigned>((count + threads - 1) / threads));
  if (mp.system.box.dimension == 2) {
    mcmc_recompute_kernel<2><<<grid, threads, 0, stream>>>(mp, x, energy, max_drift_bits, count);
    CUDA_LAUNCH_CHECK("mcmc_recompute_kernel<2>", stream);
  } else {
    mcmc_recompute_kernel<3><<<grid, threads, 0, stream>>>(mp, x, energy, max_drift_bits, count);
    CUDA_LAUNCH_CHECK("mcmc_recompute_kernel<3>", stream);
  }
}

}  // namespace boltzmap::cuda
