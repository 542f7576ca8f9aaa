// Small serial HDF5 helpers shared by the file formats (H5MD configurations, the model file):
// groups, datasets, attributes, whole-dataset reads, an RAII file handle. Errors throw
// boltzmap::Error (io for files that are missing or unreadable, failure for library errors).
#pragma once
#include <hdf5.h>

#include <span>
#include <string>
#include <vector>

#include "core/check.hpp"
#include "core/error.hpp"

namespace boltzmap {

// An open HDF5 file, closed on destruction. open(): read-only; create(): truncate, serial.
struct H5File {
  hid_t id = -1;
  static H5File open(const std::string& path);
  static H5File create(const std::string& path);
  H5File() = default;
  H5File(H5File&& o) noexcept : id(o.id) { o.id = -1; }
  H5File(const H5File&) = delete;
  H5File& operator=(const H5File&) = delete;
  ~H5File() {
    if (id >= 0) H5Fclose(id);
  }
};

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
  hid_t space = n == 1 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, nullptr);
  hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5_CHECK(a);
  H5_CHECK(H5Awrite(a, type, values.data()));
  H5Aclose(a);
  H5Sclose(space);
}

// Reads a numeric scalar attribute (converted to double); throws io_error naming fname if absent.
double read_number_attribute(hid_t obj, const char* name, const std::string& fname);
// Reads a numeric 1-D (or scalar) attribute as doubles; throws io_error naming fname if absent.
std::vector<double> read_numbers_attribute(hid_t obj, const char* name, const std::string& fname);

// A whole dataset written in one serial call.
template <class T>
void write_dataset(hid_t parent, const char* name, hid_t file_type, hid_t mem_type, std::vector<hsize_t> dims,
                   const T* data) {
  hid_t d = make_dataset(parent, name, file_type, std::move(dims));
  H5_CHECK(H5Dwrite(d, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data));
  H5Dclose(d);
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
