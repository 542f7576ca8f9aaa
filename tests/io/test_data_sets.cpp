// Provenance checks of data sets (src/io/data_sets.hpp): a data set made from the input passes;
// one made with any physics key of its system changed is refused naming that key and both values,
// while keys that do not change the distribution (seed, sampler, the other system, [flow]) pass;
// another system's or set's file, other box edges and other N are refused; a non-finite
// coordinate is refused naming the frame, particle and axis; coordinates outside the box are
// wrapped into [0, L) as periodic images of the originals.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/data_sets.hpp"
#include "physics/box.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

// A data set of system `label` as `boltzmap sample` of `e` writes it (3 frames, coordinates in [0, L)).
Frames made_from(const Experiment& e, char label, const std::string& set) {
  Frames f;
  const int N = e.box.n_particles, D = e.box.dimension;
  const double L = box_length(N, e.system(label).density, D);
  f.meta.frames = 3;
  f.meta.particles = N;
  f.meta.dimension = D;
  f.meta.box_length = L;
  f.meta.attributes = {{"boltzmap_input", e.resolved_toml}, {"boltzmap_system", std::string(1, label)}, {"boltzmap_set", set}};
  for (int i = 0; i < 3 * N * D; ++i) f.positions.push_back(static_cast<float>(std::fmod(0.37 * i, L)));
  return f;
}

Experiment input(const std::vector<std::string>& overrides = {}) {
  return parse_experiment(test::kTinySystems, "tiny.toml", overrides);
}

// The message of the io_error that check_data_set throws ("" if it passes).
std::string refusal(const Experiment& reader, Frames f, char label = 'B', const std::string& set = "train") {
  try {
    check_data_set("B_train.h5", f, reader, label, set);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::io) << e.what();
    return e.what();
  }
  return "";
}

TEST(DataSets, AFileOfTheSameInputPasses) {
  const Experiment e = input();
  EXPECT_EQ(refusal(e, made_from(e, 'B', "train")), "");
}

TEST(DataSets, EveryPhysicsKeyOfTheSystemIsCompared) {
  const Experiment reader = input();
  const std::pair<const char*, const char*> changes[] = {
      {"systems.B.epsilon", "0.4"},      {"systems.B.sigma", "1.1"},      {"systems.B.cutoff", "1.5"},
      {"systems.B.inner_cutoff", "0.7"}, {"systems.B.temperature", "1.2"}, {"systems.B.potential", "wca"}};
  for (const auto& [key, value] : changes) {
    const Experiment writer = input({std::string(key) + "=" + value});
    const std::string msg = refusal(reader, made_from(writer, 'B', "train"));
    EXPECT_NE(msg.find(std::string(key) + " = "), std::string::npos) << key << ": " << msg;
    EXPECT_NE(msg.find("in the file"), std::string::npos) << key << ": " << msg;
  }
  // density changes the box too: the key is named before the edges are compared.
  const std::string msg = refusal(reader, made_from(input({"systems.B.density=0.65"}), 'B', "train"));
  EXPECT_NE(msg.find("systems.B.density = 0.65 in the file, 0.7 in the input"), std::string::npos) << msg;
}

TEST(DataSets, KeysThatLeaveTheDistributionAloneAreNotCompared) {
  const Experiment reader = input();
  for (const char* change : {"seed=9", "systems.B.sampler.walkers=20", "systems.B.sampler.step_size=0.2",
                             "systems.B.datasets.train=5", "systems.A.epsilon=0.9", "output_dir=elsewhere"})
    EXPECT_EQ(refusal(reader, made_from(input({change}), 'B', "train")), "") << change;
  // WCA ignores the cutoff, so a cutoff change of a WCA system is no change of physics.
  const Experiment wca = input({"systems.B.potential=wca"});
  EXPECT_EQ(refusal(wca, made_from(input({"systems.B.potential=wca", "systems.B.cutoff=1.5"}), 'B', "train")), "");
}

TEST(DataSets, AnotherSystemsOrSetsFileIsRefused) {
  const Experiment e = input();
  EXPECT_NE(refusal(e, made_from(e, 'A', "train")).find("holds system A's train set"), std::string::npos);
  EXPECT_NE(refusal(e, made_from(e, 'B', "validation")).find("holds system B's validation set"), std::string::npos);
  Frames anonymous = made_from(e, 'B', "train");
  anonymous.meta.attributes.erase("boltzmap_input");
  EXPECT_NE(refusal(e, anonymous).find("has no @boltzmap_input"), std::string::npos);
}

TEST(DataSets, OtherEdgesOrShapesAreRefusedWithBothValues) {
  const Experiment e = input();
  Frames edges = made_from(e, 'B', "train");
  edges.meta.box_length *= 1.01;
  EXPECT_NE(refusal(e, edges).find("box edge"), std::string::npos);
  Frames shape = made_from(e, 'B', "train");
  shape.meta.particles = 4;
  shape.meta.dimension = 4;  // the same number of coordinates per frame
  const std::string msg = refusal(e, shape);
  EXPECT_NE(msg.find("frames of 4 particles in 4D"), std::string::npos) << msg;
  EXPECT_NE(msg.find("N = 8 in 2D"), std::string::npos) << msg;
}

TEST(DataSets, ANonFiniteCoordinateIsRefusedNamingFrameParticleAndAxis) {
  const Experiment e = input();
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    Frames f = made_from(e, 'B', "train");
    f.positions[2 * 16 + 5 * 2 + 1] = bad;  // frame 2, particle 5, axis 1
    const std::string msg = refusal(e, f);
    EXPECT_NE(msg.find("frame 2 (of 3), particle 5, axis 1"), std::string::npos) << msg;
  }
}

TEST(DataSets, CoordinatesOutsideTheBoxAreWrappedToTheirPeriodicImages) {
  const Experiment e = input();
  const Frames original = made_from(e, 'B', "train");
  const double L = original.meta.box_length;
  Frames f = original;
  for (std::size_t i = 0; i < f.positions.size(); ++i) f.positions[i] += static_cast<float>((static_cast<int>(i % 7) - 3) * L);
  check_data_set("B_train.h5", f, e, 'B', "train");
  for (std::size_t i = 0; i < f.positions.size(); ++i) {
    ASSERT_GE(f.positions[i], 0.0f) << i;
    ASSERT_LT(f.positions[i], static_cast<float>(L)) << i;
    // Float round-off of x ± 3L (|x| < 4L): a few ulps of 4L.
    const double d = minimum_image(static_cast<double>(f.positions[i]) - original.positions[i], L, 1.0 / L);
    ASSERT_LT(std::abs(d), 1e-5) << i;
  }
}

}  // namespace
}  // namespace boltzmap
