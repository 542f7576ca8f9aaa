// The training tests' world (tests/flow/test_trainer.cpp, tests/gpu/test_trainer_parity.cpp):
// the tiny systems of support/configs.hpp (N = 8, 2D; A = LJ ε = 1, B = LJ ε = ½) with a small
// flow of either kind, MC samples of both (400 training and 300 validation rows each) and the
// preprocessor fitted on the training sets.
#pragma once
#include <memory>
#include <string>

#include "core/config.hpp"
#include "flow/trainer.hpp"
#include "physics/experiment_physics.hpp"
#include "physics/lattice.hpp"
#include "sampling/walkers.hpp"
#include "support/configs.hpp"
#include "transforms/preprocessor.hpp"

namespace boltzmap::test {

// The tiny systems with a small flow of the given kind (the equivariant flow: 4 couplings of width 16).
inline std::string tiny_input(const std::string& kind) {
  return std::string(test::kTinySystems) + "[flow]\nkind = \"" + kind + R"("
blocks = 4
hidden = [32, 32]
layers = 4
width = 16
[training]
batch_size = 128
pool_mc_steps = 20
)";
}

struct World {
  Experiment e;
  std::unique_ptr<Preprocessor> pre;
  TrainingData data;
};

// MC samples of both systems (rows per set), the preprocessor fitted on the training sets.
inline std::unique_ptr<World> make_world(const std::string& phases, const std::string& kind = "realnvp") {
  auto w = std::make_unique<World>();
  w->e = parse_experiment(tiny_input(kind) + phases, "tiny.toml");
  const int N = 8, D = 2;
  const double L = box_length(N, 0.7, D);
  const auto lat = make_lattice("centered-square", D, N, L);
  std::vector<float>* sets[2][2] = {{&w->data.a_train, &w->data.a_validation}, {&w->data.b_train, &w->data.b_validation}};
  for (int k = 0; k < 2; ++k) {
    const System s = physical_system(w->e.systems[k], D, N);
    WalkerSet ws(s, 100 + k, 0, 700, lat);
    ws.run(3000, 0.3f);
    for (int set = 0; set < 2; ++set) {
      const int first = set == 0 ? 0 : 400, count = set == 0 ? 400 : 300;
      sets[k][set]->resize(static_cast<std::size_t>(count) * N * D);
      for (int i = 0; i < count; ++i)
        ws.configuration(first + i, std::span<float>(sets[k][set]->data() + static_cast<std::size_t>(i) * N * D, N * D));
    }
  }
  w->pre = std::make_unique<Preprocessor>(w->e.preprocess, N, D, L);
  const BatchView views[2] = {{w->data.a_train.data(), 400, N, D}, {w->data.b_train.data(), 400, N, D}};
  w->pre->fit(views, 9);
  return w;
}

inline const std::string kTwoPhases =
    "[[training.phases]]\nepochs = 2\nlambda_dir = 1.0\nlambda_inv = 0.0\nlearning_rate = [[0, 2e-3]]\n"
    "[[training.phases]]\nepochs = 2\nlambda_dir = 1.0\nlambda_inv = 1.0\nlearning_rate = [[0, 1e-3], [1, 5e-4]]\n";

}  // namespace boltzmap::test
