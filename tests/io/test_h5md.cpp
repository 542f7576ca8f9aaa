// H5MD configuration files (src/io/h5md.cpp): what H5mdWriter writes, read_h5md reads back bit for
// bit; the file appears under its final name only when closed (atomic write); errors on missing
// or foreign files are Error(ExitCode::io); describe_h5 (boltzmap info) names what is inside.
// Single rank (MPI singleton from tests/test_main.cpp); np 2 is covered by tests/mpi/.
#include <gtest/gtest.h>
#include <hdf5.h>

#include <bit>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <span>
#include <string>
#include <vector>

#include "core/config.hpp"
#include "core/error.hpp"
#include "io/files.hpp"
#include "io/h5md.hpp"
#include "io/h5util.hpp"
#include "parallel/comm.hpp"

using namespace boltzmap;
namespace fs = std::filesystem;

namespace {

#define EXPECT_CONTAINS(haystack, needle)                                                                  \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos)                                        \
      << "expected \"" << (needle) << "\" in:\n" << (haystack)

std::string temp_dir() {
  const char* env = std::getenv("BOLTZMAP_TEST_TMP");
  fs::path p = env && *env ? env : "/tmp/boltzmap_test_tmp";
  p /= "h5md";
  fs::create_directories(p);
  return p.string();
}

// A fresh path (old leftovers of this name removed).
std::string fresh(const std::string& name) {
  const std::string p = temp_dir() + "/" + name;
  fs::remove(p);
  fs::remove(partial_name(p));
  return p;
}

template <class T>
bool bitwise_equal(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

// Frames with values that catch conversions: odd mantissas, -0.0, a subnormal, huge magnitudes.
struct Data {
  FrameMeta meta;
  std::vector<float> positions;
  std::vector<double> energies;
  std::vector<std::int32_t> walkers;
  std::vector<std::int64_t> mc_moves;
};
Data make_data(std::int64_t frames, int particles, int dimension) {
  Data d;
  d.meta.frames = frames;
  d.meta.particles = particles;
  d.meta.dimension = dimension;
  d.meta.box_length = 6.598288790738582;  // sqrt(32/0.735), not a short decimal
  d.meta.attributes = {{"boltzmap_input", "# resolved\nname = \"x\"\n\n[box]\nn_particles = 32\n"},
                       {"boltzmap_system", "B"},
                       {"boltzmap_set", "validation"},
                       {"boltzmap_version", "0.1.0-test"}};
  const std::int64_t values = frames * particles * dimension;
  std::uint32_t state = 12345u;  // a small LCG: distinct, irregular floats in [0, L)
  for (std::int64_t i = 0; i < values; ++i) {
    state = state * 1664525u + 1013904223u;
    d.positions.push_back(static_cast<float>(d.meta.box_length * (state >> 8) / 16777216.0));
  }
  const double specials[] = {-0.0, 4.9406564584124654e-324, -1.0e300, 1.0 / 3.0, -123.456789012345678};
  for (std::int64_t f = 0; f < frames; ++f) {
    d.energies.push_back(f < 5 ? specials[f] : -50.0 - 0.1 * static_cast<double>(f));
    d.walkers.push_back(static_cast<std::int32_t>(2147483647 - 3 * f));
    d.mc_moves.push_back((std::int64_t{1} << 40) + 10000 * (f / 2));  // > 2^32: must stay int64
  }  // (the walkers of one save share a move count)
  return d;
}

// The steps H5MD requires: the frame index, strictly increasing.
std::vector<std::int64_t> frame_indices(std::int64_t frames) {
  std::vector<std::int64_t> s(static_cast<std::size_t>(frames));
  for (std::int64_t f = 0; f < frames; ++f) s[static_cast<std::size_t>(f)] = f;
  return s;
}

// Writes frames [first, first + count) of d.
void write_range(H5mdWriter& w, const Data& d, std::int64_t first, std::int64_t count) {
  const std::size_t per = static_cast<std::size_t>(d.meta.particles) * d.meta.dimension;
  w.write(first, count, std::span<const float>(d.positions).subspan(first * per, count * per),
          std::span<const double>(d.energies).subspan(first, count),
          std::span<const std::int32_t>(d.walkers).subspan(first, count),
          std::span<const std::int64_t>(d.mc_moves).subspan(first, count));
}

void expect_frames_equal(const Data& d, const Frames& r) {
  EXPECT_EQ(r.meta.frames, d.meta.frames);
  EXPECT_EQ(r.meta.particles, d.meta.particles);
  EXPECT_EQ(r.meta.dimension, d.meta.dimension);
  EXPECT_EQ(std::bit_cast<std::uint64_t>(r.meta.box_length), std::bit_cast<std::uint64_t>(d.meta.box_length));
  EXPECT_EQ(r.meta.attributes, d.meta.attributes);
  EXPECT_TRUE(bitwise_equal(r.positions, d.positions)) << "positions differ";
  EXPECT_TRUE(bitwise_equal(r.energies, d.energies)) << "energies differ";
  EXPECT_TRUE(bitwise_equal(r.walkers, d.walkers)) << "walker ids differ";
  EXPECT_TRUE(bitwise_equal(r.mc_moves, d.mc_moves)) << "trial-move counts differ";
}

// Reads a whole 1-D dataset with the raw HDF5 API (checks the layout independently of read_h5md).
template <class T>
std::vector<T> raw_read(const std::string& path, const char* dataset, hid_t memtype) {
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0);
  hid_t d = H5Dopen2(f, dataset, H5P_DEFAULT);
  EXPECT_GE(d, 0) << dataset;
  std::vector<T> v;
  if (d >= 0) {
    hid_t s = H5Dget_space(d);
    v.resize(static_cast<std::size_t>(H5Sget_simple_extent_npoints(s)));
    H5Sclose(s);
    if (!v.empty()) {
      EXPECT_GE(H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()), 0);
    }
    H5Dclose(d);
  }
  H5Fclose(f);
  return v;
}

void expect_io_error(const std::function<void()>& f, const std::string& needle) {
  try {
    f();
    ADD_FAILURE() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::io) << e.what();
    EXPECT_CONTAINS(e.what(), needle);
  }
}

}  // namespace

TEST(H5md, RoundTripIsBitwiseAndTheWriteIsAtomic) {
  const Comm comm;
  const std::string path = fresh("roundtrip.h5");
  const Data d = make_data(7, 5, 2);
  {
    H5mdWriter w(path, d.meta, comm);
    EXPECT_TRUE(fs::exists(partial_name(path)));
    write_range(w, d, 0, 3);
    write_range(w, d, 3, 0);  // a rank with nothing to write still takes part
    w.write(0, 0, {}, {}, {}, {});
    write_range(w, d, 3, 4);
    EXPECT_FALSE(fs::exists(path)) << "the final name must not exist before close()";
    w.close();
  }
  EXPECT_TRUE(fs::exists(path));
  EXPECT_FALSE(fs::exists(partial_name(path))) << ".partial left behind after close()";
  expect_frames_equal(d, read_h5md(path));
}

TEST(H5md, OutOfOrderWritesAnd3D) {
  const Comm comm;
  const std::string path = fresh("out_of_order_3d.h5");
  const Data d = make_data(6, 4, 3);
  H5mdWriter w(path, d.meta, comm);
  write_range(w, d, 4, 2);
  write_range(w, d, 0, 4);
  w.close();
  expect_frames_equal(d, read_h5md(path));
}

// Extra per-frame observables (boltzmap map's log-weights, domain flags, …): written in two ranges,
// read back exactly, with the step of every H5MD time series; −∞ survives; an unknown name is
// refused, and reading a missing one names it.
TEST(H5md, ExtraObservablesRoundTrip) {
  const Comm comm;
  const std::string path = fresh("extra_observables.h5");
  Data d = make_data(5, 3, 2);
  d.meta.observables = {"log_weight", "in_domain"};
  const std::vector<double> lw{0.5, -std::numeric_limits<double>::infinity(), -3.25, 1e4, 2.0}, in{1, 0, 1, 1, 0};
  {
    H5mdWriter w(path, d.meta, comm);
    write_range(w, d, 0, 2);
    w.write_observable("log_weight", 0, 2, std::span<const double>(lw).subspan(0, 2));
    w.write_observable("in_domain", 0, 2, std::span<const double>(in).subspan(0, 2));
    write_range(w, d, 2, 3);
    w.write_observable("log_weight", 2, 3, std::span<const double>(lw).subspan(2, 3));
    w.write_observable("in_domain", 2, 3, std::span<const double>(in).subspan(2, 3));
    EXPECT_THROW(w.write_observable("not_declared", 0, 1, lw), Error);
    w.close();
  }
  EXPECT_EQ(read_observable(path, "log_weight"), lw);
  EXPECT_EQ(read_observable(path, "in_domain"), in);
  EXPECT_EQ(raw_read<std::int64_t>(path, "/observables/log_weight/step", H5T_NATIVE_INT64), frame_indices(5));
  expect_frames_equal(d, read_h5md(path));
  try {
    read_observable(path, "missing");
    ADD_FAILURE() << "a missing observable was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::io);
    EXPECT_NE(std::string(e.what()).find("observables/missing"), std::string::npos) << e.what();
  }
}

// Rows read by hyperslab equal the whole-file read's rows, for every first/count (uneven splits
// included), and requests outside the file are refused naming it.
TEST(H5md, RowReaderReadsExactlyTheRowsAskedFor) {
  const Comm comm;
  const std::string path = fresh("rows.h5");
  Data d = make_data(7, 3, 2);
  d.meta.observables = {"log_weight"};
  const std::vector<double> lw{0.5, -std::numeric_limits<double>::infinity(), -3.25, 1e4, 2.0, -0.0, 7.125};
  {
    H5mdWriter w(path, d.meta, comm);
    write_range(w, d, 0, 7);
    w.write_observable("log_weight", 0, 7, lw);
    w.close();
  }
  const Frames all = read_h5md(path);
  const H5mdRows rows(path);
  EXPECT_EQ(rows.frames(), 7);
  EXPECT_EQ(rows.particles(), 3);
  EXPECT_EQ(rows.dimension(), 2);
  EXPECT_TRUE(rows.has_observable("log_weight"));
  EXPECT_FALSE(rows.has_observable("nothing"));
  const std::size_t row = 6;
  std::vector<float> pos;
  std::vector<double> u, w;
  for (std::int64_t first = 0; first <= 7; ++first)
    for (std::int64_t count = 0; first + count <= 7; ++count) {
      rows.positions(first, count, pos);
      rows.observable("potential_energy", first, count, u);
      rows.observable("log_weight", first, count, w);
      ASSERT_EQ(pos.size(), static_cast<std::size_t>(count) * row);
      EXPECT_TRUE(bitwise_equal(pos, std::vector<float>(all.positions.begin() + first * row,
                                                        all.positions.begin() + (first + count) * row)));
      EXPECT_TRUE(bitwise_equal(u, std::vector<double>(all.energies.begin() + first, all.energies.begin() + first + count)));
      EXPECT_TRUE(bitwise_equal(w, std::vector<double>(lw.begin() + first, lw.begin() + first + count)));
    }
  EXPECT_THROW(rows.positions(5, 3, pos), Error);
  EXPECT_THROW(rows.positions(-1, 1, pos), Error);
  try {
    rows.observable("missing", 0, 1, u);
    ADD_FAILURE() << "a missing observable was read";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::io);
    EXPECT_CONTAINS(e.what(), "observables/missing");
  }
  EXPECT_THROW(H5mdRows(fresh("not_there.h5")), Error);
}

namespace {

// A string attribute of the object at `path` ("" if absent), through the raw API.
std::string attribute_at(const std::string& file, const char* path, const char* name) {
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  EXPECT_GE(f, 0);
  hid_t o = H5Oopen(f, path, H5P_DEFAULT);
  EXPECT_GE(o, 0) << path;
  const std::string v = o >= 0 ? read_string_attribute(o, name) : "";
  if (o >= 0) H5Oclose(o);
  H5Fclose(f);
  return v;
}

// The address of the object at `path`: equal for hard links to one dataset.
haddr_t address_of(const std::string& file, const char* path) {
  hid_t f = H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  H5O_info_t info{};
  EXPECT_GE(H5Oget_info_by_name2(f, path, &info, H5O_INFO_BASIC, H5P_DEFAULT), 0) << path;
  H5Fclose(f);
  return info.addr;
}

}  // namespace

// The H5MD 1.1 layout (tools/h5md-check checks the same on real runs, tests/app/h5md_conformance.sh):
// the step of every element is the frame index (strictly increasing, whatever order and ranges
// the frames were written in: the walkers of one save interleave), one dataset hard-linked into
// every element; walker ids and move counts are observables; units in the reduced LJ system;
// superblock version 2; author and creator.
TEST(H5md, LayoutFollowsH5md) {
  const Comm comm;
  const std::string path = fresh("layout.h5");
  Data d = make_data(6, 2, 3);
  d.meta.author = "A. Uthor";
  H5mdWriter w(path, d.meta, comm);
  write_range(w, d, 4, 2);
  write_range(w, d, 0, 4);
  w.close();
  const auto steps = frame_indices(6);
  EXPECT_EQ(raw_read<std::int64_t>(path, "/particles/all/position/step", H5T_NATIVE_INT64), steps);
  EXPECT_EQ(raw_read<double>(path, "/particles/all/position/time", H5T_NATIVE_DOUBLE),
            std::vector<double>(steps.begin(), steps.end()));
  const haddr_t step = address_of(path, "/particles/all/position/step");
  for (const char* g : {"/particles/all/box/edges/step", "/observables/potential_energy/step", "/observables/walker/step",
                        "/observables/mc_moves/step"}) {
    SCOPED_TRACE(g);
    EXPECT_EQ(address_of(path, g), step) << "not a hard link to position/step";
  }
  EXPECT_EQ(address_of(path, "/particles/all/box/edges/time"), address_of(path, "/particles/all/position/time"));
  // The walker and its move count are per-frame observables (exact, int32 and int64).
  EXPECT_EQ(raw_read<std::int32_t>(path, "/observables/walker/value", H5T_NATIVE_INT32), d.walkers);
  EXPECT_EQ(raw_read<std::int64_t>(path, "/observables/mc_moves/value", H5T_NATIVE_INT64), d.mc_moves);
  // The box: [frame][D][D] = L·I for every frame.
  const auto edges = raw_read<double>(path, "/particles/all/box/edges/value", H5T_NATIVE_DOUBLE);
  ASSERT_EQ(edges.size(), 6u * 9u);
  for (std::size_t i = 0; i < edges.size(); ++i) EXPECT_EQ(edges[i], (i % 9) % 4 == 0 ? d.meta.box_length : 0.0) << i;
  // Units (reduced LJ; no unit on positions, see h5md.hpp), author, creator.
  EXPECT_EQ(attribute_at(path, "/h5md/modules/units", "system"), "LJ");
  EXPECT_EQ(attribute_at(path, "/particles/all/box/edges/value", "unit"), "sigma");
  EXPECT_EQ(attribute_at(path, "/observables/potential_energy/value", "unit"), "epsilon");
  EXPECT_EQ(attribute_at(path, "/observables/walker/value", "unit"), "");
  EXPECT_EQ(attribute_at(path, "/h5md/author", "name"), "A. Uthor");
  EXPECT_EQ(attribute_at(path, "/h5md/creator", "name"), "boltzmap");
  EXPECT_FALSE(attribute_at(path, "/h5md/creator", "version").empty());
  EXPECT_NE(attribute_at(path, "/h5md/creator", "version"), "0.1.0-test") << "creator/version is the build's, not an attribute";
  // /h5md version = [1, 1]; box dimension attribute; the superblock (byte 8 after the signature).
  hid_t f = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t g = H5Gopen2(f, "/h5md", H5P_DEFAULT);
  ASSERT_GE(g, 0);
  int version[2] = {0, 0};
  hid_t a = H5Aopen(g, "version", H5P_DEFAULT);
  ASSERT_GE(a, 0);
  EXPECT_GE(H5Aread(a, H5T_NATIVE_INT, version), 0);
  EXPECT_EQ(version[0], 1);
  EXPECT_EQ(version[1], 1);
  H5Aclose(a);
  H5Gclose(g);
  hid_t box = H5Gopen2(f, "/particles/all/box", H5P_DEFAULT);
  ASSERT_GE(box, 0);
  int dim = 0;
  a = H5Aopen(box, "dimension", H5P_DEFAULT);
  ASSERT_GE(a, 0);
  EXPECT_GE(H5Aread(a, H5T_NATIVE_INT, &dim), 0);
  EXPECT_EQ(dim, 3);
  EXPECT_GT(H5Aexists(box, "boundary"), 0);
  H5Aclose(a);
  H5Gclose(box);
  H5Fclose(f);
  std::ifstream in(path, std::ios::binary);
  char head[9] = {};
  in.read(head, 9);
  EXPECT_EQ(std::string(head, 8), std::string("\x89HDF\r\n\x1a\n", 8));
  EXPECT_GE(static_cast<int>(head[8]), 2) << "superblock version";
  // Read back: the same frames, box and observables.
  expect_frames_equal(d, read_h5md(path));
}

// Without an author in the input, the environment names one ($BOLTZMAP_AUTHOR first).
TEST(H5md, AuthorFromTheEnvironment) {
  const Comm comm;
  const std::string path = fresh("author.h5");
  const Data d = make_data(1, 2, 2);
  const char* old = std::getenv("BOLTZMAP_AUTHOR");
  const std::string saved = old ? old : "";
  ::setenv("BOLTZMAP_AUTHOR", "Jane Doe", 1);
  {
    H5mdWriter w(path, d.meta, comm);
    write_range(w, d, 0, 1);
    w.close();
  }
  EXPECT_EQ(attribute_at(path, "/h5md/author", "name"), "Jane Doe");
  ::unsetenv("BOLTZMAP_AUTHOR");
  EXPECT_FALSE(author_from_environment().empty());
  if (old) ::setenv("BOLTZMAP_AUTHOR", saved.c_str(), 1);
}

// Files written before the layout of issue 12 (a fixed box edges dataset, no mc_moves) still read.
TEST(H5md, ReadsAFixedBox) {
  const std::string path = fresh("fixed_box.h5");
  hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  const std::vector<float> pos = {0.5f, 1.0f, 1.5f, 2.0f};
  const std::vector<double> edges = {2.5, 2.5};
  H5_CHECK(H5Gclose(make_group(f, "particles")));
  H5_CHECK(H5Gclose(make_group(f, "particles/all")));
  H5_CHECK(H5Gclose(make_group(f, "particles/all/box")));
  H5_CHECK(H5Gclose(make_group(f, "particles/all/position")));
  write_dataset(f, "particles/all/position/value", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {1, 2, 2}, pos.data());
  write_dataset(f, "particles/all/box/edges", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {2}, edges.data());
  H5Fclose(f);
  const Frames r = read_h5md(path);
  EXPECT_EQ(r.meta.box_length, 2.5);
  EXPECT_EQ(r.positions, pos);
  EXPECT_TRUE(r.mc_moves.empty());
}

TEST(H5md, ZeroFrames) {
  const Comm comm;
  const std::string path = fresh("empty.h5");
  Data d = make_data(0, 3, 2);
  H5mdWriter w(path, d.meta, comm);
  w.write(0, 0, {}, {}, {}, {});
  w.close();
  const Frames r = read_h5md(path);
  EXPECT_EQ(r.meta.frames, 0);
  EXPECT_EQ(r.meta.particles, 3);
  EXPECT_EQ(r.meta.dimension, 2);
  EXPECT_TRUE(r.positions.empty());
  EXPECT_TRUE(r.energies.empty());
}

TEST(H5md, WriterDestroyedWithoutCloseLeavesNoFinalFile) {
  const Comm comm;
  const std::string path = fresh("abandoned.h5");
  const Data d = make_data(4, 2, 2);
  {
    H5mdWriter w(path, d.meta, comm);
    write_range(w, d, 0, 2);
  }  // e.g. an exception unwinds past the writer
  EXPECT_FALSE(fs::exists(path)) << "an unfinished file must never appear under its final name";
  expect_io_error([&] { read_h5md(path); }, path);
}

TEST(H5md, ClosingReplacesAnOlderFile) {
  const Comm comm;
  const std::string path = fresh("replace.h5");
  const Data small = make_data(2, 2, 2), big = make_data(5, 2, 2);
  for (const Data* d : {&small, &big}) {
    H5mdWriter w(path, d->meta, comm);
    write_range(w, *d, 0, d->meta.frames);
    if (d == &big) {  // while rewriting, readers still see the complete old file
      EXPECT_EQ(read_h5md(path).meta.frames, 2);
    }
    w.close();
  }
  expect_frames_equal(big, read_h5md(path));
}

TEST(H5md, WrongSizesAreRejectedBeforeWriting) {
  const Comm comm;
  const std::string path = fresh("wrong_sizes.h5");
  const Data d = make_data(4, 3, 2);
  H5mdWriter w(path, d.meta, comm);
  const std::span<const float> pos(d.positions);
  const std::span<const double> en(d.energies);
  const std::span<const std::int32_t> wk(d.walkers);
  const std::span<const std::int64_t> mv(d.mc_moves);
  auto expect_failure = [](const std::function<void()>& f, const char* what) {
    try {
      f();
      ADD_FAILURE() << "no error for " << what;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::failure) << what << ": " << e.what();
      EXPECT_CONTAINS(e.what(), "H5mdWriter::write");
    }
  };
  expect_failure([&] { w.write(0, 2, pos.first(11), en.first(2), wk.first(2), mv.first(2)); }, "short positions");
  expect_failure([&] { w.write(0, 2, pos.first(12), en.first(1), wk.first(2), mv.first(2)); }, "short energies");
  expect_failure([&] { w.write(0, 2, pos.first(12), en.first(2), wk.first(1), mv.first(2)); }, "short walkers");
  expect_failure([&] { w.write(0, 2, pos.first(12), en.first(2), wk.first(2), mv.first(1)); }, "short move counts");
  expect_failure([&] { w.write(3, 2, pos.first(12), en.first(2), wk.first(2), mv.first(2)); }, "past the end");
  expect_failure([&] { w.write(-1, 1, pos.first(6), en.first(1), wk.first(1), mv.first(1)); }, "negative first");
  // The writer is still usable after a rejected call. Longer spans (reused buffers) are fine:
  // only their first `count` frames are written.
  write_range(w, d, 0, 1);
  w.write(1, 2, pos.subspan(6), en.subspan(1), wk.subspan(1), mv.subspan(1));
  write_range(w, d, 3, 1);
  w.close();
  expect_frames_equal(d, read_h5md(path));
}

TEST(H5md, UnwritableLocationIsIoError) {
  const Comm comm;
  const std::string path = temp_dir() + "/no_such_folder/x.h5";
  fs::remove_all(temp_dir() + "/no_such_folder");
  const Data d = make_data(1, 2, 2);
  expect_io_error([&] { H5mdWriter w(path, d.meta, comm); }, "x.h5");
}

TEST(H5md, ReadErrorsAreIoErrors) {
  const std::string missing = fresh("missing.h5");
  expect_io_error([&] { read_h5md(missing); }, missing);
  expect_io_error([&] { describe_h5(missing); }, missing);

  const std::string text = fresh("not_hdf5.h5");
  std::ofstream(text) << "this is not an HDF5 file\n";
  expect_io_error([&] { read_h5md(text); }, text);
  expect_io_error([&] { describe_h5(text); }, text);

  // A valid HDF5 file without H5MD configurations: read_h5md refuses it, describe_h5 lists it.
  const std::string other = fresh("plain.h5");
  hid_t f = H5Fcreate(other.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  ASSERT_GE(f, 0);
  hid_t g = H5Gcreate2(f, "stuff", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t n = 4;
  hid_t s = H5Screate_simple(1, &n, nullptr);
  hid_t ds = H5Dcreate2(g, "numbers", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5Dclose(ds);
  H5Sclose(s);
  H5Gclose(g);
  H5Fclose(f);
  expect_io_error([&] { read_h5md(other); }, "not an H5MD");
  const std::string desc = describe_h5(other);
  EXPECT_CONTAINS(desc, "/stuff/numbers");
  EXPECT_CONTAINS(desc, "float64 [4]");
  EXPECT_EQ(desc.find("H5MD configurations"), std::string::npos) << desc;
}

TEST(H5md, DescribeNamesDatasetsAndSummary) {
  const Comm comm;
  const std::string path = fresh("describe.h5");
  const Data d = make_data(7, 5, 2);
  H5mdWriter w(path, d.meta, comm);
  write_range(w, d, 0, 7);
  w.close();
  const std::string desc = describe_h5(path);
  EXPECT_CONTAINS(desc, path);
  EXPECT_CONTAINS(desc, "H5MD");
  EXPECT_CONTAINS(desc, "7 frames × 5 particles × 2D");
  EXPECT_CONTAINS(desc, "/particles/all/position/value  float32 [7, 5, 2]");
  EXPECT_CONTAINS(desc, "/observables/potential_energy/value  float64 [7]");
  EXPECT_CONTAINS(desc, "/observables/walker/value  int32 [7]");
  EXPECT_CONTAINS(desc, "/observables/mc_moves/value  int64 [7]");
  EXPECT_CONTAINS(desc, "trial moves per walker");
  EXPECT_CONTAINS(desc, "potential energy");
  EXPECT_CONTAINS(desc, "boltzmap_system: B");
  EXPECT_CONTAINS(desc, "boltzmap_set: validation");
  EXPECT_CONTAINS(desc, "L = 6.59829");
}
