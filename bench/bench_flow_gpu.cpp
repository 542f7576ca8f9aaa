// bench_flow_gpu: the GPU real-NVP (CudaRealNvp, src/flow/realnvp_cuda.hpp) and Adam (CudaAdam)
// on the paper's network (D = 62, 8 blocks, S and T MLPs 31–128–128–128–31, 657 904 parameters)
// at a batch of 2048: forward, inverse, forward + backward_forward, inverse + backward_inverse
// and one Adam step, each timed with CUDA events over many repetitions after a warm-up (launches
// as the trainer would issue them, and forward + backward_forward once more as a captured CUDA
// graph, to show the launch overhead); the matrix-product FLOPs of each pass (2·rows·in·out per
// GEMM, ×3 with the backward pass: the weight and the input gradient; element-wise work not
// counted) and the fraction of the device's FP32 peak (SMs × FP32 lanes per SM × 2 × clock), the
// Adam step's bytes against the memory peak; and RealNvp<float> on the CPU at the same batch.
// Then the two end-to-end figures on the host's clock: a training step as the Trainer
// runs it (CudaTrainSteps: raw batches copied in and preprocessed on the device, both losses,
// Adam, one wait; target 5 ms) and mapping 2.5×10⁴ configurations with their weights (CudaMapper,
// copies in and out included; target 10 ms), with map_configurations on the CPU beside it.
// Prints JSON on stdout and a short table on stderr. Without a usable GPU it prints a JSON note
// and exits 0. Used by tools/gpu-check.
//   bench_flow_gpu [--batch B] [--reps R]
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/backend.hpp"
#include "core/error.hpp"
#include "core/rng.hpp"
#include "analysis/mapping.hpp"
#include "analysis/mapping_cuda.hpp"
#include "flow/adam_cuda.hpp"
#include "flow/latent_energy_cuda.hpp"
#include "flow/loss.hpp"
#include "flow/loss_cuda.hpp"
#include "flow/realnvp.hpp"
#include "flow/realnvp_cuda.hpp"
#include "flow/train_steps_cuda.hpp"
#include "transforms/preprocessor_cuda.hpp"
#include "parallel/comm.hpp"
#include "physics/lattice.hpp"
#include "sampling/walkers.hpp"
#include "gpu_peaks.hpp"
#include "system_ia.hpp"

using namespace boltzmap;

namespace {

std::vector<float> random_vector(std::size_t n, double scale, std::uint32_t id) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) {
    const Random4 r = philox(2022, RngStream::Test, id, i);
    v[i] = static_cast<float>(scale * (2.0 * uniform_double(r.v[0], r.v[1]) - 1.0));
  }
  return v;
}

cuda::DeviceBuffer<float> to_device(const std::vector<float>& h, cudaStream_t s) {
  cuda::DeviceBuffer<float> d(h.size());
  cuda::copy_to_device(d, std::span<const float>(h), s);
  CUDA_CHECK(cudaStreamSynchronize(s));
  return d;
}

// Milliseconds per call of f (which enqueues on `stream`), over `reps` calls after `warmup`.
double time_ms(cudaStream_t stream, int warmup, int reps, const std::function<void()>& f) {
  for (int i = 0; i < warmup; ++i) f();
  cudaEvent_t a, b;
  CUDA_CHECK(cudaEventCreate(&a));
  CUDA_CHECK(cudaEventCreate(&b));
  CUDA_CHECK(cudaEventRecord(a, stream));
  for (int i = 0; i < reps; ++i) f();
  CUDA_CHECK(cudaEventRecord(b, stream));
  CUDA_CHECK(cudaEventSynchronize(b));
  float ms = 0;
  CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
  CUDA_CHECK(cudaEventDestroy(a));
  CUDA_CHECK(cudaEventDestroy(b));
  return static_cast<double>(ms) / reps;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(&argc, &argv);
  int batch = 2048, reps = 200;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--reps")) reps = std::max(1, std::atoi(argv[i + 1]));
  }
  const Accelerators acc = probe_accelerators();
  if (!acc.cuda_usable()) {
    std::printf("{\n  \"benchmark\": \"flow_gpu\",\n  \"skipped\": true,\n  \"reason\": \"%s\"\n}\n",
                acc.cuda_compiled ? "no CUDA device is visible" : "this build has no CUDA");
    std::fprintf(stderr, "bench_flow_gpu: skipped (no usable GPU)\n");
    return 0;
  }
  try {
    const FlowShape shape;  // the paper's
    RealNvp<float> cpu(shape, 2022);
    {
      const std::vector<float> p = random_vector(cpu.parameter_count(), 0.05, 1);  // not the identity
      std::copy(p.begin(), p.end(), cpu.parameters().begin());
    }
    const int D = shape.dim;
    const std::size_t n = static_cast<std::size_t>(batch) * D, np = cpu.parameter_count();

    // ---- device, and its peaks
    int dev = 0;
    CUDA_CHECK(cudaGetDevice(&dev));
    cudaDeviceProp prop{};
    CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    const bench::GpuPeaks peaks = bench::gpu_peaks();  // bench/gpu_peaks.hpp: the formulas
    const double clock_khz = peaks.clock_khz, mem_khz = peaks.memory_clock_khz;
    const int bus_bits = static_cast<int>(peaks.bus_bits), lanes = peaks.fp32_lanes;
    const double peak_flops = peaks.fp32_flops, peak_bytes = peaks.bytes_per_second;

    // ---- matrix-product FLOPs of one forward (or inverse) pass
    const NvpLayout L = realnvp_layout(shape);
    double gemm_flops = 0;
    for (const NvpBlockLayout& b : L.blocks)
      for (const auto* m : {&b.s, &b.t})
        for (const NvpLayer& ly : *m) gemm_flops += 2.0 * batch * ly.in * ly.out;

    // ---- GPU
    CudaRealNvp gpu(cpu);
    const cudaStream_t st = gpu.stream();
    cuda::DeviceBuffer<float> x = to_device(random_vector(n, 1.5, 2), st), y(n), g = to_device(random_vector(n, 1.0, 3), st),
                              gx(n), ld(batch), gld = to_device(random_vector(batch, 1.0, 4), st), grad(np);
    grad.fill_bytes(0, st);
    CudaRealNvp::Workspace ws;
    const int warmup = 10;
    const double fwd = time_ms(st, warmup, reps, [&] { gpu.forward(x.data(), y.data(), ld.data(), batch, ws); });
    const double inv = time_ms(st, warmup, reps, [&] { gpu.inverse(x.data(), y.data(), ld.data(), batch, ws); });
    auto fwd_bwd_call = [&] {
      gpu.forward(x.data(), y.data(), ld.data(), batch, ws);
      gpu.backward_forward(ws, g.data(), gld.data(), grad.data(), gx.data());
    };
    const double fwd_bwd = time_ms(st, warmup, reps, fwd_bwd_call);
    const double inv_bwd = time_ms(st, warmup, reps, [&] {
      gpu.inverse(x.data(), y.data(), ld.data(), batch, ws);
      gpu.backward_inverse(ws, g.data(), gld.data(), grad.data(), gx.data());
    });
    CudaAdam adam(np, st);
    grad.fill_bytes(0, st);  // finite gradients for Adam (the accumulated ones are large but finite; zero is as fast)
    const double adam_ms = time_ms(st, warmup, reps, [&] { adam.step(gpu.parameters_device(), grad.data(), 1e-4); });
    gpu.upload_parameters(std::span<const float>(cpu.parameters().data(), np));

    // One whole training step, the target (< 5 ms at batch 2048): both losses with the
    // energies and forces on the device (cuda_losses), their gradient and Adam, as CudaTrainSteps
    // runs it — without the host's batch preprocessing and the two batch copies (bench_flow's
    // batch_preprocessing_seconds; 2·2048·62 floats, ≈ 1 MB). Systems IA → IB (ε = ½) on
    // configurations from a short MC run, the preprocessing fitted on them, this random flow.
    double step_ms = -1;
    // The same step as the Trainer issues it (CudaTrainSteps): the raw batches (configurations and
    // their draws) copied in, preprocessed on the device, the losses, Adam, and the host's one wait;
    // timed on the host's clock. And the device preprocessing of the two batches alone.
    double full_step_ms = -1, device_pre_ms = -1;
    // Mapping 2.5×10⁴ configurations with weights (CudaMapper, host clock: the copies in and out
    // included) against the 10 ms, and map_configurations on the CPU.
    const int map_rows = 25000;
    double map_ms = -1, cpu_map_ms = -1;
    {
      const System a = bench::system_ia();
      System b = a;
      b.potential = make_pair_potential(PotentialKind::lj, 0.5, 1.0, 3.0, 0.8);
      const int N = a.n_particles, Dm = a.box.dimension;
      const auto lat = make_lattice("centered-square", Dm, N, a.box.length);
      std::vector<float> xs[2];
      for (int k = 0; k < 2; ++k) {
        WalkerSet ws_mc(k == 0 ? a : b, 7 + k, 0, batch, lat);
        ws_mc.run(2000, 0.2f);
        xs[k].resize(static_cast<std::size_t>(batch) * N * Dm);
        for (int w = 0; w < batch; ++w)
          ws_mc.configuration(w, std::span<float>(xs[k].data() + static_cast<std::size_t>(w) * N * Dm, N * Dm));
      }
      Preprocessor pre(PreprocessSettings{}, N, Dm, a.box.length);
      const BatchView views[2] = {{xs[0].data(), batch, N, Dm}, {xs[1].data(), batch, N, Dm}};
      pre.fit(views, 1);
      if (pre.latent_dim() != D) throw Error(ExitCode::failure, "bench_flow_gpu: the latent dimension is not the flow's");
      std::vector<float> z[2];
      for (int k = 0; k < 2; ++k) {
        std::vector<int> c(batch), e(batch);
        pre.training_choices(3, static_cast<std::uint64_t>(k) * batch, c, e);
        z[k].resize(n);
        pre.forward(views[k], c, e, z[k].data());
      }
      const LatentEnergy ea(pre, a, 1e5), eb(pre, b, 1e5, 'B');
      const CudaLatentEnergy gea(ea), geb(eb);
      cuda::DeviceBuffer<float> za = to_device(z[0], st), zb = to_device(z[1], st), sgrad(np);
      CudaLossWorkspace lw;
      CudaAdam sadam(np, st);
      step_ms = time_ms(st, warmup, reps, [&] {
        sgrad.fill_bytes(0, st);
        cuda_losses(gpu, gea, geb, za.data(), batch, zb.data(), batch, 1.0, 1.0, sgrad.data(), lw);
        sadam.step(gpu.parameters_device(), sgrad.data(), 1e-9);
      });
      gpu.upload_parameters(std::span<const float>(cpu.parameters().data(), np));

      {
        std::vector<int> choice[4];
        for (int k = 0; k < 2; ++k) {
          choice[2 * k].resize(batch);
          choice[2 * k + 1].resize(batch);
          pre.training_choices(3, static_cast<std::uint64_t>(k) * batch, choice[2 * k], choice[2 * k + 1]);
        }
        CudaPreprocessor dpre(pre, st);
        auto dx0 = to_device(xs[0], st), dx1 = to_device(xs[1], st);
        cuda::DeviceBuffer<int> dc(4 * static_cast<std::size_t>(batch));
        for (int k = 0; k < 4; ++k)
          CUDA_CHECK(cudaMemcpyAsync(dc.data() + static_cast<std::size_t>(k) * batch, choice[k].data(), sizeof(int) * batch,
                                     cudaMemcpyHostToDevice, st));
        cuda::DeviceBuffer<float> dz(n);
        device_pre_ms = time_ms(st, warmup, reps, [&] {
          dpre.forward(dx0.data(), dc.data(), dc.data() + batch, batch, dz.data());
          dpre.forward(dx1.data(), dc.data() + 2 * static_cast<std::size_t>(batch), dc.data() + 3 * static_cast<std::size_t>(batch),
                       batch, dz.data());
        });
        dpre.check();

        RealNvp<float> host_flow(shape, 2022);
        std::copy(cpu.parameters().begin(), cpu.parameters().end(), host_flow.parameters().begin());
        Adam host_adam;
        CudaTrainSteps steps(host_flow, host_adam, pre, ea, eb, nullptr);
        const RawBatch ra{xs[0].data(), choice[0].data(), choice[1].data(), batch};
        const RawBatch rb{xs[1].data(), choice[2].data(), choice[3].data(), batch};
        bool finite = true, preprocessed = true;
        auto one = [&] {
          bool f = true, p = true;
          steps.losses_and_gradient(ra, rb, 1.0, 1.0, batch, &f, &p);
          finite &= f;
          preprocessed &= p;
          steps.step(1e-9);
        };
        for (int i = 0; i < warmup; ++i) one();
        const auto t0 = std::chrono::steady_clock::now();
        for (int i = 0; i < reps; ++i) one();
        steps.download(host_flow, host_adam);  // waits for the last Adam step
        full_step_ms = seconds_since(t0) * 1e3 / reps;
        if (!finite || !preprocessed)
          throw Error(ExitCode::numerical, "bench_flow_gpu: a non-finite gradient or batch in the timed steps");
      }

      {
        std::vector<float> xm;
        xm.reserve(static_cast<std::size_t>(map_rows) * N * Dm);
        while (xm.size() < static_cast<std::size_t>(map_rows) * N * Dm)
          xm.insert(xm.end(), xs[0].begin(),
                    xs[0].begin() + static_cast<std::ptrdiff_t>(std::min(xs[0].size(), static_cast<std::size_t>(map_rows) * N * Dm - xm.size())));
        CudaMapper mapper(pre, cpu, a, b, map_rows);
        mapper.map(Direction::a_to_b, xm);  // warm-up (the workspace's first allocation)
        double t[3];
        for (double& v : t) {
          const auto t0 = std::chrono::steady_clock::now();
          mapper.map(Direction::a_to_b, xm);
          v = seconds_since(t0) * 1e3;
        }
        std::sort(t, t + 3);
        map_ms = t[1];
        const auto t0 = std::chrono::steady_clock::now();
        map_configurations(pre, cpu, a, b, Direction::a_to_b, xm);
        cpu_map_ms = seconds_since(t0) * 1e3;
      }
    }

    // The default-math cuBLAS mode, for comparison (both FP32, no TF32).
    double fwd_bwd_default = -1;
    {
      CudaRealNvp gpu2(cpu, GemmMath::fp32);
      CudaRealNvp::Workspace ws2;
      cuda::DeviceBuffer<float> y2(n), gx2(n), ld2(batch), grad2(np);
      grad2.fill_bytes(0, gpu2.stream());
      fwd_bwd_default = time_ms(gpu2.stream(), warmup, reps, [&] {
        gpu2.forward(x.data(), y2.data(), ld2.data(), batch, ws2);
        gpu2.backward_forward(ws2, g.data(), gld.data(), grad2.data(), gx2.data());
      });
    }

    // forward + backward_forward captured once as a CUDA graph, then replayed.
    double graph_ms = -1;
    std::string graph_note = "ok";
    try {
      cudaGraph_t graph = nullptr;
      cudaGraphExec_t exec = nullptr;
      CUDA_CHECK(cudaStreamBeginCapture(st, cudaStreamCaptureModeRelaxed));
      try {
        fwd_bwd_call();
      } catch (...) {
        cudaStreamEndCapture(st, &graph);
        throw;
      }
      CUDA_CHECK(cudaStreamEndCapture(st, &graph));
      CUDA_CHECK(cudaGraphInstantiate(&exec, graph, 0));
      graph_ms = time_ms(st, warmup, reps, [&] { CUDA_CHECK(cudaGraphLaunch(exec, st)); });
      CUDA_CHECK(cudaGraphExecDestroy(exec));
      CUDA_CHECK(cudaGraphDestroy(graph));
    } catch (const Error& e) {
      graph_note = std::string("capture failed: ") + e.what();
      cudaGetLastError();
    }
    for (char& ch : graph_note)
      if (ch == '"' || ch == '\\' || ch == '\n') ch = ' ';

    // ---- CPU: RealNvp<float>, all threads, median of 3 after one warm-up
    const int threads = omp_get_max_threads();
    const RealNvp<float>::Mat xc = Eigen::Map<const RealNvp<float>::Mat>(random_vector(n, 1.5, 2).data(), batch, D);
    const RealNvp<float>::Mat gc = Eigen::Map<const RealNvp<float>::Mat>(random_vector(n, 1.0, 3).data(), batch, D);
    const RealNvp<float>::Vec gldc = RealNvp<float>::Vec::Ones(batch);
    RealNvp<float>::Mat yc, gxc;
    RealNvp<float>::Vec ldc;
    ParamVector<float> gradc;
    auto cache = cpu.make_cache();
    auto cpu_time = [&](const std::function<void()>& f) {
      f();
      double t[3];
      for (double& v : t) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        v = seconds_since(t0);
      }
      std::sort(t, t + 3);
      return t[1] * 1e3;
    };
    const double cpu_fwd = cpu_time([&] { cpu.forward(xc, yc, ldc, cache.get()); });
    const double cpu_fwd_bwd = cpu_time([&] {
      cpu.forward(xc, yc, ldc, cache.get());
      cpu.backward_forward(*cache, gc, gldc, gradc, gxc);
    });

    auto frac = [&](double flops, double ms) { return flops / (ms * 1e-3) / peak_flops; };
    const double adam_bytes = 44.0 * static_cast<double>(np);  // θ r/w 8, g 4, m and v r/w 32 (bytes per parameter)
    std::printf("{\n  \"benchmark\": \"flow_gpu\",\n  \"device\": \"%s\",\n  \"sm\": \"%d.%d\",\n", gpu.description().c_str(),
                prop.major, prop.minor);
    std::printf("  \"fp32_peak_flops\": %.4g,\n  \"fp32_peak_formula\": \"SMs %d x FP32 lanes/SM %d x 2 (FMA) x clock %.0f MHz\",\n",
                peak_flops, prop.multiProcessorCount, lanes, clock_khz / 1e3);
    std::printf("  \"memory_peak_bytes_per_second\": %.4g,\n  \"memory_peak_formula\": \"2 x memory clock %.0f MHz x bus %d bits / 8\",\n",
                peak_bytes, mem_khz / 1e3, bus_bits);
    std::printf("  \"shape\": \"D=62, 8 blocks, hidden 128,128,128, %zu parameters\",\n  \"batch\": %d,\n  \"reps\": %d,\n",
                np, batch, reps);
    std::printf("  \"flops_note\": \"matrix products only: 2*rows*in*out per GEMM, x3 with a backward pass\",\n");
    std::printf("  \"gpu_ms\": {\"forward\": %.4g, \"inverse\": %.4g, \"forward_backward\": %.4g, \"inverse_backward\": %.4g, "
                "\"adam_step\": %.4g, \"forward_backward_cublas_default_math\": %.4g, \"forward_backward_graph\": %.4g, "
                "\"training_step_both_losses\": %.4g, \"device_preprocessing_2_batches\": %.4g},\n",
                fwd, inv, fwd_bwd, inv_bwd, adam_ms, fwd_bwd_default, graph_ms, step_ms, device_pre_ms);
    std::printf("  \"host_clock_ms\": {\"training_step_as_the_trainer_runs_it\": %.4g, \"mapping_%d_with_weights\": %.4g, "
                "\"cpu_mapping_%d_with_weights\": %.4g},\n  \"mapping_target_ms\": 10,\n",
                full_step_ms, map_rows, map_ms, map_rows, cpu_map_ms);
    // The mapping's matrix-product FLOPs: the flow's pass at map_rows, and the three PCA products
    // (forward, inverse, the domain test's inverse: 2·rows·m² each); the pair energies (3·N(N−1)/2
    // pair terms per configuration, in double) are not counted.
    const double map_flops = gemm_flops * map_rows / batch + 3 * 2.0 * map_rows * D * D;
    // A training step's matrix-product FLOPs: both losses, each a pass and its backward pass
    // (3× a pass), plus the two batches' PCA products in the device preprocessing; the energies and
    // forces (double, per pair) are not counted.
    const double step_flops = 2 * 3 * gemm_flops + 2 * 2.0 * batch * D * D;
    std::printf("  \"training_step_gemm_flops\": %.4g, \"training_step_fp32_peak_fraction\": {\"both_losses\": %.4f, "
                "\"as_the_trainer_runs_it\": %.4f},\n",
                step_flops, step_ms > 0 ? frac(step_flops, step_ms) : 0.0, full_step_ms > 0 ? frac(step_flops, full_step_ms) : 0.0);
    std::printf("  \"mapping_gemm_flops\": %.4g, \"mapping_fp32_peak_fraction\": %.4f,\n", map_flops,
                map_ms > 0 ? frac(map_flops, map_ms) : 0.0);
    std::printf("  \"training_step_target_ms\": 5, \"paper_protocol_minutes_at_this_step\": %.3g,\n",
                step_ms * 3000.0 * (9000.0 / batch) / 60000.0);
    std::printf("  \"graph\": \"%s\",\n", graph_note.c_str());
    std::printf("  \"gemm_flops\": {\"forward\": %.4g, \"forward_backward\": %.4g},\n", gemm_flops, 3 * gemm_flops);
    std::printf("  \"fp32_peak_fraction\": {\"forward\": %.4f, \"inverse\": %.4f, \"forward_backward\": %.4f, "
                "\"inverse_backward\": %.4f, \"forward_backward_graph\": %.4f},\n",
                frac(gemm_flops, fwd), frac(gemm_flops, inv), frac(3 * gemm_flops, fwd_bwd), frac(3 * gemm_flops, inv_bwd),
                graph_ms > 0 ? frac(3 * gemm_flops, graph_ms) : 0.0);
    std::printf("  \"adam\": {\"bytes\": %.4g, \"memory_peak_fraction\": %.4f},\n", adam_bytes,
                adam_bytes / (adam_ms * 1e-3) / peak_bytes);
    std::printf("  \"cpu\": {\"threads\": %d, \"forward_ms\": %.4g, \"forward_backward_ms\": %.4g},\n", threads, cpu_fwd,
                cpu_fwd_bwd);
    std::printf("  \"speedup_forward_backward_gpu_over_cpu\": %.1f\n}\n", cpu_fwd_bwd / fwd_bwd);
    std::fprintf(stderr,
                 "\n  real-NVP, batch %d        gpu ms   FP32 peak    cpu ms (%d threads)\n"
                 "  forward                %8.4f   %8.2f%%   %8.2f\n"
                 "  inverse                %8.4f   %8.2f%%\n"
                 "  forward+backward       %8.4f   %8.2f%%   %8.2f\n"
                 "  inverse+backward       %8.4f   %8.2f%%\n"
                 "  fwd+bwd as CUDA graph  %8.4f   %8.2f%%   (%s)\n"
                 "  Adam step              %8.4f   %8.2f%% of memory peak\n"
                 "  training step (all)    %8.4f   (raw batches in, device preprocessing; target 5 ms)\n"
                 "  map 2.5e4 + weights    %8.4f   (target 10 ms; cpu %.1f ms)\n"
                 "  peak: %d SMs x %d lanes x 2 x %.0f MHz = %.1f TFLOP/s\n\n",
                 batch, threads, fwd, 100 * frac(gemm_flops, fwd), cpu_fwd, inv, 100 * frac(gemm_flops, inv), fwd_bwd,
                 100 * frac(3 * gemm_flops, fwd_bwd), cpu_fwd_bwd, inv_bwd, 100 * frac(3 * gemm_flops, inv_bwd), graph_ms,
                 graph_ms > 0 ? 100 * frac(3 * gemm_flops, graph_ms) : 0.0, graph_note.c_str(), adam_ms,
                 100 * adam_bytes / (adam_ms * 1e-3) / peak_bytes, full_step_ms, map_ms, cpu_map_ms, prop.multiProcessorCount, lanes, clock_khz / 1e3,
                 peak_flops / 1e12);
    return 0;
  } catch (const Error& e) {
    std::fprintf(stderr, "bench_flow_gpu: %s\n", e.what());
    return static_cast<int>(e.code());
  }
}
