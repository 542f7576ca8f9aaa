// See sample_checkpoint.hpp.
#include "sampling/sample_checkpoint.hpp"

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/files.hpp"
#include "io/h5util.hpp"
#include "version.hpp"

namespace boltzmap {

namespace {

// Reads the block [start, start + count) of a dataset (any rank, serial HDF5) into out.
void read_block(hid_t file, const std::string& fname, const char* name, hid_t memtype, std::vector<hsize_t> start,
                std::vector<hsize_t> count, void* out) {
  H5Handle d(H5Dopen2(file, name, H5P_DEFAULT), H5Dclose);
  if (d.get() < 0) throw io_error(fname + ": no dataset " + name + " (not a boltzmap sampling checkpoint)");
  const auto dims = dims_of(d);
  bool fits = dims.size() == start.size();
  for (std::size_t k = 0; fits && k < dims.size(); ++k) fits = start[k] + count[k] <= dims[k];
  if (!fits) throw io_error(fname + ": " + name + " has the wrong shape for this input; move the checkpoint away to start over");
  for (hsize_t n : count)
    if (n == 0) return;  // a rank without walkers
  H5Handle fspace(H5Dget_space(d), H5Sclose);
  H5Handle mspace(H5Screate_simple(static_cast<int>(count.size()), count.data(), nullptr), H5Sclose);
  H5_CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, count.data(), nullptr));
  if (H5Dread(d, memtype, mspace, fspace, H5P_DEFAULT, out) < 0) throw io_error(fname + ": cannot read " + name);
}

void number(hid_t g, const char* name, double v) {
  numeric_attribute<double>(g, name, H5T_NATIVE_DOUBLE, std::span<const double>(&v, 1));
}
void integer(hid_t g, const char* name, std::uint64_t v) {
  const unsigned long long x = v;
  numeric_attribute<unsigned long long>(g, name, H5T_NATIVE_ULLONG, std::span<const unsigned long long>(&x, 1));
}
std::uint64_t read_integer(hid_t g, const char* name, const std::string& fname) {
  unsigned long long x = 0;
  H5Handle a(H5Aopen(g, name, H5P_DEFAULT), H5Aclose);
  if (a.get() < 0 || H5Aread(a, H5T_NATIVE_ULLONG, &x) < 0) throw io_error(fname + ": no attribute " + name);
  return x;
}

}  // namespace

void write_sample_checkpoint(const std::string& path, const SampleCheckpoint& c, std::int64_t walkers, int stride,
                             const std::string& resolved_input, char label, const Comm& comm) {
  const bool root = comm.root();
  std::vector<float> pos(root ? static_cast<std::size_t>(walkers) * stride : 0);
  std::vector<double> energy(root ? walkers : 0), pressure(root ? walkers : 0);
  comm.gather_blocks(std::span<const float>(c.positions), std::span<float>(pos), walkers, stride);
  comm.gather_blocks(std::span<const double>(c.energies), std::span<double>(energy), walkers, 1);
  comm.gather_blocks(std::span<const double>(c.pressure_sums), std::span<double>(pressure), walkers, 1);
  std::string failure;
  if (root) try {
      H5File f = H5File::create(partial_name(path));
      string_attribute(f.id, "boltzmap_input", resolved_input);
      string_attribute(f.id, "boltzmap_system", std::string(1, label));
      string_attribute(f.id, "boltzmap_version", std::string(build::version) + " (" + build::git_hash + ")");
      hid_t g = make_group(f.id, "sample");
      integer(g, "moves", c.moves);
      numeric_attribute<float>(g, "step_size", H5T_NATIVE_FLOAT, std::span<const float>(&c.step, 1));
      integer(g, "equilibration_accepted", c.equilibration_accepted);
      integer(g, "production_accepted", c.production_accepted);
      number(g, "max_energy_drift", c.max_energy_drift);
      number(g, "seconds", c.seconds);
      integer(g, "saves_done", static_cast<std::uint64_t>(c.saves_done));
      integer(g, "walkers", static_cast<std::uint64_t>(walkers));
      const hsize_t W = static_cast<hsize_t>(walkers), S = static_cast<hsize_t>(stride);
      write_dataset(g, "positions", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {W, S}, pos.data());
      write_dataset(g, "energies", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {W}, energy.data());
      write_dataset(g, "pressure_sums", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {W}, pressure.data());
      H5_CHECK(H5Gclose(g));
      f.close();
      commit_partial(path);
    } catch (const Error& e) {
      failure = e.what();
    }
  // Every rank learns whether it was written (an error on rank 0 alone must not leave the others
  // sampling on).
  comm.broadcast(failure);
  if (!failure.empty()) {
    if (root) throw io_error(failure);
    throw ReportedError(ExitCode::io);
  }
}

SampleCheckpoint read_sample_checkpoint(const std::string& path, std::int64_t walkers, int particles, int dim,
                                        const Comm& comm) {
  const H5File f = H5File::open(path);
  if (!exists(f.id, "/sample/positions")) throw io_error(path + ": not a boltzmap sampling checkpoint");
  SampleCheckpoint c;
  {
    H5Handle g(H5Gopen2(f.id, "sample", H5P_DEFAULT), H5Gclose);
    const std::int64_t w = static_cast<std::int64_t>(read_integer(g, "walkers", path));
    if (w != walkers)
      throw io_error(fmt::format("{}: written for {} walkers, the input has {}; move the checkpoint away to start over",
                                 path, w, walkers));
    c.moves = read_integer(g, "moves", path);
    H5Handle a(H5Aopen(g, "step_size", H5P_DEFAULT), H5Aclose);
    if (a.get() < 0 || H5Aread(a, H5T_NATIVE_FLOAT, &c.step) < 0) throw io_error(path + ": no attribute step_size");
    c.equilibration_accepted = read_integer(g, "equilibration_accepted", path);
    c.production_accepted = read_integer(g, "production_accepted", path);
    c.max_energy_drift = read_number_attribute(g, "max_energy_drift", path);
    c.seconds = read_number_attribute(g, "seconds", path);
    c.saves_done = static_cast<std::int64_t>(read_integer(g, "saves_done", path));
  }
  const Range mine = block_of(walkers, comm.rank(), comm.size());
  const hsize_t b = static_cast<hsize_t>(mine.begin), n = static_cast<hsize_t>(mine.count());
  const hsize_t S = static_cast<hsize_t>(particles) * dim;
  c.positions.resize(n * S);
  c.energies.resize(n);
  c.pressure_sums.resize(n);
  read_block(f.id, path, "/sample/positions", H5T_NATIVE_FLOAT, {b, 0}, {n, S}, c.positions.data());
  read_block(f.id, path, "/sample/energies", H5T_NATIVE_DOUBLE, {b}, {n}, c.energies.data());
  read_block(f.id, path, "/sample/pressure_sums", H5T_NATIVE_DOUBLE, {b}, {n}, c.pressure_sums.data());
  return c;
}

void write_saves_file(const std::string& path, std::int64_t first, std::int64_t count, std::int64_t walkers,
                      int particles, int dim, std::span<const float> positions, std::span<const double> energies) {
  H5File f = H5File::create(partial_name(path));
  integer(f.id, "first_save", static_cast<std::uint64_t>(first));
  integer(f.id, "saves", static_cast<std::uint64_t>(count));
  const hsize_t C = static_cast<hsize_t>(count), W = static_cast<hsize_t>(walkers);
  write_dataset(f.id, "positions", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT,
                {C, W, static_cast<hsize_t>(particles), static_cast<hsize_t>(dim)}, positions.data());
  write_dataset(f.id, "energies", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {C, W}, energies.data());
  f.close();
  commit_partial(path);
}

std::int64_t saves_in_file(const std::string& path, std::int64_t first) {
  const H5File f = H5File::open(path);
  if (static_cast<std::int64_t>(read_integer(f.id, "first_save", path)) != first)
    throw io_error(fmt::format("{}: does not start at save {}; move the sampling checkpoint folder away to start over", path, first));
  const auto n = static_cast<std::int64_t>(read_integer(f.id, "saves", path));
  if (n < 1) throw io_error(path + ": holds no saves; move the sampling checkpoint folder away to start over");
  return n;
}

void read_saves_block(const std::string& path, std::int64_t j, std::int64_t begin, std::int64_t count, int stride,
                      std::span<float> positions, std::span<double> energies) {
  const H5File f = H5File::open(path);
  H5Handle d(H5Dopen2(f.id, "positions", H5P_DEFAULT), H5Dclose);
  if (d.get() < 0) throw io_error(path + ": no dataset positions");
  const auto dims = dims_of(d);
  d.close();
  if (dims.size() != 4 || dims[2] * dims[3] != static_cast<hsize_t>(stride))
    throw io_error(path + ": positions have the wrong shape for this input");
  const hsize_t J = static_cast<hsize_t>(j), B = static_cast<hsize_t>(begin), C = static_cast<hsize_t>(count);
  read_block(f.id, path, "positions", H5T_NATIVE_FLOAT, {J, B, 0, 0}, {1, C, dims[2], dims[3]}, positions.data());
  read_block(f.id, path, "energies", H5T_NATIVE_DOUBLE, {J, B}, {1, C}, energies.data());
}

}  // namespace boltzmap
