// Small serial HDF5 helpers shared by the file formats (H5MD configurations, the model file):
// groups, datasets, attributes, whole-dataset reads, RAII handles. Errors throw boltzmap::Error
// (io for files that are missing, unreadable or could not be written, failure for library errors).
// H5File::create builds the file in memory (HDF5's core driver) and close() writes it out with
// checked POSIX calls, so a full disk is one clear io_error and never a half-written file or a
// dangling HDF5 id. Every created file uses the 1.8 format or later (libver bounds V18..LATEST):
// attributes over 64 kB (a long resolved input) go to dense storage. Tests: tests/io/test_files.cpp.
#pragma once
#include <hdf5.h>

#include <cerrno>
#include <span>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/error.hpp"
#include "io/files.hpp"

namespace boltzmap {

// One HDF5 id (dataspace, datatype, attribute, dataset, group, property list) closed when it goes
// out of scope; close() closes it now and checks the result.
class H5Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Handle(hid_t id, Closer closer) : id_(id), close_(closer) {}
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  operator hid_t() const { return id_; }
  void close() {
    const hid_t id = id_;
    id_ = -1;
    if (id >= 0) H5_CHECK(close_(id));
  }

 private:
  hid_t id_;
  Closer close_;
};

// A file-access property list for files boltzmap creates: the 1.8 format or later (dense storage
// for large attributes) and a strong close degree (closing the file closes what an exception left open).
hid_t create_file_access();

// An open HDF5 file. open(): read-only. create(): a new file built in memory; close() flushes it
// and writes it to `path` (checked, fsynced), and must be called before commit_partial. The
// destructor is only for the error path: it discards an unclosed created file (nothing of it is
// on disk) and never reports.
struct H5File {
  hid_t id = -1;
  std::string path;
  bool created = false;
  static H5File open(const std::string& path);
  static H5File create(const std::string& path);
  void close();
  H5File() = default;
  H5File(H5File&& o) noexcept : id(o.id), path(std::move(o.path)), created(o.created) { o.id = -1; }
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;
  ~H5File() {
    if (id >= 0) H5Fclose(id);
  }
};

// Runs call() (an HDF5 call that writes to `file`, returning a status or id) with errno cleared;
// a negative result throws io_error "file: write failed: <errno text> (HDF5: <stack>)", plus the
// free space when that is low (MPI-IO under HDF5 loses errno).
template <class Call>
auto h5_write(const std::string& file, Call&& call) {
  errno = 0;
  const auto rc = call();
  if (rc < 0) {
    const int err = errno;
    throw io_error(file + ": write failed: " + h5_io_reason(err) + low_space_note(file));
  }
  return rc;
}

// HDF5 1.10 frees a file whose H5Fclose failed but keeps its id; its own cleanup (H5close, or
// at MPI_Finalize and exit) then crashes. A writer that meets that calls note_unclosable_hdf5_file();
// main() then ends the process without that cleanup (after its error message).
void note_unclosable_hdf5_file();
bool hdf5_file_unclosable();

hid_t make_group(hid_t parent, const char* name);
void string_attribute(hid_t obj, const char* name, const std::string& value);
void string_array_attribute(hid_t obj, const char* name, const std::vector<std::string>& values);
hid_t make_dataset(hid_t parent, const char* name, hid_t type, std::vector<hsize_t> dims);
bool exists(hid_t loc, const std::string& path);
std::vector<hsize_t> dims_of(hid_t dset);
std::string read_string_attribute(hid_t obj, const char* name);  // "" if absent

template <class T>
void numeric_attribute(hid_t obj, const char* name, hid_t type, std::span<const T> values) {
  const hsize_t n = values.size();
  H5Handle space(n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr), H5Sclose);
  H5_CHECK(space.get());
  H5Handle a(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5_CHECK(a.get());
  H5_CHECK(H5Awrite(a, type, values.data()));
  a.close();
  space.close();
}

// Reads a numeric scalar attribute (converted to double); throws io_error naming fname if absent.
double read_number_attribute(hid_t obj, const char* name, const std::string& fname);
// Reads a numeric 1-D (or scalar) attribute as doubles; throws io_error naming fname if absent.
std::vector<double> read_numbers_attribute(hid_t obj, const char* name, const std::string& fname);

// A whole dataset written in one serial call.
template <class T>
void write_dataset(hid_t parent, const char* name, hid_t file_type, hid_t mem_type, std::vector<hsize_t> dims,
                   const T* data) {
  H5Handle d(make_dataset(parent, name, file_type, std::move(dims)), H5Dclose);
  H5_CHECK(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
  d.close();
}

template <class T>
std::vector<T> read_all(hid_t file, const std::string& path, hid_t memtype, const std::string& fname) {
  hid_t d = H5Dopen2(file, path.c_str(), H5P_DEFAULT);
  if (d < 0) throw io_error(fname + ": cannot open dataset " + path);
  size_t n = 1;
  for (auto x : dims_of(d)) n *= x;
  std::vector<T> v(n);
  if (n > 0 && H5Dread(d, memtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) {
    H5Dclose(d);
    throw io_error(fname + ": cannot read dataset " + path);
  }
  H5Dclose(d);
  return v;
}

}  // namespace boltzmap
