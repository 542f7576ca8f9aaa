// bench_analysis_gpu: the analysis' per-chunk work (src/analysis/set_kernels.hpp) on the GPU
// against the CPU path: pair histograms and SetAccumulator sums of n configurations (default
// 2.5×10⁴, the paper's evaluation set) of system IA's size (N = 32, 2D, L = √(32/0.735);
// jittered centred-square lattices), analyze's default bins (80 energy, 100 r) and chunk (8192
// rows), two weightings (every weight 1; log-weights with a domain mask), for R = 100 and R = 1000
// bootstrap replicates: one set of analyze's six. Timed: set_counts + add for every chunk, then
// flush (host↔device copies included), after one untimed warm-up pass (buffers allocated).
// The ceilings (bench/gpu_peaks.hpp, from the device's attributes):
//   fp64 peak = SMs × clock × 2 × (FP64 FMA units per SM: 64 on sm_80/sm_90, else 2) — the vector
//               rate; cuBLAS's DGEMM uses the FP64 tensor cores on sm_80/sm_90, twice that;
//   memory bandwidth = 2 × memory clock × bus width / 8.
// Reported: the DGEMM's flops (2·(R+1)·n·(E+G)·K, K = 2 weightings) over the whole time as a
// fraction of the fp64 vector peak, and the device-memory bytes the kernels must move at least
// (multiplicities read once per weighting, A = c·w written and read, B written and read per
// weighting, positions and energies) as a fraction of the bandwidth; the host→device bytes too
// (the multiplicities dominate: (R+1)·n bytes). Also whether the GPU's integer sums equal the
// CPU's and the largest relative difference of the others. Prints JSON on stdout, a short table
// on stderr. Without a usable GPU: a JSON note and exit 0 (tools/gpu-check runs it).
//   bench_analysis_gpu [--configurations n] [--chunk m]
#include <cuda_runtime.h>

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "analysis/bootstrap.hpp"
#include "analysis/set_kernels.hpp"
#include "analysis/set_terms.hpp"
#include "core/backend.hpp"
#include "core/error.hpp"
#include "parallel/comm.hpp"
#include "physics/lattice.hpp"
#include "gpu_peaks.hpp"
#include "system_ia.hpp"

using namespace boltzmap;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Data {
  int N = 32, D = 2;
  double L = 0;
  std::size_t n = 0;
  std::vector<float> x;
  std::vector<double> u, lw;
  std::vector<std::uint8_t> in;
};

// One pass over the set in chunks of `chunk` rows into a fresh accumulator; returns the seconds.
double run(SetKernels& k, SetAccumulator& acc, const Data& d, const BootstrapCounts& counts, std::size_t chunk) {
  std::vector<std::uint8_t> c;
  const std::size_t row = static_cast<std::size_t>(d.N) * d.D;
  const auto t0 = std::chrono::steady_clock::now();
  for (std::size_t f = 0; f < d.n; f += chunk) {
    const std::size_t m = std::min(chunk, d.n - f);
    c.resize(static_cast<std::size_t>(counts.replicates + 1) * m);
    for (int r = 0; r <= counts.replicates; ++r)
      std::memcpy(c.data() + static_cast<std::size_t>(r) * m, counts.row(r).data() + f, m);
    k.set_counts(c, counts.replicates, m);
    k.add(acc, std::span<const float>(d.x).subspan(f * row, m * row), d.N, d.D, d.L,
          std::span<const double>(d.u).subspan(f, m),
          {Weighting{}, Weighting{std::span<const double>(d.lw).subspan(f, m), std::span<const std::uint8_t>(d.in).subspan(f, m)}});
  }
  k.flush(acc);
  return seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(&argc, &argv);
  std::size_t n = 25000, chunk = 8192;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--configurations")) n = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--chunk")) chunk = std::strtoull(argv[i + 1], nullptr, 10);
  }
  const Accelerators acc = probe_accelerators();
  if (!acc.cuda_usable()) {
    std::printf("{\n  \"benchmark\": \"analysis_gpu\",\n  \"skipped\": true,\n  \"note\": \"%s\"\n}\n",
                acc.cuda_compiled ? "no CUDA device is visible" : "built without CUDA");
    std::fprintf(stderr, "bench_analysis_gpu: skipped (%s)\n", acc.cuda_compiled ? "no CUDA device is visible" : "built without CUDA");
    return 0;
  }
  try {
    Data d;
    const System sys = bench::system_ia();
    d.L = sys.box.length;
    d.n = n;
    const std::vector<float> lat = make_lattice("centered-square", 2, 32, d.L);
    std::mt19937_64 g(2022);
    std::normal_distribution<double> z(0, 1);
    std::uniform_real_distribution<double> jitter(-0.15, 0.15), unit(0, 1);
    d.x.resize(n * 64);
    for (std::size_t i = 0; i < n; ++i)
      for (int k = 0; k < 64; ++k)
        d.x[i * 64 + k] = static_cast<float>(wrap_into_box(lat[k] + jitter(g), d.L, 1 / d.L));
    d.u.resize(n);
    d.lw.resize(n);
    d.in.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      d.u[i] = -60.0 + 5.0 * z(g);
      d.lw[i] = 2.0 * z(g);
      d.in[i] = unit(g) < 0.85;
    }
    const Bins eb{-80.0, -40.0, 80}, rb{0.0, d.L / 2, 100};
    const std::vector<double> shift = {0.0, max_log_weight(d.lw, d.in)}, shift_raw = {0.0, max_log_weight(d.lw, {})};
    auto gpu = make_cuda_set_kernels();
    auto cpu = make_cpu_set_kernels();

    const bench::GpuPeaks peaks = bench::gpu_peaks();  // bench/gpu_peaks.hpp: the formulas
    const double fma_units = peaks.fp64_units, fp64_peak = peaks.fp64_flops, bandwidth = peaks.bytes_per_second;

    std::printf("{\n  \"benchmark\": \"analysis_gpu\",\n  \"device\": \"%s\",\n", gpu->description().c_str());
    std::printf("  \"set\": \"%zu configurations, N = 32, 2D, L = %.4f, 80 energy bins, 100 r bins, 2 weightings, chunk %zu\",\n",
                n, d.L, chunk);
    std::printf("  \"fp64_peak_flops\": %.4g,\n  \"fp64_peak_formula\": \"SMs x clock x 2 x FP64 FMA units per SM (%g); "
                "vector rate, the DGEMM's tensor-core peak on sm_80/sm_90 is twice it\",\n",
                fp64_peak, fma_units);
    std::printf("  \"memory_bandwidth_bytes_per_s\": %.4g,\n  \"bandwidth_formula\": \"2 x memory clock x bus width / 8\",\n",
                bandwidth);
    std::printf("  \"runs\": [\n");
    std::string table;
    bool all_exact = true;
    const int reps[] = {100, 1000};
    for (int ri = 0; ri < 2; ++ri) {
      const int R = reps[ri];
      const BootstrapCounts counts = bootstrap_counts(BootstrapScheme::multinomial, R, n, 7);
      SetAccumulator warm(R, eb, rb, shift, shift_raw), a_gpu(R, eb, rb, shift, shift_raw), a_cpu(R, eb, rb, shift, shift_raw);
      run(*gpu, warm, d, counts, chunk);
      const double gpu_s = run(*gpu, a_gpu, d, counts, chunk);
      const double cpu_s = run(*cpu, a_cpu, d, counts, chunk);
      // Integer-valued sums exact (Σc, Σc·inside; everything but ΣcU for the unweighted weighting).
      const std::size_t R1 = R + 1, per = a_cpu.per_weighting();
      std::size_t inexact = 0;
      double worst = 0;
      for (std::size_t i = 0; i < a_cpu.sums().size(); ++i) {
        const std::size_t k = i / per, o = i % per;
        const bool scalar = o < kSetScalars * R1;
        const std::size_t q = scalar ? o / R1 : 99;
        const bool integer = scalar ? (q == 0 || q == 4 || (k == 0 && q != 3)) : k == 0;
        const double gv = a_gpu.sums()[i], cv = a_cpu.sums()[i];
        if (integer) {
          inexact += gv != cv;
        } else if (q != 3 && cv != 0) {
          worst = std::max(worst, std::abs(gv - cv) / std::abs(cv));
        }
      }
      all_exact = all_exact && inexact == 0;
      const double E = 80, G = 100, K = 2, nn = static_cast<double>(n);
      const double flops = 2 * R1 * nn * (E + G) * K;
      const double bytes = K * (R1 * nn * (1 + 16) + 16 * nn * (E + G)) + nn * (64 * 4 + 8 * 3);
      const double h2d = R1 * nn + nn * (64 * 4 + 8 + K * 9);
      std::printf("    {\"replicates\": %d, \"gpu_seconds\": %.6g, \"cpu_seconds\": %.6g, \"cpu_threads\": %d, "
                  "\"speedup\": %.1f, \"dgemm_flops\": %.4g, \"fraction_of_fp64_peak\": %.4f, "
                  "\"device_bytes_min\": %.4g, \"fraction_of_bandwidth\": %.4f, \"host_to_device_bytes\": %.4g, "
                  "\"integer_sums_not_exact\": %zu, \"max_rel_diff_other_sums\": %.3g}%s\n",
                  R, gpu_s, cpu_s, omp_get_max_threads(), cpu_s / gpu_s, flops, flops / gpu_s / fp64_peak, bytes,
                  bytes / gpu_s / bandwidth, h2d, inexact, worst, ri == 0 ? "," : "");
      char line[256];
      std::snprintf(line, sizeof line, "  R = %4d   gpu %9.4f s   cpu %9.3f s   %6.1fx   fp64 %5.1f %%   bw %5.1f %%   exact %s\n", R,
                    gpu_s, cpu_s, cpu_s / gpu_s, 100 * flops / gpu_s / fp64_peak, 100 * bytes / gpu_s / bandwidth,
                    inexact == 0 ? "yes" : "NO");
      table += line;
    }
    std::printf("  ]\n}\n");
    std::fprintf(stderr, "\n  analysis per set (%zu configurations, N = 32, 2D; pair histograms + bootstrap sums)\n%s\n", n,
                 table.c_str());
    return all_exact ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_analysis_gpu: %s\n", e.what());
    return static_cast<int>(e.code());
  }
}
