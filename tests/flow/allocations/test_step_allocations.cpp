// Heap allocations of a training step (issue 4: "no allocation inside a step"): after warm-up,
// the flows' passes in both directions and a step of the losses with their gradients plus the Adam
// update allocate nothing, and a Trainer's step allocates exactly what the preprocessing (and, with
// λ_inv > 0, the pool's MC walkers) allocate on their own; with 1 and 2 OpenMP threads.
// Its own binary (flow_allocation_tests): it replaces malloc and friends (forwarding to glibc's
// __libc_*), so that operator new, Eigen's aligned_malloc, the OpenMP runtime and libc itself are
// all counted, on every thread. Nothing here initialises MPI, whose progress threads allocate.
#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/rng.hpp"
#include "flow/adam.hpp"
#include "flow/circular_coupling.hpp"
#include "flow/equivariant_flow.hpp"
#include "flow/loss.hpp"
#include "flow/realnvp.hpp"
#include "flow/trainer.hpp"
#include "physics/lattice.hpp"
#include "physics/experiment_physics.hpp"
#include "sampling/walkers.hpp"
#include "support/configs.hpp"

// ---- the counting allocator ----

extern "C" {
void* __libc_malloc(std::size_t);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
void __libc_free(void*);
}

namespace {

std::atomic<bool> g_counting{false};
std::atomic<long> g_allocations{0};
constexpr int kSizesKept = 16;
std::atomic<std::size_t> g_sizes[kSizesKept];  // the first sizes seen, for the failure message

void note(std::size_t bytes) {
  if (!g_counting.load(std::memory_order_relaxed)) return;
  const long k = g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (k < kSizesKept) g_sizes[k].store(bytes, std::memory_order_relaxed);
}

}  // namespace

extern "C" {
void* malloc(std::size_t n) {
  note(n);
  return __libc_malloc(n);
}
void free(void* p) { __libc_free(p); }
void* calloc(std::size_t k, std::size_t n) {
  note(k * n);
  return __libc_calloc(k, n);
}
void* realloc(void* p, std::size_t n) {
  note(n);
  return __libc_realloc(p, n);
}
void* memalign(std::size_t a, std::size_t n) {
  note(n);
  return __libc_memalign(a, n);
}
void* aligned_alloc(std::size_t a, std::size_t n) {
  note(n);
  return __libc_memalign(a, n);
}
int posix_memalign(void** p, std::size_t a, std::size_t n) {
  note(n);
  *p = __libc_memalign(a, n);
  return *p ? 0 : ENOMEM;
}
}

namespace boltzmap {
namespace {

// Heap allocations made (on any thread) while f runs, with the first sizes in `sizes`.
template <class F>
long allocations_during(F&& f, std::string* sizes = nullptr) {
  g_allocations = 0;
  g_counting = true;
  f();
  g_counting = false;
  const long n = g_allocations;
  if (sizes)
    for (long k = 0; k < std::min<long>(n, kSizesKept); ++k) *sizes += std::to_string(g_sizes[k]) + " ";
  return n;
}

// Runs `body` with 1 and then 2 OpenMP threads (Eigen's products parallelise on OpenMP too).
template <class F>
void for_thread_counts(F&& body) {
  const int saved = omp_get_max_threads();
  for (int threads : {1, 2}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    omp_set_num_threads(threads);
    body();
  }
  omp_set_num_threads(saved);
}

RealNvp<float>::Mat random_matrix(int rows, int cols, std::uint64_t seed) {
  RealNvp<float>::Mat m(rows, cols);
  for (int i = 0; i < rows; ++i)
    for (int j = 0; j < cols; ++j) {
      const Random4 r = philox(seed, RngStream::Test, static_cast<std::uint32_t>(i), static_cast<std::uint64_t>(j));
      m(i, j) = static_cast<float>(2 * uniform_double(r.v[0], r.v[1]) - 1);
    }
  return m;
}

// Both directions of the flow with their backward passes, on an odd dimension (the two parities
// keep different numbers of components) and a batch large enough for Eigen's blocked products.
TEST(RealNvpAllocations, PassesInBothDirectionsAllocateNothing) {
  FlowShape shape;
  shape.dim = 9;
  shape.blocks = 3;
  shape.hidden = {128, 64};
  shape.scale_bound = 2.0;
  RealNvp<float> flow(shape, 3);
  for (std::size_t i = 0; i < flow.parameter_count(); ++i) flow.parameters()[i] += 1e-3f * static_cast<float>(i % 5);
  const RealNvp<float>::Mat x = random_matrix(600, shape.dim, 1), gout = random_matrix(600, shape.dim, 2);
  const RealNvp<float>::Vec gld = RealNvp<float>::Vec::Constant(600, 0.5f);
  RealNvp<float>::Mat y, gx;
  RealNvp<float>::Vec ld;
  RealNvp<float>::Cache cache;
  ParamVector<float> grad(flow.parameter_count(), 0.0f);
  auto passes = [&] {
    flow.forward(x, y, ld, &cache);
    flow.backward_forward(cache, gout, gld, grad, gx);
    flow.inverse(x, y, ld, &cache);
    flow.backward_inverse(cache, gout, gld, grad, gx);
  };
  for_thread_counts([&] {
    passes();
    passes();  // warm-up
    std::string sizes;
    const long n = allocations_during([&] { for (int k = 0; k < 3; ++k) passes(); }, &sizes);
    EXPECT_EQ(n, 0) << n / 3.0 << " per round of four passes; first sizes: " << sizes;
  });
}

// The circular coupling layer (src/flow/circular_coupling.hpp) at the production shape (n = 31, 2D,
// K = 8, F = 4, H = 32): both directions with their backward passes, on a batch large enough for
// Eigen's blocked products and for several chunks of the pair messages.
TEST(CircularCouplingAllocations, PassesInBothDirectionsAllocateNothing) {
  CircularCouplingShape s;
  s.particles = 31;
  s.dim = 2;
  s.axis = 1;
  s.length = 5.6568542494923806;
  const CircularCouplingLayout l = circular_coupling_layout(s);
  std::vector<float> params(l.count);
  circular_coupling_initialise(s, 5, 0, params.data());
  for (std::size_t i = 0; i < params.size(); ++i) params[i] += 1e-2f * static_cast<float>(i % 5);
  const int batch = 40;
  const RealNvp<float>::Mat x = random_matrix(batch, s.particles * s.dim, 3), gout = random_matrix(batch, s.particles * s.dim, 4);
  const std::vector<float> gld(batch, 0.5f);
  std::vector<float> y(x.size()), gx(x.size()), ld(batch), grad(l.count, 0.0f);
  CircularCouplingCache<float> cache;
  auto passes = [&] {
    circular_coupling_forward_cpu(s, params.data(), x.data(), batch, y.data(), ld.data(), cache);
    circular_coupling_forward_backward_cpu(s, params.data(), cache, gout.data(), gld.data(), grad.data(), gx.data());
    circular_coupling_inverse_cpu(s, params.data(), x.data(), batch, y.data(), ld.data(), cache);
    circular_coupling_inverse_backward_cpu(s, params.data(), cache, gout.data(), gld.data(), grad.data(), gx.data());
  };
  for_thread_counts([&] {
    passes();
    passes();  // warm-up
    std::string sizes;
    const long n = allocations_during([&] { for (int k = 0; k < 3; ++k) passes(); }, &sizes);
    EXPECT_EQ(n, 0) << n / 3.0 << " per round of four passes; first sizes: " << sizes;
  });
}

// The equivariant flow (src/flow/equivariant_flow.hpp) at the production particle shape (n = 31,
// 2D, K = 8, F = 4, H = 32), 3 layers (both axes, one twice): both directions with their backward
// passes through one Cache, outputs and gradients passed in again at the same size.
TEST(EquivariantFlowAllocations, PassesInBothDirectionsAllocateNothing) {
  EquivariantFlowShape s;
  s.particles = 31;
  s.dim = 2;
  s.layers = 3;
  s.length = 5.6568542494923806;
  EquivariantFlow<float> flow(s, 6);
  for (std::size_t i = 0; i < flow.parameter_count(); ++i) flow.parameters()[i] += 1e-2f * static_cast<float>(i % 5);
  const int batch = 40;
  const EquivariantFlow<float>::Mat x = random_matrix(batch, flow.width(), 5), gout = random_matrix(batch, flow.width(), 6);
  const EquivariantFlow<float>::Vec gld = EquivariantFlow<float>::Vec::Constant(batch, 0.5f);
  EquivariantFlow<float>::Mat y, gx;
  EquivariantFlow<float>::Vec ld;
  EquivariantFlow<float>::Cache cache;
  ParamVector<float> grad(flow.parameter_count(), 0.0f);
  auto passes = [&] {
    flow.forward(x, y, ld, &cache);
    flow.backward_forward(cache, gout, gld, grad, gx);
    flow.inverse(x, y, ld, &cache);
    flow.backward_inverse(cache, gout, gld, grad, gx);
  };
  for_thread_counts([&] {
    passes();
    passes();  // warm-up
    std::string sizes;
    const long n = allocations_during([&] { for (int k = 0; k < 3; ++k) passes(); }, &sizes);
    EXPECT_EQ(n, 0) << n / 3.0 << " per round of four passes; first sizes: " << sizes;
  });
}

// The tiny physical setup of tests/flow/test_loss.cpp (N = 8, 2D; A = LJ ε = 1, B = LJ ε = ½), with
// `rows` preprocessed configurations of each.
struct LossSetup {
  System a, b;
  std::unique_ptr<Preprocessor> pre;
  RealNvp<float>::Mat za, zb;
};

LossSetup make_loss_setup(int rows) {
  LossSetup s;
  const int N = 8, D = 2;
  const double L = box_length(N, 0.7, D);
  s.a = test::make_system(PotentialKind::lj, 1.0, 1.6, 0.8, D, N, L);
  s.b = test::make_system(PotentialKind::lj, 0.5, 1.6, 0.8, D, N, L);
  const auto lat = make_lattice("centered-square", D, N, L);
  std::vector<std::vector<float>> data;
  for (const System* sys : {&s.a, &s.b}) {
    WalkerSet ws(*sys, 31, 0, rows, lat);
    ws.run(500, 0.3f);
    std::vector<float> x(static_cast<std::size_t>(rows) * N * D);
    for (int w = 0; w < rows; ++w) ws.configuration(w, std::span<float>(x.data() + static_cast<std::size_t>(w) * N * D, N * D));
    data.push_back(std::move(x));
  }
  s.pre = std::make_unique<Preprocessor>(PreprocessSettings{}, N, D, L);
  const BatchView views[2] = {{data[0].data(), rows, N, D}, {data[1].data(), rows, N, D}};
  s.pre->fit(views, 3);
  for (int k = 0; k < 2; ++k) {
    std::vector<int> c(rows), g(rows);
    s.pre->training_choices(5, static_cast<std::uint64_t>(k) * rows, c, g);
    RealNvp<float>::Mat& z = k == 0 ? s.za : s.zb;
    z.resize(rows, s.pre->latent_dim());
    s.pre->forward(views[k], c, g, z.data());
  }
  return s;
}

// One optimiser step as the trainer and bench_flow take it: both losses with their gradients
// (flow, energies, forces, inverse preprocessing) and the Adam update.
TEST(LossAllocations, TrainingStepAllocatesNothing) {
  const LossSetup s = make_loss_setup(512);
  FlowShape shape;
  shape.dim = s.pre->latent_dim();
  shape.blocks = 4;
  shape.hidden = {128, 128};
  RealNvp<float> flow(shape, 4);
  for (std::size_t i = 0; i < flow.parameter_count(); ++i) flow.parameters()[i] += 1e-3f * static_cast<float>(i % 7);
  const LatentEnergy ea(*s.pre, s.a, 1e5), eb(*s.pre, s.b, 1e5);
  Adam adam;
  ParamVector<float> grad;
  LossWorkspace<float> work;
  auto step = [&] {
    grad.assign(flow.parameter_count(), 0.0f);
    losses<float>(flow, ea, eb, s.za, s.zb, 1.0, 1.0, &grad, &work);
    adam.step(flow.parameters(), grad, 1e-6);
  };
  for_thread_counts([&] {
    step();
    step();  // warm-up
    std::string sizes;
    const long n = allocations_during([&] { for (int k = 0; k < 3; ++k) step(); }, &sizes);
    EXPECT_EQ(n, 0) << n / 3.0 << " per step; first sizes: " << sizes;
  });
}

// A tiny experiment (tests/flow/test_trainer.cpp's): one epoch of λ_inv = 0 and two of λ_inv = 1,
// 400 B (and A) training configurations in batches of 100, no validation sets.
const std::string kTinyExperiment = std::string(test::kTinySystems) + R"([flow]
blocks = 2
hidden = [32, 32]
[training]
batch_size = 100
pool_mc_steps = 20
[[training.phases]]
epochs = 2
lambda_dir = 1.0
lambda_inv = 0.0
learning_rate = [[0, 1e-3]]
[[training.phases]]
epochs = 2
lambda_dir = 1.0
lambda_inv = 1.0
learning_rate = [[0, 1e-3]]
)";

// Two epochs of each phase; the second of each is counted and compared with what the other
// modules a step calls allocate on their own, called the same way here (batch of 100).
TEST(TrainerAllocations, StepAddsNothingToThePreprocessingAndThePoolWalkers) {
  const int N = 8, D = 2, rows = 400, batch = 100, steps = rows / batch;
  const Experiment e = parse_experiment(kTinyExperiment, "tiny.toml");
  const double L = box_length(N, 0.7, D);
  const auto lat = make_lattice("centered-square", D, N, L);
  TrainingData data;
  for (int k = 0; k < 2; ++k) {
    WalkerSet ws(physical_system(e.systems[k], D, N), 100 + k, 0, rows, lat);
    ws.run(500, 0.3f);
    std::vector<float>& set = k == 0 ? data.a_train : data.b_train;
    set.resize(static_cast<std::size_t>(rows) * N * D);
    for (int i = 0; i < rows; ++i) ws.configuration(i, std::span<float>(set.data() + static_cast<std::size_t>(i) * N * D, N * D));
  }
  Preprocessor pre(e.preprocess, N, D, L);
  const BatchView views[2] = {{data.a_train.data(), rows, N, D}, {data.b_train.data(), rows, N, D}};
  pre.fit(views, 9);
  // The other modules' calls of one step, on buffers made beforehand.
  std::vector<float> x(data.b_train.begin(), data.b_train.begin() + batch * N * D);
  std::vector<int> c(batch), g(batch);
  RealNvp<float>::Mat z(batch, pre.latent_dim());
  auto preprocessing = [&] {
    pre.training_choices(7, 0, c, g);
    pre.forward(BatchView{x.data(), batch, N, D}, c, g, z.data());
  };
  const System sys_a = physical_system(e.system('A'), D, N);
  auto pool_walkers = [&] {
    WalkerSet ws(sys_a, 1, 0, batch, std::span<const float>(x.data(), N * D));
    for (int i = 0; i < batch; ++i) ws.set_configuration(i, std::span<const float>(x.data() + i * N * D, N * D));
    ws.run(static_cast<std::uint64_t>(e.training.pool_mc_steps), 0.3f);
  };
  for_thread_counts([&] {
    Trainer t(e, pre, data);
    preprocessing();
    pool_walkers();
    const long pre_allocs = allocations_during(preprocessing), walker_allocs = allocations_during(pool_walkers);
    // The end-of-epoch metrics allocate (like validation); counted once per epoch, not per step.
    EpochMetrics scratch;
    t.add_training_set_metrics(scratch);
    const long metric_allocs = allocations_during([&] { t.add_training_set_metrics(scratch); });
    t.train_epoch();  // warm-up
    const long phase1 = allocations_during([&] { t.train_epoch(); }) - metric_allocs;
    EXPECT_EQ(phase1, steps * pre_allocs) << "a step with λ_inv = 0: one preprocessing (" << pre_allocs << ")";
    t.train_epoch();  // warm-up of the pool's buffers
    const long phase2 = allocations_during([&] { t.train_epoch(); }) - metric_allocs;
    EXPECT_EQ(phase2, steps * (2 * pre_allocs + walker_allocs))
        << "a step with λ_inv > 0: two preprocessings (" << pre_allocs << " each) and the pool's walkers (" << walker_allocs << ")";
  });
}

}  // namespace
}  // namespace boltzmap
