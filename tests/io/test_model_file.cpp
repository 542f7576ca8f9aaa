// Model file (src/io/model_file.hpp): a fitted preprocessor saved and loaded gives bitwise the
// same forward and inverse maps; the file is written atomically; wrong files are refused.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "io/model_file.hpp"
#include "flow/realnvp.hpp"
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

TEST(ModelFile, PreprocessorRoundTripsBitwise) {
  const double L = box_length(32, 0.735, 2);
  const System s = test::make_system(PotentialKind::lj, 1.0, 3.0, 0.8, 2, 32, L);
  const int rows = 300;
  std::vector<float> x;
  for (int r = 0; r < rows; ++r) {
    const auto c = test::jittered_lattice(s, 0.25, 8, r);
    x.insert(x.end(), c.begin(), c.end());
  }
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
