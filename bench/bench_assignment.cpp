// bench_assignment: the cost of relabelling (preprocessing layer 4 of METHOD.md) a batch of liquid
// configurations of the paper's system (IA: LJ, N = 32, 2D, ρ = 0.735, T = 1), compared with one
// forward pass of a real-NVP flow of the paper's size on the same batch. Prints JSON.
//   bench_assignment [--batch B] [--moves M]
// Configurations: B MCMC walkers (src/sampling/walkers.hpp) run M moves each from the lattice,
// centred on particle 0, which is dropped; the 31 others are assigned to the 31 reference sites
// (the lattice shifted by L/2, its centre site removed): periodic_cost + LinearAssignment::solve
// per configuration (src/transforms/assignment.hpp), single thread and with OpenMP threads over the
// batch (one solver per thread). The flow reference runs the same matrix products as the network in
// float32 with Eigen: 8 coupling blocks, each with MLPs S and T of 31→128→128→128→31 and tanh, batch
// as rows, y₂ = x₂ ⊙ exp(S(x₁)) + T(x₁): 2·(31·128 + 2·128·128 + 128·31) multiply-adds per block
// per configuration. Each figure is the median of three timed runs.
#include <omp.h>

// GCC 12 false positives inside its AVX-512 intrinsics when Eigen is inlined (as for pca.cpp).
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/rng.hpp"
#include "physics/box.hpp"
#include "physics/lattice.hpp"
#include "sampling/walkers.hpp"
#include "transforms/assignment.hpp"

using namespace boltzmap;

namespace {

constexpr int kN = 32, kDim = 2, kM = kN - 1;  // particles, dimension, relabelled particles
constexpr int kBlocks = 8, kHidden = 128;

template <class F>
double median_of_3(F&& f) {
  double t[3];
  for (double& s : t) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }
  std::sort(t, t + 3);
  return t[1];
}

// Relabels every configuration ([config][particle][dim], 31 particles) onto sites; labels
// [config][particle]; returns Σ of the optimal costs. One solver and cost buffer per thread.
double relabel_batch(const std::vector<float>& x, const std::vector<double>& sites, double L, int batch,
                     std::vector<LinearAssignment>& solvers, std::vector<std::vector<double>>& costs,
                     std::vector<int>& labels) {
  double total = 0;
#pragma omp parallel reduction(+ : total)
  {
    const int t = omp_get_thread_num();
    LinearAssignment& lap = solvers[t];
    double* cost = costs[t].data();
#pragma omp for schedule(static)
    for (int b = 0; b < batch; ++b) {
      periodic_cost(x.data() + static_cast<size_t>(b) * kM * kDim, sites.data(), kM, kDim, L, cost);
      total += lap.solve(cost, kM, labels.data() + static_cast<size_t>(b) * kM);
    }
  }
  return total;
}

// A dense layer's weights (in × out) and bias, uniform ±scale/√in from Philox (values only set the
// magnitudes tanh and exp see; the timing does not depend on them).
struct Layer {
  Eigen::MatrixXf w;
  Eigen::RowVectorXf b;
};
Layer make_layer(int in, int out, float scale, std::uint32_t id) {
  Layer l{Eigen::MatrixXf(in, out), Eigen::RowVectorXf(out)};
  const float a = scale / std::sqrt(static_cast<float>(in));
  std::uint64_t k = 0;
  for (int j = 0; j < out; ++j) {
    for (int i = 0; i < in; ++i) l.w(i, j) = a * (2 * uniform_float(philox(7, RngStream::Init, id, k++).v[0]) - 1);
    l.b(j) = 0.1f * (2 * uniform_float(philox(7, RngStream::Init, id, k++).v[0]) - 1);
  }
  return l;
}

struct Mlp {
  Layer l[4];  // 31→128→128→128→31; tanh after the first three
};

Eigen::MatrixXf mlp_forward(const Mlp& m, const Eigen::MatrixXf& x) {
  Eigen::MatrixXf h = ((x * m.l[0].w).rowwise() + m.l[0].b).array().tanh().matrix();
  h = ((h * m.l[1].w).rowwise() + m.l[1].b).array().tanh().matrix();
  h = ((h * m.l[2].w).rowwise() + m.l[2].b).array().tanh().matrix();
  return (h * m.l[3].w).rowwise() + m.l[3].b;
}

// One flow forward pass over the batch: block k transforms half (k mod 2) conditioned on the other.
float flow_forward(const std::vector<Mlp>& s, const std::vector<Mlp>& t, Eigen::MatrixXf& x1, Eigen::MatrixXf& x2) {
  float log_det = 0;
  for (int k = 0; k < kBlocks; ++k) {
    Eigen::MatrixXf& cond = k % 2 ? x2 : x1;
    Eigen::MatrixXf& moved = k % 2 ? x1 : x2;
    const Eigen::MatrixXf sv = mlp_forward(s[k], cond);
    const Eigen::MatrixXf tv = mlp_forward(t[k], cond);
    moved = (moved.array() * sv.array().exp() + tv.array()).matrix();
    log_det += sv.sum();
  }
  return log_det;
}

}  // namespace

int main(int argc, char** argv) {
  int batch = 2048;
  std::uint64_t moves = 3000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--batch")) batch = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--moves")) moves = std::strtoull(argv[i + 1], nullptr, 10);
  }
  System sys;
  sys.n_particles = kN;
  sys.box.dimension = kDim;
  sys.box.length = box_length(kN, 0.735, kDim);
  sys.beta = 1.0;
  sys.potential = make_pair_potential(PotentialKind::lj, 1.0, 1.0, 3.0, 0.8);
  const double L = sys.box.length;
  const float Lf = static_cast<float>(L), inv_Lf = 1.0f / Lf;
  const std::vector<float> lattice = make_lattice("centered-square", kDim, kN, L);
  const int all = omp_get_max_threads();

  // Liquid configurations, centred on particle 0 (then dropped), as the pipeline feeds layer 4.
  WalkerSet ws(sys, 2022, 0, batch, lattice);
  ws.run(moves, 0.175f);
  std::vector<float> x(static_cast<size_t>(batch) * kM * kDim), conf(kN * kDim);
  for (int b = 0; b < batch; ++b) {
    ws.configuration(b, conf);
    for (int i = 1; i < kN; ++i)
      for (int d = 0; d < kDim; ++d)
        x[(static_cast<size_t>(b) * kM + i - 1) * kDim + d] =
            wrap_into_box(conf[i * kDim + d] - conf[d] + 0.5f * Lf, Lf, inv_Lf);
  }
  std::vector<double> sites;  // the lattice shifted by L/2 (site 0 to the centre), site 0 removed
  for (int k = 1; k < kN; ++k)
    for (int d = 0; d < kDim; ++d) sites.push_back(wrap_into_box(lattice[k * kDim + d] + L / 2, L, 1 / L));

  // Flow weights and input (the centred, dropped configurations as the 2 × 31 halves).
  std::vector<Mlp> s_nets(kBlocks), t_nets(kBlocks);
  std::uint32_t id = 0;
  for (int k = 0; k < kBlocks; ++k)
    for (Mlp* m : {&s_nets[k], &t_nets[k]}) {
      m->l[0] = make_layer(kM, kHidden, 1.0f, id++);
      m->l[1] = make_layer(kHidden, kHidden, 1.0f, id++);
      m->l[2] = make_layer(kHidden, kHidden, 1.0f, id++);
      m->l[3] = make_layer(kHidden, kM, 0.05f, id++);  // small log-scales: exp stays O(1)
    }
  Eigen::MatrixXf in1(batch, kM), in2(batch, kM);
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < kM; ++i) {
      const float* p = x.data() + static_cast<size_t>(b) * kM * kDim;
      in1(b, i) = p[i] / Lf - 0.5f;  // [particle][dim] flattened: first 31 numbers, then the rest
      in2(b, i) = p[kM + i] / Lf - 0.5f;
    }
  const double macs = static_cast<double>(batch) * kBlocks * 2 *
                      (kM * kHidden + 2.0 * kHidden * kHidden + kHidden * kM);

  struct Row {
    int threads, eigen_threads;
    double relabel_s, cost_only_s, mlp_s;
  };
  std::vector<Row> rows;
  std::vector<int> labels(static_cast<size_t>(batch) * kM);
  double total_cost = 0;
  float sink = 0;
  for (int threads : {1, all}) {
    omp_set_num_threads(threads);
    Eigen::setNbThreads(threads);
    std::vector<LinearAssignment> solvers(threads, LinearAssignment(kM));
    std::vector<std::vector<double>> costs(threads, std::vector<double>(kM * kM));
    relabel_batch(x, sites, L, batch, solvers, costs, labels);  // warm-up
    Row r{threads, Eigen::nbThreads(), 0, 0, 0};
    r.relabel_s = median_of_3([&] { total_cost = relabel_batch(x, sites, L, batch, solvers, costs, labels); });
    r.cost_only_s = median_of_3([&] {
#pragma omp parallel for schedule(static)
      for (int b = 0; b < batch; ++b)
        periodic_cost(x.data() + static_cast<size_t>(b) * kM * kDim, sites.data(), kM, kDim, L,
                      costs[omp_get_thread_num()].data());
    });
    Eigen::MatrixXf x1 = in1, x2 = in2;
    sink += flow_forward(s_nets, t_nets, x1, x2);  // warm-up
    r.mlp_s = median_of_3([&] {
      x1 = in1;
      x2 = in2;
      sink += flow_forward(s_nets, t_nets, x1, x2);
    });
    rows.push_back(r);
    if (all == 1) break;
  }
  int moved = 0;  // configurations whose optimal labelling is not the identity
  for (int b = 0; b < batch; ++b)
    for (int i = 0; i < kM; ++i)
      if (labels[static_cast<size_t>(b) * kM + i] != i) {
        ++moved;
        break;
      }

  std::printf("{\n  \"benchmark\": \"assignment\",\n");
  std::printf("  \"system\": \"IA: LJ eps=1, N=32, 2D, rho=0.735, T=1; 31 particles onto 31 sites (centred on particle 0)\",\n");
  std::printf("  \"batch\": %d,\n  \"mc_moves_per_walker\": %llu,\n", batch, static_cast<unsigned long long>(moves));
  std::printf("  \"mean_optimal_cost\": %.6g,\n  \"fraction_not_identity\": %.4f,\n", total_cost / batch,
              static_cast<double>(moved) / batch);
  std::printf("  \"flow\": \"8 coupling blocks, S and T MLPs 31-128-128-128-31 tanh, float32 Eigen\",\n");
  std::printf("  \"flow_multiply_adds\": %.6g,\n  \"results\": [\n", macs);
  for (size_t i = 0; i < rows.size(); ++i) {
    const Row& r = rows[i];
    std::printf("    {\"threads\": %d, \"eigen_threads\": %d, \"relabel_seconds\": %.6g, \"configurations_per_second\": %.6g, "
                "\"microseconds_per_configuration\": %.4g, \"periodic_cost_seconds\": %.6g, "
                "\"reference_mlp_forward_seconds\": %.6g, \"mlp_gflops\": %.4g, \"relabel_over_flow_forward\": %.4g}%s\n",
                r.threads, r.eigen_threads, r.relabel_s, batch / r.relabel_s, 1e6 * r.relabel_s / batch, r.cost_only_s, r.mlp_s,
                2 * macs / r.mlp_s * 1e-9, r.relabel_s / r.mlp_s, i + 1 < rows.size() ? "," : "");
  }
  std::printf("  ],\n  \"checksum\": %.6g\n}\n", static_cast<double>(sink));
  return 0;
}
