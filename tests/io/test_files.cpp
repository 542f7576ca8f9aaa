// Checked writes (src/io/files.cpp, src/io/h5util.cpp): write_text_atomic and append_text report a
// failure as Error(ExitCode::io) naming the file and strerror, and leave nothing half-written under
// the final name; H5File::create builds the file in memory and writes it only at close() (an
// unclosed file leaves nothing on disk); attributes over 64 kB (a long resolved input) round trip
// through H5File and H5mdWriter. Full-disk cases: tests/app/full_disk.sh.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/error.hpp"
#include "io/files.hpp"
#include "io/h5md.hpp"
#include "io/h5util.hpp"
#include "parallel/comm.hpp"

using namespace boltzmap;
namespace fs = std::filesystem;

namespace {

std::string fresh(const std::string& name) {
  const char* env = std::getenv("BOLTZMAP_TEST_TMP");
  fs::path dir = env && *env ? env : "/tmp/boltzmap_test_tmp";
  dir /= "files";
  fs::create_directories(dir);
  const std::string p = (dir / name).string();
  fs::remove_all(p);
  fs::remove(partial_name(p));
  return p;
}

// 100 000 characters over many lines, like a resolved input with a long learning-rate schedule.
std::string big_text() {
  std::string s;
  for (int i = 0; s.size() < 100000; ++i) s += "learning_rate_step_" + std::to_string(i) + " = 0.001\n";
  return s;
}

// Runs f, expecting Error(ExitCode::io) whose message contains `needle`.
template <class F>
void expect_io_error(F&& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::io) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace

TEST(Files, WriteTextAtomicWritesAndLeavesNoPartial) {
  const std::string p = fresh("a.txt");
  write_text_atomic(p, "one\n");
  write_text_atomic(p, "two\n");
  EXPECT_EQ(read_text(p), "two\n");
  EXPECT_FALSE(fs::exists(partial_name(p)));
}

TEST(Files, WriteIntoAMissingFolderIsAnIoErrorNamingTheFile) {
  const std::string p = fresh("missing_dir") + "/x.txt";
  expect_io_error([&] { write_text_atomic(p, "x"); }, p + ".partial: cannot open for writing: No such file or directory");
  EXPECT_FALSE(fs::exists(p));
}

TEST(Files, AppendTextAppendsAndReportsFailures) {
  const std::string p = fresh("log.csv");
  append_text(p, "a\n");
  append_text(p, "b\n");
  EXPECT_EQ(read_text(p), "a\nb\n");
  const std::string dir = fresh("log_dir.csv");
  fs::create_directories(dir);  // a folder cannot be appended to
  expect_io_error([&] { append_text(dir, "c\n"); }, dir + ": cannot open for appending");
}

TEST(Files, AppendToAFullDeviceNamesENOSPC) {
  // /dev/full fails every write with ENOSPC (append_text never removes what it appends to).
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  expect_io_error([] { append_text("/dev/full", "row\n"); }, "/dev/full: write failed: No space left on device");
}

TEST(Files, CheckWritableDirectoryMakesTheFolderAndLeavesNoProbe) {
  const std::string d = fresh("probe_dir") + "/sub";
  check_writable_directory(d);
  EXPECT_TRUE(fs::is_directory(d));
  EXPECT_TRUE(fs::is_empty(d));
  const std::string f = fresh("plain_file");
  write_text_atomic(f, "x");
  expect_io_error([&] { check_writable_directory(f + "/sub"); }, f + "/sub");
}

TEST(H5File, CreatedFileAppearsOnlyAtCloseAndHoldsALargeAttribute) {
  const std::string p = fresh("big.h5");
  const std::string text = big_text();
  {
    H5File f = H5File::create(p);
    string_attribute(f.id, "boltzmap_input", text);
    const double x[3] = {1, 2, 3};
    write_dataset(f.id, "x", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {3}, x);
    EXPECT_FALSE(fs::exists(p));  // built in memory
    f.close();
  }
  ASSERT_TRUE(fs::exists(p));
  const H5File g = H5File::open(p);
  EXPECT_EQ(read_string_attribute(g.id, "boltzmap_input"), text);
  EXPECT_EQ(read_all<double>(g.id, "x", H5T_NATIVE_DOUBLE, p), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(read_root_attribute(p, "boltzmap_input"), text);
}

TEST(H5File, AnUnclosedCreatedFileLeavesNothing) {
  const std::string p = fresh("unclosed.h5");
  {
    H5File f = H5File::create(p);
    string_attribute(f.id, "a", "b");
  }  // the error path: no close()
  EXPECT_FALSE(fs::exists(p));
}

TEST(H5File, CloseIntoAMissingFolderIsAnIoError) {
  const std::string p = fresh("no_such_dir") + "/f.h5";
  H5File f = H5File::create(p);
  string_attribute(f.id, "a", "b");
  expect_io_error([&] { f.close(); }, p + ": cannot open for writing");
}

TEST(H5mdWriter, LargeRootAttributeRoundTrips) {
  const Comm comm;
  const std::string p = fresh("big_h5md.h5");
  FrameMeta meta;
  meta.frames = 2;
  meta.particles = 2;
  meta.dimension = 2;
  meta.box_length = 3.0;
  meta.attributes = {{"boltzmap_input", big_text()}, {"boltzmap_system", "A"}};
  {
    H5mdWriter w(p, meta, comm);
    const std::vector<float> pos = {0, 1, 2, 2.5f, 0.5f, 1, 1.5f, 2};
    const std::vector<double> u = {-1, -2};
    const std::vector<std::int32_t> walkers = {0, 1};
    const std::vector<std::int64_t> moves = {10, 20};
    w.write(0, 2, pos, u, walkers, moves);
    w.close();
  }
  EXPECT_FALSE(fs::exists(partial_name(p)));
  EXPECT_EQ(read_root_attribute(p, "boltzmap_input"), meta.attributes.at("boltzmap_input"));
  EXPECT_EQ(read_h5md(p).meta.attributes.at("boltzmap_system"), "A");
}
