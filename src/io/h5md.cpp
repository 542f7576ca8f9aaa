// See h5md.hpp.
#include "io/h5md.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <exception>
#include <cmath>
#include <filesystem>
#include <sstream>

#include <fmt/format.h>

#include "core/config.hpp"
#include "core/error.hpp"
#include "io/files.hpp"
#include "io/h5util.hpp"
#include "version.hpp"

namespace boltzmap {

namespace {

// Writes rows [first, first + count) of a dataset whose first axis is frames (collective); a
// failure is an io_error naming `file`.
void write_rows(const std::string& file, hid_t dset, hid_t memtype, std::int64_t first, std::int64_t count,
                const void* data) {
  H5Handle fspace(H5Dget_space(dset), H5Sclose);
  H5_CHECK(fspace.get());
  const int rank = H5Sget_simple_extent_ndims(fspace);
  std::vector<hsize_t> dims(rank);
  H5Sget_simple_extent_dims(fspace, dims.data(), nullptr);
  std::vector<hsize_t> start(rank, 0), cnt = dims;
  start[0] = static_cast<hsize_t>(first);
  cnt[0] = static_cast<hsize_t>(count);
  H5Handle mspace(H5Screate_simple(rank, cnt.data(), nullptr), H5Sclose);
  H5_CHECK(mspace.get());
  if (count > 0) {
    H5_CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr));
  } else {
    H5_CHECK(H5Sselect_none(fspace));
    H5_CHECK(H5Sselect_none(mspace));
  }
  H5Handle dxpl(H5Pcreate(H5P_DATASET_XFER), H5Pclose);
  H5_CHECK(H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE));
  h5_write(file, [&] { return H5Dwrite(dset, memtype, mspace, fspace, dxpl, data); });
}

// Sets the flag if the scope is left by an exception.
struct FailureMark {
  bool& flag;
  int exceptions = std::uncaught_exceptions();
  ~FailureMark() {
    if (std::uncaught_exceptions() > exceptions) flag = true;
  }
};

}  // namespace

H5mdWriter::H5mdWriter(const std::string& path, const FrameMeta& meta, const Comm& comm)
    : path_(path), meta_(meta), comm_(comm) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  {
    H5Handle fapl(create_file_access(), H5Pclose);
    H5_CHECK(H5Pset_fapl_mpio(fapl, comm.raw(), MPI_INFO_NULL));
    errno = 0;
    file_ = H5Fcreate(partial_name(path).c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  }
  if (file_ < 0) {
    const int err = errno;
    throw io_error(partial_name(path) + ": cannot create HDF5 file (" + h5_io_reason(err) + ")");
  }
  // The destructor does not run for a constructor that throws: close what was opened here.
  try {
    create_layout();
  } catch (...) {
    failed_ = true;
    if (comm.size() == 1) release();
    throw;
  }
}

// Parallel HDF5 allocates the datasets when they are created, so their storage plus the
// attributes and headers is about the final size. Reserving it (with 64 KiB for the metadata)
// turns a disk that is too small into one clear error here, before any frame is written, and
// keeps HDF5's writes from meeting a full disk later (after which it cannot close the file cleanly).
void H5mdWriter::reserve_space() {
  off_t bytes = off_t{64} << 10;
  for (hid_t d : {pos_, step_, time_, edges_, energy_, walker_, mc_moves_}) bytes += static_cast<off_t>(H5Dget_storage_size(d));
  for (const auto& [name, d] : extra_) bytes += static_cast<off_t>(H5Dget_storage_size(d));
  for (const auto& [k, v] : meta_.attributes) bytes += static_cast<off_t>(k.size() + v.size());
  int err = 0;
  if (comm_.root()) {
    const int fd = ::open(partial_name(path_).c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) err = errno;
    else {
      // Linux fallocate with KEEP_SIZE: the blocks are the file's, its size stays what HDF5 makes it
      // (no zero tail), and a file system without it says EOPNOTSUPP at once instead of glibc's
      // posix_fallocate fallback writing every block (slow on older Lustre and NFS).
      err = ::fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, bytes) == 0 ? 0 : errno;
      if (err == EOPNOTSUPP || err == EINVAL || err == ENOSYS) err = 0;  // not supported here: HDF5's checks remain
      if (::close(fd) != 0 && err == 0) err = errno;
    }
  }
  if (comm_.size() > 1) err = comm_.max(err);  // any errno; all ranks agree
  if (err == 0) return;
  failed_ = true;
  release();
  if (comm_.root()) remove_partial(path_);
  throw io_error(fmt::format("{}: write failed: {} (reserving {} bytes)", partial_name(path_), std::strerror(err), bytes));
}

void H5mdWriter::create_layout() {
  const FrameMeta& meta = meta_;

  const int D = meta.dimension, N = meta.particles;
  const hsize_t F = static_cast<hsize_t>(meta.frames), uD = static_cast<hsize_t>(D);
  hid_t h5md = make_group(file_, "h5md");
  const int version[2] = {1, 1};
  numeric_attribute<int>(h5md, "version", H5T_NATIVE_INT, version);
  hid_t author = make_group(h5md, "author");
  string_attribute(author, "name", meta.author.empty() ? author_from_environment() : meta.author);
  hid_t creator = make_group(h5md, "creator");
  string_attribute(creator, "name", "boltzmap");
  string_attribute(creator, "version", build::version);
  // The units module (version 1.0): the unit system of every `unit` attribute below.
  hid_t modules = make_group(h5md, "modules");
  hid_t units = make_group(modules, "units");
  const int units_version[2] = {1, 0};
  numeric_attribute<int>(units, "version", H5T_NATIVE_INT, units_version);
  string_attribute(units, "system", "LJ");
  for (hid_t g : {units, modules, creator, author, h5md}) H5_CHECK(H5Gclose(g));

  // Raw ids, like the groups here: closing a dataset may be collective, so none is closed while an
  // exception unwinds (the file's strong close degree closes what is left on one rank).
  hid_t particles = make_group(file_, "particles");
  hid_t all = make_group(particles, "all");
  hid_t position = make_group(all, "position");
  pos_ = make_dataset(position, "value", H5T_IEEE_F32LE, {F, static_cast<hsize_t>(N), uD});
  step_ = make_dataset(position, "step", H5T_STD_I64LE, {F});
  time_ = make_dataset(position, "time", H5T_IEEE_F64LE, {F});
  H5_CHECK(H5Gclose(position));
  // Every other element is sampled with the positions: its step (and time) are hard links to theirs.
  auto link = [&](hid_t group, const char* part) {
    const std::string target = std::string("/particles/all/position/") + part;
    H5_CHECK(H5Lcreate_hard(file_, target.c_str(), group, part, H5P_DEFAULT, H5P_DEFAULT));
  };
  hid_t box = make_group(all, "box");
  numeric_attribute<int>(box, "dimension", H5T_NATIVE_INT, std::span<const int>(&D, 1));
  string_array_attribute(box, "boundary", std::vector<std::string>(D, "periodic"));
  hid_t edges = make_group(box, "edges");
  edges_ = make_dataset(edges, "value", H5T_IEEE_F64LE, {F, uD, uD});
  string_attribute(edges_, "unit", kLengthUnit);
  link(edges, "step");
  link(edges, "time");
  for (hid_t g : {edges, box, all, particles}) H5_CHECK(H5Gclose(g));

  hid_t obs = make_group(file_, "observables");
  auto observable = [&](const char* name, hid_t type, const std::string& unit) {
    hid_t g = make_group(obs, name);
    const hid_t value = make_dataset(g, "value", type, {F});
    if (!unit.empty()) string_attribute(value, "unit", unit);
    link(g, "step");
    H5_CHECK(H5Gclose(g));
    return value;
  };
  energy_ = observable("potential_energy", H5T_IEEE_F64LE, kEnergyUnit);
  walker_ = observable("walker", H5T_STD_I32LE, "");
  mc_moves_ = observable("mc_moves", H5T_STD_I64LE, "");
  for (const auto& name : meta.observables) {
    const auto u = meta.observable_units.find(name);
    extra_[name] = observable(name.c_str(), H5T_IEEE_F64LE, u == meta.observable_units.end() ? "" : u->second);
  }
  H5_CHECK(H5Gclose(obs));

  for (const auto& [k, v] : meta.attributes) string_attribute(file_, k.c_str(), v);
  // The raw data go in once the space is reserved.
  reserve_space();
}

void H5mdWriter::write(std::int64_t first, std::int64_t count, std::span<const float> positions,
                       std::span<const double> energies, std::span<const std::int32_t> walkers,
                       std::span<const std::int64_t> mc_moves) {
  // Spans may be longer than count frames (reused buffers; the first count are written), never
  // shorter: that would read past the caller's buffers. A bug in the caller, caught here.
  const auto per_frame = static_cast<std::size_t>(meta_.particles) * static_cast<std::size_t>(meta_.dimension);
  const auto n = static_cast<std::size_t>(std::max<std::int64_t>(count, 0));
  if (first < 0 || count < 0 || first + count > meta_.frames || positions.size() < n * per_frame ||
      energies.size() < n || walkers.size() < n || mc_moves.size() < n)
    throw Error(ExitCode::failure,
                fmt::format("{}: H5mdWriter::write(first {}, count {}) of a file of {} frames got {} positions "
                            "(need {}), {} energies, {} walker ids, {} move counts (need {} each)",
                            partial_name(path_), first, count, meta_.frames, positions.size(), n * per_frame,
                            energies.size(), walkers.size(), mc_moves.size(), n));
  // A file of zero frames has no storage to write to (parallel HDF5 fails on it); every rank
  // holds the same meta, so all skip together and the call stays collective.
  if (meta_.frames == 0) return;
  const auto D = static_cast<std::size_t>(meta_.dimension);
  std::vector<std::int64_t> steps(n);
  std::vector<double> times(n), edges(n * D * D, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    steps[i] = first + static_cast<std::int64_t>(i);  // the frame index: strictly increasing
    times[i] = static_cast<double>(steps[i]);
    for (std::size_t d = 0; d < D; ++d) edges[(i * D + d) * D + d] = meta_.box_length;
  }
  FailureMark mark(failed_);
  const std::string file = partial_name(path_);
  write_rows(file, pos_, H5T_NATIVE_FLOAT, first, count, positions.data());
  write_rows(file, step_, H5T_NATIVE_INT64, first, count, steps.data());
  write_rows(file, time_, H5T_NATIVE_DOUBLE, first, count, times.data());
  write_rows(file, edges_, H5T_NATIVE_DOUBLE, first, count, edges.data());
  write_rows(file, energy_, H5T_NATIVE_DOUBLE, first, count, energies.data());
  write_rows(file, walker_, H5T_NATIVE_INT32, first, count, walkers.data());
  write_rows(file, mc_moves_, H5T_NATIVE_INT64, first, count, mc_moves.data());
}

void H5mdWriter::write_observable(const std::string& name, std::int64_t first, std::int64_t count,
                                  std::span<const double> values) {
  const auto it = extra_.find(name);
  if (it == extra_.end() || first < 0 || count < 0 || first + count > meta_.frames ||
      values.size() < static_cast<std::size_t>(count))
    throw Error(ExitCode::failure, fmt::format("{}: H5mdWriter::write_observable({}, first {}, count {}) with {} values",
                                               partial_name(path_), name, first, count, values.size()));
  if (meta_.frames == 0) return;
  FailureMark mark(failed_);
  write_rows(partial_name(path_), it->second, H5T_NATIVE_DOUBLE, first, count, values.data());
}

std::string H5mdWriter::release() {
  std::string failure;
  const std::string partial = partial_name(path_);
  auto note = [&](herr_t rc) {
    const int err = errno;
    if (rc < 0 && failure.empty()) failure = h5_io_reason(err);
  };
  std::vector<hid_t*> handles = {&pos_, &step_, &time_, &edges_, &energy_, &walker_, &mc_moves_};
  for (auto& [name, d] : extra_) handles.push_back(&d);
  for (hid_t* d : handles)
    if (*d >= 0) {
      errno = 0;
      note(H5Dclose(*d));
      *d = -1;
    }
  if (file_ < 0) return failure;
  // HDF5 buffers metadata (and small raw data) and writes it at flush or close, so a full disk
  // may show here (reserve_space makes that rare). A failed H5Fclose leaves a dangling file id that
  // crashes HDF5's cleanup at MPI_Finalize: after a failed write the .partial is truncated first to
  // free its blocks, so the flush and close find room and the library lets go of the file. After a
  // failed flush HDF5 1.10 may not let go whatever we do; then main() skips its cleanup
  // (note_unclosable_hdf5_file).
  // Whether a write failed anywhere, agreed first: the branches below hold collectives.
  if (comm_.size() > 1) failed_ = comm_.max(failed_ ? 1 : 0) != 0;
  if (failed_ && comm_.root()) ::truncate(partial.c_str(), 0);  // a write failed: free the space first
  if (failed_ && comm_.size() > 1) comm_.barrier();
  errno = 0;
  note(H5Fflush(file_, H5F_SCOPE_LOCAL));
  if (comm_.size() > 1) {
    // Collective: every rank learns whether any rank's flush failed.
    const int any = comm_.max(failure.empty() ? 0 : 1);
    if (any && failure.empty()) failure = "failed on another rank";
  }
  if (!failure.empty() && comm_.root()) ::truncate(partial.c_str(), 0);
  if (!failure.empty() && comm_.size() > 1) comm_.barrier();
  errno = 0;
  const herr_t closed = H5Fclose(file_);
  note(closed);
  if (closed < 0 && H5Iis_valid(file_) > 0) note_unclosable_hdf5_file();
  file_ = -1;
  return failure;
}

void H5mdWriter::close() {
  std::string failure = release();
  if (failed_ && failure.empty()) failure = "an earlier write to it failed";
  // Collective: all ranks agree on success before rank 0 renames, so none hangs or commits alone.
  const int any = comm_.max(failure.empty() ? 0 : 1);
  if (any && failure.empty()) failure = "failed on another rank";
  if (!failure.empty()) {
    if (comm_.root()) remove_partial(path_);
    throw io_error(partial_name(path_) + ": write failed: " + failure + low_space_note(path_));
  }
  // ROMIO does not sync at MPI_File_close: the data reach the disk before the name does.
  std::string synced = "ok";
  if (comm_.root()) try {
      sync_file(partial_name(path_));
      commit_partial(path_);
    } catch (const Error& e) {
      synced = e.what();
      remove_partial(path_);
    }
  comm_.broadcast(synced);
  if (synced != "ok") {
    if (comm_.root()) throw io_error(synced);
    throw ReportedError(ExitCode::io);
  }
}

H5mdWriter::~H5mdWriter() {
  // Closing is collective in parallel HDF5. While an exception unwinds on one rank only, the other
  // ranks are elsewhere, so a collective close here would hang the job before main() reaches
  // MPI_Abort: leave the handles (the process is about to abort; the .partial file stays). On one
  // rank everything is closed (an open MPI-IO file would crash HDF5's cleanup at MPI_Finalize).
  if (std::uncaught_exceptions() > 0 && comm_.size() > 1) return;
  try {
    release();
  } catch (...) {
    // A destructor does not report; the .partial is never renamed.
  }
}

// ---------------------------------------------------------------- reading

namespace {

// meta.box_length and the boltzmap root attributes of an open configuration file. The box:
// edges/value [frame][D][D] or [frame][D] (a time-dependent box, as boltzmap writes it), or a
// fixed edges dataset [D] or [D][D] (files of earlier versions, other programs); its first entry
// is L (cubic boxes only; a file of zero frames has no time-dependent box to read).
void read_box_and_attributes(hid_t file, FrameMeta& meta) {
  for (const char* e : {"/particles/all/box/edges/value", "/particles/all/box/edges"})
    if (exists(file, e)) {
      H5O_info_t info;
      if (H5Oget_info_by_name2(file, e, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_DATASET) continue;
      hid_t d = H5Dopen2(file, e, H5P_DEFAULT);
      const auto dims = dims_of(d);
      std::vector<hsize_t> start(dims.size(), 0), one(dims.size(), 1);
      double first = 0;
      bool ok = !dims.empty() && std::all_of(dims.begin(), dims.end(), [](hsize_t x) { return x > 0; });
      if (ok) {
        H5Handle fspace(H5Dget_space(d), H5Sclose);
        H5Handle mspace(H5Screate_simple(1, one.data(), nullptr), H5Sclose);
        ok = H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, one.data(), nullptr) >= 0 &&
             H5Dread(d, H5T_NATIVE_DOUBLE, mspace, fspace, H5P_DEFAULT, &first) >= 0;
      }
      H5Dclose(d);
      if (ok) meta.box_length = first;
      break;
    }
  for (const char* a : {"boltzmap_input", "boltzmap_system", "boltzmap_set", "boltzmap_version"}) {
    const std::string v = read_string_attribute(file, a);
    if (!v.empty()) meta.attributes[a] = v;
  }
}

}  // namespace

H5mdRows::H5mdRows(const std::string& path) : path_(path) {
  if (!std::filesystem::exists(path)) throw io_error(path + ": missing");
  file_ = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (file_ < 0) throw io_error(path + ": cannot open (not an HDF5 file?)");
  const std::string pos = "/particles/all/position/value";
  if (!exists(file_, pos)) {
    H5Fclose(file_);
    throw io_error(path + ": not an H5MD configuration file (no " + pos + ")");
  }
  hid_t d = H5Dopen2(file_, pos.c_str(), H5P_DEFAULT);
  const auto dims = dims_of(d);
  H5Dclose(d);
  if (dims.size() != 3) {
    H5Fclose(file_);
    throw io_error(path + ": " + pos + " must have shape [frame][particle][dim]");
  }
  frames_ = static_cast<std::int64_t>(dims[0]);
  particles_ = static_cast<int>(dims[1]);
  dimension_ = static_cast<int>(dims[2]);
  meta_.frames = frames_;
  meta_.particles = particles_;
  meta_.dimension = dimension_;
  read_box_and_attributes(file_, meta_);
}

H5mdRows::~H5mdRows() {
  if (file_ >= 0) H5Fclose(file_);
}

bool H5mdRows::has_observable(const std::string& name) const { return exists(file_, "/observables/" + name + "/value"); }

void H5mdRows::read(const std::string& dataset, hid_t memtype, std::int64_t first, std::int64_t count, std::size_t row,
                    void* out) const {
  const std::string where = fmt::format("{}: {} rows {}…{}", path_, dataset, first, first + count - 1);
  if (first < 0 || count < 0 || first + count > frames_)
    throw Error(ExitCode::failure, fmt::format("{}: outside the file's {} frames", where, frames_));
  if (count == 0) return;
  H5Handle d(H5Dopen2(file_, dataset.c_str(), H5P_DEFAULT), H5Dclose);
  if (d.get() < 0) throw io_error(path_ + ": cannot open dataset " + dataset);
  H5Handle fspace(H5Dget_space(d), H5Sclose);
  H5_CHECK(fspace.get());
  const int rank = H5Sget_simple_extent_ndims(fspace);
  std::vector<hsize_t> dims(static_cast<std::size_t>(std::max(rank, 0)));
  H5Sget_simple_extent_dims(fspace, dims.data(), nullptr);
  std::size_t per_row = 1;
  for (int k = 1; k < rank; ++k) per_row *= dims[static_cast<std::size_t>(k)];
  if (rank < 1 || static_cast<std::int64_t>(dims[0]) != frames_ || per_row != row)
    throw io_error(fmt::format("{}: has the wrong shape (frames {} × {} values expected)", where, frames_, row));
  std::vector<hsize_t> start(dims.size(), 0), cnt = dims;
  start[0] = static_cast<hsize_t>(first);
  cnt[0] = static_cast<hsize_t>(count);
  H5_CHECK(H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start.data(), nullptr, cnt.data(), nullptr));
  H5Handle mspace(H5Screate_simple(rank, cnt.data(), nullptr), H5Sclose);
  H5_CHECK(mspace.get());
  if (H5Dread(d, memtype, mspace, fspace, H5P_DEFAULT, out) < 0) throw io_error(where + ": cannot read");
}

void H5mdRows::positions(std::int64_t first, std::int64_t count, std::vector<float>& out) const {
  const std::size_t row = static_cast<std::size_t>(particles_) * dimension_;
  out.resize(static_cast<std::size_t>(count) * row);
  read("/particles/all/position/value", H5T_NATIVE_FLOAT, first, count, row, out.data());
}

void H5mdRows::observable(const std::string& name, std::int64_t first, std::int64_t count,
                          std::vector<double>& out) const {
  const std::string d = "/observables/" + name + "/value";
  if (!has_observable(name)) throw io_error(path_ + ": no " + d);
  out.resize(static_cast<std::size_t>(count));
  read(d, H5T_NATIVE_DOUBLE, first, count, 1, out.data());
}

std::vector<double> read_observable(const std::string& path, const std::string& name) {
  const H5File f = H5File::open(path);
  const std::string d = "/observables/" + name + "/value";
  if (!exists(f.id, d)) throw io_error(path + ": no " + d + " (not written by `boltzmap map`?)");
  return read_all<double>(f.id, d, H5T_NATIVE_DOUBLE, path);
}

std::vector<std::string> list_observables(const std::string& path) {
  const H5File f = H5File::open(path);
  std::vector<std::string> names;
  if (!exists(f.id, "/observables")) return names;
  H5Handle g(H5Gopen2(f.id, "/observables", H5P_DEFAULT), H5Gclose);
  H5_CHECK(g.get());
  H5Literate(
      g, H5_INDEX_NAME, H5_ITER_INC, nullptr,
      [](hid_t, const char* name, const H5L_info_t*, void* data) -> herr_t {
        static_cast<std::vector<std::string>*>(data)->push_back(name);
        return 0;
      },
      &names);
  std::erase_if(names, [&](const std::string& n) { return !exists(f.id, "/observables/" + n + "/value"); });
  return names;
}

std::string read_root_attribute(const std::string& path, const std::string& name) {
  const H5File f = H5File::open(path);
  return read_string_attribute(f.id, name.c_str());
}

Frames read_h5md(const std::string& path) {
  const H5File f = H5File::open(path);
  const std::string pos = "/particles/all/position/value";
  if (!exists(f.id, pos)) throw io_error(path + ": not an H5MD configuration file (no " + pos + ")");
  Frames fr;
  hid_t d = H5Dopen2(f.id, pos.c_str(), H5P_DEFAULT);
  const auto dims = dims_of(d);
  H5Dclose(d);
  if (dims.size() != 3) throw io_error(path + ": " + pos + " must have shape [frame][particle][dim]");
  fr.meta.frames = static_cast<std::int64_t>(dims[0]);
  fr.meta.particles = static_cast<int>(dims[1]);
  fr.meta.dimension = static_cast<int>(dims[2]);
  fr.positions = read_all<float>(f.id, pos, H5T_NATIVE_FLOAT, path);
  read_box_and_attributes(f.id, fr.meta);
  if (exists(f.id, "/observables/potential_energy/value"))
    fr.energies = read_all<double>(f.id, "/observables/potential_energy/value", H5T_NATIVE_DOUBLE, path);
  if (exists(f.id, "/observables/walker/value"))
    fr.walkers = read_all<std::int32_t>(f.id, "/observables/walker/value", H5T_NATIVE_INT32, path);
  if (exists(f.id, "/observables/mc_moves/value"))
    fr.mc_moves = read_all<std::int64_t>(f.id, "/observables/mc_moves/value", H5T_NATIVE_INT64, path);
  return fr;
}

namespace {

std::string type_string(hid_t type) {
  const size_t size = H5Tget_size(type);
  switch (H5Tget_class(type)) {
    case H5T_INTEGER: return fmt::format("int{}", 8 * size);
    case H5T_FLOAT: return fmt::format("float{}", 8 * size);
    case H5T_STRING: return "string";
    default: return "other";
  }
}

std::string attribute_summary(hid_t obj) {
  std::string out;
  H5Aiterate2(
      obj, H5_INDEX_NAME, H5_ITER_NATIVE, nullptr,
      [](hid_t loc, const char* name, const H5A_info_t*, void* data) -> herr_t {
        auto* s = static_cast<std::string*>(data);
        hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
        hid_t t = H5Aget_type(a);
        hid_t sp = H5Aget_space(a);
        const hssize_t n = H5Sget_simple_extent_npoints(sp);
        std::string value;
        if (H5Tget_class(t) == H5T_STRING) {
          value = read_string_attribute(loc, name);
          const auto nl = value.find('\n');
          const bool multi = nl != std::string::npos;
          if (multi) value = value.substr(0, nl) + " … (" + std::to_string(std::count(value.begin(), value.end(), '\n')) + " lines)";
          if (value.size() > 70) value = value.substr(0, 67) + "...";
          value = "\"" + value + "\"";
          if (n > 1) value += fmt::format(" ×{}", n);
        } else if ((H5Tget_class(t) == H5T_INTEGER || H5Tget_class(t) == H5T_FLOAT) && n <= 8) {
          std::vector<double> v(n);
          H5Aread(a, H5T_NATIVE_DOUBLE, v.data());
          value = fmt::format("{}", fmt::join(v, ", "));
          if (n > 1) value = "[" + value + "]";
        } else {
          value = fmt::format("<{} {}>", type_string(t), n);
        }
        *s += fmt::format("    @{} = {}\n", name, value);
        H5Sclose(sp);
        H5Tclose(t);
        H5Aclose(a);
        return 0;
      },
      &out);
  return out;
}

}  // namespace

std::string describe_h5(const std::string& path) {
  std::string out;
  {
    const H5File f = H5File::open(path);
    out += fmt::format("{}\n", path);
    out += attribute_summary(f.id);
    H5Ovisit2(
        f.id, H5_INDEX_NAME, H5_ITER_INC,
        [](hid_t obj, const char* name, const H5O_info_t* info, void* data) -> herr_t {
          auto* s = static_cast<std::string*>(data);
          if (std::string(name) == ".") return 0;
          if (info->type == H5O_TYPE_GROUP) {
            *s += fmt::format("  /{}/\n", name);
            hid_t g = H5Gopen2(obj, name, H5P_DEFAULT);
            *s += attribute_summary(g);
            H5Gclose(g);
          } else if (info->type == H5O_TYPE_DATASET) {
            hid_t d = H5Dopen2(obj, name, H5P_DEFAULT);
            hid_t t = H5Dget_type(d);
            *s += fmt::format("  /{}  {} [{}]\n", name, type_string(t), fmt::join(dims_of(d), ", "));
            *s += attribute_summary(d);
            H5Tclose(t);
            H5Dclose(d);
          }
          return 0;
        },
        &out, H5O_INFO_BASIC);
  }
  // H5MD configuration summary.
  try {
    const Frames fr = read_h5md(path);
    out += fmt::format("H5MD configurations: {} frames × {} particles × {}D, box edge L = {:.6g}\n", fr.meta.frames,
                       fr.meta.particles, fr.meta.dimension, fr.meta.box_length);
    for (const char* a : {"boltzmap_system", "boltzmap_set", "boltzmap_version"})
      if (fr.meta.attributes.count(a)) out += fmt::format("  {}: {}\n", a, fr.meta.attributes.at(a));
    if (!fr.energies.empty()) {
      double lo = INFINITY, hi = -INFINITY, sum = 0.0, sum2 = 0.0;
      for (double e : fr.energies) {
        lo = std::min(lo, e);
        hi = std::max(hi, e);
        sum += e;
      }
      const double n = static_cast<double>(fr.energies.size()), mean = sum / n;
      for (double e : fr.energies) sum2 += (e - mean) * (e - mean);
      const double sd = fr.energies.size() > 1 ? std::sqrt(sum2 / (n - 1)) : 0.0;
      out += fmt::format("  potential energy U: mean {:.6g} (per particle {:.6g}), sd {:.4g}, min {:.6g}, max {:.6g}\n", mean,
                         mean / fr.meta.particles, sd, lo, hi);
    }
    if (!fr.mc_moves.empty()) {
      const auto [lo, hi] = std::minmax_element(fr.mc_moves.begin(), fr.mc_moves.end());
      out += fmt::format("  trial moves per walker (observables/mc_moves): {} … {}\n", *lo, *hi);
    }
    if (fr.meta.attributes.count("boltzmap_input"))
      out += "  resolved input: in attribute @boltzmap_input (print it with: h5dump -a boltzmap_input FILE)\n";
  } catch (const Error&) {
    // Not a configuration file: the tree above is the description.
  }
  return out;
}

}  // namespace boltzmap
