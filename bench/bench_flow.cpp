// bench_flow: one full training step of the paper's network (8 blocks, S and T MLPs of
// 31–128–128–128–31, 657 904 parameters) on a batch of 2048 configurations of each kind (both
// losses with their gradients through the energies, forces and inverse preprocessing, plus the
// Adam update), and the forward-map throughput (configurations per second), single thread and all
// threads, and the host preprocessing of one step's two batches (batch_preprocessing_seconds).
// Systems IA → IB; configurations from a short MC run. Prints JSON (median of 3). The
// same for the equivariant flow at its default size, under "equivariant".
#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "flow/adam.hpp"
#include "flow/equivariant_flow.hpp"
#include "flow/loss.hpp"
#include "flow/realnvp.hpp"
#include "parallel/comm.hpp"
#include "physics/lattice.hpp"
#include "sampling/walkers.hpp"

using namespace boltzmap;

namespace {
template <class F>
double median_seconds(F&& f) {
  double t[3];
  for (double& x : t) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    x = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(t, t + 3);
  return t[1];
}
}  // namespace

int main(int argc, char** argv) {
  MpiSession mpi(&argc, &argv);
  const int N = 32, D = 2, batch = 2048;
  const double L = box_length(N, 0.735, D);
  System a, b;
  for (System* s : {&a, &b}) {
    s->n_particles = N;
    s->box = Box{D, L};
    s->beta = 1.0;
  }
  a.potential = make_pair_potential(PotentialKind::lj, 1.0, 1.0, 3.0, 0.8);
  b.potential = make_pair_potential(PotentialKind::lj, 0.5, 1.0, 3.0, 0.8);
  const auto lat = make_lattice("centered-square", D, N, L);
  std::vector<std::vector<float>> x(2, std::vector<float>(static_cast<size_t>(batch) * N * D));
  for (int k = 0; k < 2; ++k) {
    WalkerSet ws(k == 0 ? a : b, 7 + k, 0, batch, lat);
    ws.run(3000, 0.2f);
    for (int w = 0; w < batch; ++w) ws.configuration(w, std::span<float>(x[k].data() + static_cast<size_t>(w) * N * D, N * D));
  }
  const int all = omp_get_max_threads();
  // One flow on its own latent space: a training step (both losses, gradients, Adam), the energies
  // alone, and the forward map, at 1 thread and all threads.
  auto measure = [&](Flow<float>& flow, const Preprocessor& pre) {
    Flow<float>::Mat z[2];
    const BatchView views[2] = {{x[0].data(), batch, N, D}, {x[1].data(), batch, N, D}};
    for (int k = 0; k < 2; ++k) {
      std::vector<int> c(batch), g(batch);
      pre.training_choices(3, k * batch, c, g);
      z[k].resize(batch, pre.latent_dim());
      pre.forward(views[k], c, g, z[k].data());
    }
    const LatentEnergy ea(pre, a, 1e5), eb(pre, b, 1e5);
    for (std::size_t i = 0; i < flow.parameter_count(); ++i) flow.parameters()[i] += 1e-3f * static_cast<float>(i % 7);
    Adam adam;
    ParamVector<float> grad;
    LossWorkspace<float> step_work;  // reused: steps of the same batch size do not allocate
    std::printf("  \"parameters\": %zu,\n  \"batch\": %d,\n  \"results\": [\n", flow.parameter_count(), batch);
    for (int threads : {1, all}) {
      omp_set_num_threads(threads);
      Eigen::setNbThreads(threads);
      const double step = median_seconds([&] {
        grad.assign(flow.parameter_count(), 0.0f);
        losses<float>(flow, ea, eb, z[0], z[1], 1.0, 1.0, &grad, &step_work);
        adam.step(flow.parameters(), grad, 1e-6);
      });
      const double energy_only = median_seconds([&] {
        Flow<double>::Vec e;
        Flow<double>::Mat gz;
        ea.evaluate(z[1].cast<double>(), e, &gz);
        eb.evaluate(z[0].cast<double>(), e, &gz);
      });
      Flow<float>::Mat y;
      Flow<float>::Vec ld;
      const std::unique_ptr<FlowCache> cache = flow.make_cache();  // reused: repeated passes allocate nothing
      const double fwd = median_seconds([&] { flow.forward(z[0], y, ld, cache.get()); });
      // A step's batch preprocessing on the host, as the trainer does it before every step (both
      // systems' rows: augmentation draws, centring, symmetry, drop, relabelling, wrap, PCA): the
      // figure that says whether a GPU step would wait for it (issue 14).
      Flow<float>::Mat zp(batch, pre.latent_dim());
      std::vector<int> pc(batch), pg(batch);
      const double prep = median_seconds([&] {
        for (int k = 0; k < 2; ++k) {
          pre.training_choices(5, k * batch, pc, pg);
          pre.forward(views[k], pc, pg, zp.data());
        }
      });
      std::printf("    {\"threads\": %d, \"training_step_seconds\": %.4g, \"energies_and_forces_seconds\": %.4g, "
                  "\"forward_seconds\": %.4g, \"forward_configurations_per_second\": %.4g, "
                  "\"batch_preprocessing_seconds\": %.4g}%s\n",
                  threads, step, energy_only, fwd, batch / fwd, prep, threads == all || all == 1 ? "" : ",");
      if (all == 1) break;
    }
    std::printf("  ]");
  };
  std::printf("{\n  \"benchmark\": \"flow\",\n  \"network\": \"8 blocks, S/T MLPs 31-128-128-128-31 tanh, float32\",\n");
  {
    Preprocessor pre(PreprocessSettings{}, N, D, L);
    const BatchView views[2] = {{x[0].data(), batch, N, D}, {x[1].data(), batch, N, D}};
    pre.fit(views, 1);
    RealNvp<float> flow(FlowShape{}, 1);
    measure(flow, pre);
  }
  // The equivariant flow at its default size ([flow] kind = "equivariant"), on the torus coordinates.
  std::printf(",\n  \"equivariant\": {\n  \"network\": \"8 circular couplings, K = 8 bins, F = 4 frequencies, width 32, "
              "pair messages, float32\",\n");
  {
    PreprocessSettings torus;
    torus.torus = true;
    Preprocessor pre(torus, N, D, L);
    const BatchView views[2] = {{x[0].data(), batch, N, D}, {x[1].data(), batch, N, D}};
    pre.fit(views, 1);
    EquivariantFlowShape sh;
    sh.particles = N - 1;
    sh.dim = D;
    sh.length = L;
    EquivariantFlow<float> flow(sh, 1);
    measure(flow, pre);
  }
  std::printf("\n  }\n");
  std::printf("}\n");
  return 0;
}
