// Model file (src/io/model_file.hpp): a fitted preprocessor saved and loaded gives bitwise the
// same forward and inverse maps; the file is written atomically; wrong files are refused; a
// trained flow of either kind loads back as the same map (kind, shape and parameters); a file
// from before the kinds (no @kind, no @torus) loads as a real-NVP.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "io/model_file.hpp"
#include "flow/equivariant_flow.hpp"
#include "flow/realnvp.hpp"
#include "io/h5util.hpp"
#include "physics/box.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

std::string tmp_path(const std::string& name) {
  const char* env = std::getenv("BOLTZMAP_TEST_TMP");
  std::filesystem::path p = env && *env ? env : "/tmp/boltzmap_test_tmp";
  p /= "model_file";
  std::filesystem::create_directories(p);
  return (p / name).string();
}

// rows jittered lattice configurations of s, [rows][N][D].
std::vector<float> jittered_rows(const System& s, int rows) {
  std::vector<float> x;
  for (int r = 0; r < rows; ++r) {
    const auto c = test::jittered_lattice(s, 0.25, 8, r);
    x.insert(x.end(), c.begin(), c.end());
  }
  return x;
}

TEST(ModelFile, PreprocessorRoundTripsBitwise) {
  const double L = box_length(32, 0.735, 2);
  const System s = test::make_system(PotentialKind::lj, 1.0, 3.0, 0.8, 2, 32, L);
  const int rows = 300;
  std::vector<float> x = jittered_rows(s, rows);
  PreprocessSettings set;
  set.whiten = false;
  set.centre = "first";
  Preprocessor pre(set, 32, 2, L);
  const BatchView v{x.data(), rows, 32, 2};
  pre.fit(std::span<const BatchView>(&v, 1), 5);
  const std::string path = tmp_path("pre.h5");
  std::filesystem::remove(path);
  save_preprocessor(path, pre, "name = \"t\"\n");
  EXPECT_TRUE(std::filesystem::exists(path));
  EXPECT_FALSE(std::filesystem::exists(path + ".partial"));
  const Preprocessor back = load_preprocessor(path);
  EXPECT_EQ(back.settings().whiten, false);
  EXPECT_EQ(back.settings().centre, "first");
  EXPECT_EQ(back.wrap_centres(), pre.wrap_centres());
  EXPECT_EQ(back.log_det_forward(), pre.log_det_forward());
  std::vector<int> c(rows), g(rows);
  pre.training_choices(1, 0, c, g);
  std::vector<float> z1(static_cast<size_t>(rows) * 62), z2(z1.size()), x1(x.size()), x2(x.size());
  pre.forward(v, c, g, z1.data());
  back.forward(v, c, g, z2.data());
  EXPECT_EQ(z1, z2);
  pre.inverse(z1.data(), BatchView{x1.data(), rows, 32, 2});
  back.inverse(z1.data(), BatchView{x2.data(), rows, 32, 2});
  EXPECT_EQ(x1, x2);
}

// A flow of either kind saved with its preprocessing loads back as the same map: the kind, the
// preprocessing's latent space and bitwise the same outputs on the same inputs.
TEST(ModelFile, FlowsOfBothKindsRoundTrip) {
  const double L = box_length(18, 0.7, 2);
  const System s = test::make_system(PotentialKind::lj, 1.0, 2.5, 0.8, 2, 18, L);
  const int rows = 64;
  std::vector<float> x = jittered_rows(s, rows);
  const BatchView v{x.data(), rows, 18, 2};
  for (const bool torus : {false, true}) {
    PreprocessSettings set;
    set.torus = torus;
    Preprocessor pre(set, 18, 2, L);
    pre.fit(std::span<const BatchView>(&v, 1), 5);
    std::unique_ptr<Flow<float>> flow;
    if (torus) {
      EquivariantFlowShape sh;
      sh.particles = 17;
      sh.layers = 3;
      sh.bins = 5;
      sh.frequencies = 2;
      sh.hidden = 6;
      sh.length = L;
      flow = std::make_unique<EquivariantFlow<float>>(sh, 3);
    } else {
      flow = std::make_unique<RealNvp<float>>(FlowShape{pre.latent_dim(), 2, {8}, 0.0}, 3);
    }
    for (std::size_t i = 0; i < flow->parameter_count(); ++i) flow->parameters()[i] += 0.01f * static_cast<float>(i % 7) - 0.03f;
    const std::string path = tmp_path(torus ? "equivariant.h5" : "realnvp.h5");
    std::filesystem::remove(path);
    save_flow(path, pre, *flow, "name = \"t\"\n");
    const Model back = load_flow(path);
    EXPECT_STREQ(back.flow->kind(), flow->kind());
    EXPECT_EQ(back.pre.settings().torus, torus);
    EXPECT_EQ(back.flow->parameters(), flow->parameters());
    std::vector<int> c(rows), g(rows);
    Preprocessor::evaluation_choices(c, g);
    Flow<float>::Mat z(rows, pre.latent_dim()), z2(rows, pre.latent_dim()), y1, y2;
    Flow<float>::Vec l1, l2;
    pre.forward(v, c, g, z.data());
    back.pre.forward(v, c, g, z2.data());
    EXPECT_EQ(z, z2);
    flow->forward(z, y1, l1, nullptr);
    back.flow->forward(z, y2, l2, nullptr);
    EXPECT_EQ(y1, y2);
    EXPECT_EQ(l1, l2);
    EXPECT_GT((y1 - z).norm(), 0.0f);  // not the identity: the parameters were perturbed
    // A cache of the other kind is refused, not misread.
    RealNvp<float>::Cache nvp_cache;
    EquivariantFlow<float>::Cache eq_cache;
    FlowCache& wrong = torus ? static_cast<FlowCache&>(nvp_cache) : static_cast<FlowCache&>(eq_cache);
    EXPECT_THROW(flow->forward(z, y1, l1, &wrong), Error);
  }
}

// A real-NVP file from before [flow] kind (no /flow@kind, no /preprocess@torus) is a real-NVP.
TEST(ModelFile, AFlowFileWithoutKindIsARealNvp) {
  const double L = box_length(18, 0.7, 2);
  const System s = test::make_system(PotentialKind::lj, 1.0, 2.5, 0.8, 2, 18, L);
  std::vector<float> x = jittered_rows(s, 64);
  const BatchView v{x.data(), 64, 18, 2};
  Preprocessor pre(PreprocessSettings{}, 18, 2, L);
  pre.fit(std::span<const BatchView>(&v, 1), 5);
  const RealNvp<float> flow(FlowShape{pre.latent_dim(), 2, {8}, 0.0}, 3);
  const std::string path = tmp_path("old_realnvp.h5");
  std::filesystem::remove(path);
  save_flow(path, pre, flow, "name = \"t\"\n");
  {
    const hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT);
    ASSERT_GE(f, 0);
    EXPECT_GE(H5Adelete_by_name(f, "flow", "kind", H5P_DEFAULT), 0);
    EXPECT_GE(H5Adelete_by_name(f, "preprocess", "torus", H5P_DEFAULT), 0);
    H5Fclose(f);
  }
  const Model back = load_flow(path);
  EXPECT_STREQ(back.flow->kind(), "realnvp");
  EXPECT_FALSE(back.pre.settings().torus);
  EXPECT_EQ(back.flow->parameters(), flow.parameters());
}

TEST(ModelFile, WrongFilesAreIoErrors) {
  const std::string text = tmp_path("not_hdf5.h5");
  std::ofstream(text) << "hello";
  for (const std::string& p : {text, tmp_path("missing.h5")}) {
    try {
      load_preprocessor(p);
      ADD_FAILURE() << p;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::io) << e.what();
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace boltzmap
