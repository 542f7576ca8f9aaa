// See h5util.hpp.
#include "io/h5util.hpp"

#include <algorithm>
#include <filesystem>
#include <sstream>

namespace boltzmap {

H5File H5File::open(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (!std::filesystem::exists(path)) throw io_error(path + ": no such file");
  H5File f;
  f.id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f.id < 0) throw io_error(path + ": not a readable HDF5 file");
  return f;
}

H5File H5File::create(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  H5File f;
  f.id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f.id < 0) throw io_error(path + ": cannot create HDF5 file");
  return f;
}

double read_number_attribute(hid_t obj, const char* name, const std::string& fname) {
  if (H5Aexists(obj, name) <= 0) throw io_error(fname + ": missing attribute " + name);
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  double v = 0;
  const herr_t rc = H5Aread(a, H5T_NATIVE_DOUBLE, &v);
  H5Aclose(a);
  if (rc < 0) throw io_error(fname + ": attribute " + name + " is not a number");
  return v;
}

std::vector<double> read_numbers_attribute(hid_t obj, const char* name, const std::string& fname) {
  if (H5Aexists(obj, name) <= 0) throw io_error(fname + ": missing attribute " + name);
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  hid_t space = H5Aget_space(a);
  const hssize_t n = H5Sget_simple_extent_npoints(space);
  H5Sclose(space);
  std::vector<double> v(static_cast<std::size_t>(std::max<hssize_t>(n, 0)));
  const herr_t rc = v.empty() ? 0 : H5Aread(a, H5T_NATIVE_DOUBLE, v.data());
  H5Aclose(a);
  if (rc < 0) throw io_error(fname + ": attribute " + name + " is not numeric");
  return v;
}

hid_t make_group(hid_t parent, const char* name) {
  hid_t g = H5Gcreate2(parent, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5_CHECK(g);
  return g;
}

void string_attribute(hid_t obj, const char* name, const std::string& value) {
  hid_t type = H5Tcopy(H5T_C_S1);
  H5_CHECK(H5Tset_size(type, std::max<size_t>(1, value.size())));
  H5_CHECK(H5Tset_strpad(type, H5T_STR_NULLPAD));
  hid_t space = H5Screate(H5S_SCALAR);
  hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5_CHECK(a);
  H5_CHECK(H5Awrite(a, type, value.empty() ? "" : value.data()));
  H5Aclose(a);
  H5Sclose(space);
  H5Tclose(type);
}

void string_array_attribute(hid_t obj, const char* name, const std::vector<std::string>& values) {
  size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  std::string buf(width * values.size(), '\0');
  for (size_t i = 0; i < values.size(); ++i) std::copy(values[i].begin(), values[i].end(), buf.begin() + i * width);
  hid_t type = H5Tcopy(H5T_C_S1);
  H5_CHECK(H5Tset_size(type, width));
  H5_CHECK(H5Tset_strpad(type, H5T_STR_NULLPAD));
  const hsize_t n = values.size();
  hid_t space = H5Screate_simple(1, &n, nullptr);
  hid_t a = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
  H5_CHECK(a);
  H5_CHECK(H5Awrite(a, type, buf.data()));
  H5Aclose(a);
  H5Sclose(space);
  H5Tclose(type);
}

hid_t make_dataset(hid_t parent, const char* name, hid_t type, std::vector<hsize_t> dims) {
  hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
  hid_t d = H5Dcreate2(parent, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5_CHECK(d);
  H5Sclose(space);
  return d;
}

bool exists(hid_t loc, const std::string& path) {
  // Check each component so intermediate groups that are missing do not raise errors.
  std::string sofar;
  std::stringstream ss(path);
  std::string part;
  while (std::getline(ss, part, '/')) {
    if (part.empty()) continue;
    sofar += "/" + part;
    if (H5Lexists(loc, sofar.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return true;
}

std::vector<hsize_t> dims_of(hid_t dset) {
  hid_t s = H5Dget_space(dset);
  std::vector<hsize_t> d(H5Sget_simple_extent_ndims(s));
  H5Sget_simple_extent_dims(s, d.data(), nullptr);
  H5Sclose(s);
  return d;
}

std::string read_string_attribute(hid_t obj, const char* name) {
  hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
  if (a < 0) return {};
  hid_t ftype = H5Aget_type(a);
  std::string out;
  if (H5Tget_class(ftype) == H5T_STRING) {
    if (H5Tis_variable_str(ftype) > 0) {
      char* s = nullptr;
      hid_t mt = H5Tcopy(H5T_C_S1);
      H5Tset_size(mt, H5T_VARIABLE);
      if (H5Aread(a, mt, &s) >= 0 && s) out = s;
      H5free_memory(s);
      H5Tclose(mt);
    } else {
      const size_t n = H5Tget_size(ftype);
      hid_t space = H5Aget_space(a);
      const hssize_t count = H5Sget_simple_extent_npoints(space);
      H5Sclose(space);
      std::string buf(n * std::max<hssize_t>(1, count), '\0');
      H5Aread(a, ftype, buf.data());
      out = buf.substr(0, n);
      out.erase(std::find(out.begin(), out.end(), '\0'), out.end());
    }
  }
  H5Tclose(ftype);
  H5Aclose(a);
  return out;
}

}  // namespace boltzmap
