// bench_mcmc_gpu: the CUDA MC engine (kernels/mcmc.cu) on the paper's system IA (2D LJ, N = 32,
// ε = 1, r_c = 3, r_in = 0.8, T = 1, ρ = 0.735, Δ = 0.175): W walkers (default 2.5×10⁴, the
// reference generation of experiment I) × M moves (default 10⁴, one decorrelated configuration
// each) in one run() from the lattice after a short warm-up, then one O(N²) recomputation and one
// copy of every frame to the host, each timed; a save cycle as the sample stage makes it
// (1000 moves, the frames to the host, P_ex of every frame on one host thread: its per-save
// host work less the gather and the disk) timed serial (run, then the host work) and overlapped
// (the next moves started before the host work: McEngine::start/finish); the CPU engine (all threads) on a smaller count
// for the rate; and how many of those smaller CPU walkers the GPU reproduced bit for bit (the
// same walker indices and moves on both). Prints JSON on stdout and a short table on stderr.
// Used by tools/gpu-check. Exit 6 without a usable GPU.
//   bench_mcmc_gpu [--walkers W] [--moves M] [--cpu-walkers Wc] [--cpu-moves Mc]
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/error.hpp"
#include "parallel/comm.hpp"
#include "physics/energy.hpp"
#include "physics/lattice.hpp"
#include "system_ia.hpp"
#include "sampling/mc_engine.hpp"

using namespace boltzmap;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(&argc, &argv);
  int walkers = 25000, cpu_walkers = 2048;
  std::uint64_t moves = 10000, cpu_moves = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--walkers")) walkers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--moves")) moves = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--cpu-walkers")) cpu_walkers = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--cpu-moves")) cpu_moves = std::strtoull(argv[i + 1], nullptr, 10);
  }
  const System sys = bench::system_ia();
  const auto start = make_lattice("centered-square", 2, 32, sys.box.length);
  const float step = 0.175f;
  const std::uint64_t seed = 2022, warmup = 200;
  const int stride = 32 * 2;

  try {
    // ---- GPU: the paper's reference set
    auto gpu = make_cuda_engine(sys, seed, 0, walkers, start);
    gpu->run(warmup, step);
    auto t0 = std::chrono::steady_clock::now();
    const std::uint64_t acc = gpu->run(moves, step);
    const double gpu_s = seconds_since(t0);
    t0 = std::chrono::steady_clock::now();
    const double drift = gpu->recompute_energies();
    const double recompute_s = seconds_since(t0);
    std::vector<float> frames(static_cast<size_t>(walkers) * stride);
    t0 = std::chrono::steady_clock::now();
    gpu->configurations(frames);
    const double copy_s = seconds_since(t0);

    // ---- save cycles, serial and overlapped
    const std::uint64_t between = 1000;
    const int cycles = 5;
    double pressure = 0, host_s = 0;
    auto host_work = [&]() {  // P_ex of every frame, one thread (sample.cpp's loop over walkers)
      const auto h0 = std::chrono::steady_clock::now();
      for (int w = 0; w < walkers; ++w)
        pressure += excess_pressure<float>(sys, std::span<const float>(frames.data() + static_cast<size_t>(w) * stride, stride));
      host_s += seconds_since(h0);
    };
    t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < cycles; ++k) {
      gpu->run(between, step);
      gpu->configurations(frames);
      host_work();
    }
    const double serial_s = seconds_since(t0) / cycles;
    gpu->run(between, step);
    t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < cycles; ++k) {
      gpu->configurations(frames);
      gpu->start(between, step);
      host_work();
      gpu->finish();
    }
    const double overlapped_s = seconds_since(t0) / cycles;
    host_s /= 2 * cycles;
    pressure /= 2.0 * cycles * walkers;

    // ---- CPU: the rate on fewer walkers, and the same walkers on the GPU for the bit-for-bit count
    auto cpu = make_cpu_engine(sys, seed, 0, cpu_walkers, start);
    auto twin = make_cuda_engine(sys, seed, 0, cpu_walkers, start);
    cpu->run(warmup, step);
    twin->run(warmup, step);
    t0 = std::chrono::steady_clock::now();
    const std::uint64_t cpu_acc = cpu->run(cpu_moves, step);
    const double cpu_s = seconds_since(t0);
    const std::uint64_t twin_acc = twin->run(cpu_moves, step);
    std::vector<float> xc(static_cast<size_t>(cpu_walkers) * stride), xg(xc.size());
    cpu->configurations(xc);
    twin->configurations(xg);
    const auto ec = cpu->energies(), eg = twin->energies();
    int identical = 0;
    for (int w = 0; w < cpu_walkers; ++w)
      identical += std::memcmp(&xc[static_cast<size_t>(w) * stride], &xg[static_cast<size_t>(w) * stride],
                               sizeof(float) * stride) == 0 && ec[w] == eg[w];

    const double total = static_cast<double>(walkers) * moves, cpu_total = static_cast<double>(cpu_walkers) * cpu_moves;
    const double gpu_rate = total / gpu_s, cpu_rate = cpu_total / cpu_s;
    std::printf("{\n  \"benchmark\": \"mcmc_gpu\",\n  \"device\": \"%s\",\n", gpu->description().c_str());
    std::printf("  \"system\": \"IA: LJ eps=1, N=32, 2D, rho=0.735, r_c=3, r_in=0.8, step 0.175\",\n");
    std::printf("  \"gpu\": {\"walkers\": %d, \"moves_per_walker\": %llu, \"seconds\": %.6g, \"trial_moves_per_second\": %.4g, "
                "\"pair_evaluations_per_second\": %.4g, \"acceptance\": %.4f, \"recompute_seconds\": %.6g, "
                "\"max_energy_drift\": %.3g, \"frames_to_host_seconds\": %.6g},\n",
                walkers, static_cast<unsigned long long>(moves), gpu_s, gpu_rate, gpu_rate * 2 * 31,
                static_cast<double>(acc) / total, recompute_s, drift, copy_s);
    std::printf("  \"save_cycle\": {\"moves_per_save\": %llu, \"host_work_seconds\": %.6g, \"serial_seconds\": %.6g, "
                "\"overlapped_seconds\": %.6g, \"mean_excess_pressure\": %.6g},\n",
                static_cast<unsigned long long>(between), host_s, serial_s, overlapped_s, pressure);
    std::printf("  \"cpu\": {\"walkers\": %d, \"moves_per_walker\": %llu, \"threads\": %d, \"seconds\": %.6g, "
                "\"trial_moves_per_second\": %.4g, \"acceptance\": %.4f, \"seconds_for_gpu_count\": %.4g},\n",
                cpu_walkers, static_cast<unsigned long long>(cpu_moves), omp_get_max_threads(), cpu_s, cpu_rate,
                static_cast<double>(cpu_acc) / cpu_total, total / cpu_rate);
    std::printf("  \"speedup_gpu_over_cpu\": %.1f,\n  \"identical_walkers_vs_cpu\": %d,\n  \"compared_walkers\": %d,\n"
                "  \"accepted_equal\": %s,\n  \"target_seconds\": 0.25,\n  \"paper_seconds_rtx3080ti\": 90\n}\n",
                gpu_rate / cpu_rate, identical, cpu_walkers, cpu_acc == twin_acc ? "true" : "false");
    std::fprintf(stderr,
                 "\n  MC engine, system IA     walkers  moves/walker   seconds   trial moves/s\n"
                 "  gpu (%-18.18s) %8d %13llu %9.4f %15.4g\n"
                 "  cpu (%3d threads)      %8d %13llu %9.4f %15.4g\n"
                 "  %d walkers x 10^4 moves: gpu %.3f s (target 0.25 s, paper 90 s), cpu %.1f s; speedup %.0fx\n"
                 "  a save cycle (10^3 moves, frames, P_ex on the host %.4f s): serial %.4f s, overlapped %.4f s\n"
                 "  bit-identical walkers gpu vs cpu: %d of %d\n\n",
                 gpu->description().c_str(), walkers, static_cast<unsigned long long>(moves), gpu_s, gpu_rate,
                 omp_get_max_threads(), cpu_walkers, static_cast<unsigned long long>(cpu_moves), cpu_s, cpu_rate,
                 walkers, gpu_s * 1e4 / moves, total / cpu_rate * 1e4 / moves, gpu_rate / cpu_rate, host_s, serial_s,
                 overlapped_s, identical,
                 cpu_walkers);
    return identical == cpu_walkers ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_mcmc_gpu: %s\n", e.what());
    return static_cast<int>(e.code());
  }
}
