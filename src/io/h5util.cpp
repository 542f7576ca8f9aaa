// See h5util.hpp.
#include "io/h5util.hpp"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <sstream>


// Exported by libhdf5 (H5private.h, not a public header): Jenkins' lookup3, HDF5's metadata checksum.
extern "C" uint32_t H5_checksum_metadata(const void* data, size_t len, uint32_t initval);

namespace boltzmap {

H5File H5File::open(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  if (!std::filesystem::exists(path)) throw io_error(path + ": no such file");
  H5File f;
  f.path = path;
  f.id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (f.id < 0) throw io_error(path + ": not a readable HDF5 file");
  return f;
}

namespace {

bool g_unclosable = false;

// HDF5 1.10's H5Fget_file_image clears the superblock's status-flags byte in the copy without
// updating the checksum that superblocks of version 2 and later carry, so the image would not
// open ("incorrect metadata checksum"). Recomputing the checksum over the bytes as they are is
// right whether or not a library version does this. Layout (HDF5 file format spec, superblock
// v2/v3): signature 8, version, sizes of offsets and lengths, flags (1 each), 4 addresses, checksum.
void repair_superblock_checksum(std::vector<char>& image) {
  if (image.size() < 12 || static_cast<unsigned char>(image[8]) < 2) return;  // v0/v1: no checksum
  const std::size_t len = 12 + 4 * static_cast<std::size_t>(static_cast<unsigned char>(image[9]));
  if (image.size() < len + 4) return;
  const std::uint32_t sum = H5_checksum_metadata(image.data(), len, 0);
  for (int k = 0; k < 4; ++k) image[len + k] = static_cast<char>((sum >> (8 * k)) & 0xff);  // little-endian
}

}  // namespace

void note_unclosable_hdf5_file() { g_unclosable = true; }
bool hdf5_file_unclosable() { return g_unclosable; }

hid_t create_file_access() {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  H5_CHECK(fapl);
  if (H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_LATEST) < 0 ||
      H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0) {
    const std::string why = h5_describe(-1);
    H5Pclose(fapl);
    throw Error(ExitCode::failure, "HDF5: cannot set up a file-access property list: " + why);
  }
  return fapl;
}

H5File H5File::create(const std::string& path) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  H5Handle fapl(create_file_access(), H5Pclose);
  // In memory (1 MiB increments), no backing store: close() writes the image itself.
  H5_CHECK(H5Pset_fapl_core(fapl, 1 << 20, false));
  H5File f;
  f.path = path;
  f.created = true;
  f.id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
  if (f.id < 0) throw io_error(path + ": cannot create HDF5 file (" + h5_describe(f.id) + ")");
  return f;
}

void H5File::close() {
  if (id < 0) return;
  const hid_t fid = id;
  id = -1;
  if (!created) {
    H5_CHECK(H5Fclose(fid));
    return;
  }
  // The whole file is in memory: flush HDF5's caches into it, copy the image out, close (no disk
  // involved, so this cannot fail for lack of space), then write the image with checked POSIX calls.
  std::vector<char> image;
  try {
    H5_CHECK(H5Fflush(fid, H5F_SCOPE_LOCAL));
    const ssize_t size = H5Fget_file_image(fid, nullptr, 0);
    H5_CHECK(size);
    image.resize(static_cast<std::size_t>(size));
    H5_CHECK(H5Fget_file_image(fid, image.data(), image.size()));
    repair_superblock_checksum(image);
  } catch (...) {
    H5Fclose(fid);
    throw;
  }
  H5_CHECK(H5Fclose(fid));
  write_bytes(path, image.data(), image.size());
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
  H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5_CHECK(type.get());
  H5_CHECK(H5Tset_size(type, std::max<size_t>(1, value.size())));
  H5_CHECK(H5Tset_strpad(type, H5T_STR_NULLPAD));
  H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
  H5_CHECK(space.get());
  H5Handle a(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5_CHECK(a.get());
  H5_CHECK(H5Awrite(a, type, value.empty() ? "" : value.data()));
  a.close();
  space.close();
  type.close();
}

void string_array_attribute(hid_t obj, const char* name, const std::vector<std::string>& values) {
  size_t width = 1;
  for (const auto& v : values) width = std::max(width, v.size());
  std::string buf(width * values.size(), '\0');
  for (size_t i = 0; i < values.size(); ++i) std::copy(values[i].begin(), values[i].end(), buf.begin() + i * width);
  H5Handle type(H5Tcopy(H5T_C_S1), H5Tclose);
  H5_CHECK(type.get());
  H5_CHECK(H5Tset_size(type, width));
  H5_CHECK(H5Tset_strpad(type, H5T_STR_NULLPAD));
  const hsize_t n = values.size();
  H5Handle space(H5Screate_simple(1, &n, nullptr), H5Sclose);
  H5_CHECK(space.get());
  H5Handle a(H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT), H5Aclose);
  H5_CHECK(a.get());
  H5_CHECK(H5Awrite(a, type, buf.data()));
  a.close();
  space.close();
  type.close();
}

hid_t make_dataset(hid_t parent, const char* name, hid_t type, std::vector<hsize_t> dims) {
  H5Handle space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr), H5Sclose);
  H5_CHECK(space.get());
  hid_t d = H5Dcreate2(parent, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  H5_CHECK(d);
  space.close();
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
