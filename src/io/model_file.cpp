// See model_file.hpp.
#include "io/model_file.hpp"

#include "core/error.hpp"
#include "io/files.hpp"
#include "io/h5util.hpp"
#include "version.hpp"

namespace boltzmap {

void save_preprocessor(const std::string& path, const Preprocessor& pre, const std::string& resolved_input) {
  {
    const H5File f = H5File::create(partial_name(path));
    string_attribute(f.id, "boltzmap_input", resolved_input);
    string_attribute(f.id, "boltzmap_version", std::string(build::version) + " (" + build::git_hash + ")");
    hid_t g = make_group(f.id, "preprocess");
    const auto& s = pre.settings();
    const int ints[4] = {pre.n_particles(), pre.dim(), s.augment ? 1 : 0, s.whiten ? 1 : 0};
    numeric_attribute<int>(g, "n_particles", H5T_NATIVE_INT, std::span<const int>(ints, 1));
    numeric_attribute<int>(g, "dimension", H5T_NATIVE_INT, std::span<const int>(ints + 1, 1));
    numeric_attribute<int>(g, "augment", H5T_NATIVE_INT, std::span<const int>(ints + 2, 1));
    numeric_attribute<int>(g, "whiten", H5T_NATIVE_INT, std::span<const int>(ints + 3, 1));
    const double L = pre.box_length(), ld = pre.log_det_forward();
    numeric_attribute<double>(g, "box_length", H5T_NATIVE_DOUBLE, std::span<const double>(&L, 1));
    numeric_attribute<double>(g, "log_det_forward", H5T_NATIVE_DOUBLE, std::span<const double>(&ld, 1));
    string_attribute(g, "centre", s.centre);
    string_attribute(g, "reference_lattice", s.reference_lattice);
    const hsize_t n1 = pre.n_particles() - 1, D = pre.dim(), m = pre.latent_dim();
    write_dataset(g, "reference_sites", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {n1, D}, pre.relabel().site_coordinates().data());
    write_dataset(g, "wrap_centres", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {n1, D}, pre.wrap_centres().data());
    const Pca& pca = pre.pca();
    write_dataset(g, "pca_mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {m}, pca.mean().data());
    // Eigen is column-major: V's column k is contiguous; stored row-major [i][k] = V(i, k).
    const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> v = pca.components();
    write_dataset(g, "pca_components", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {m, m}, v.data());
    write_dataset(g, "pca_eigenvalues", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {m}, pca.eigenvalues().data());
    H5Gclose(g);
  }
  commit_partial(path);
}

Preprocessor load_preprocessor(const std::string& path) {
  const H5File f = H5File::open(path);
  if (!exists(f.id, "/preprocess")) throw io_error(path + ": not a boltzmap model file (no /preprocess group)");
  hid_t g = H5Gopen2(f.id, "preprocess", H5P_DEFAULT);
  PreprocessSettings s;
  const int n = static_cast<int>(read_number_attribute(g, "n_particles", path));
  const int D = static_cast<int>(read_number_attribute(g, "dimension", path));
  const double L = read_number_attribute(g, "box_length", path);
  s.augment = read_number_attribute(g, "augment", path) != 0;
  s.whiten = read_number_attribute(g, "whiten", path) != 0;
  s.centre = read_string_attribute(g, "centre");
  s.reference_lattice = read_string_attribute(g, "reference_lattice");
  H5Gclose(g);
  Preprocessor pre(s, n, D, L);
  const int m = pre.latent_dim();
  auto centres = read_all<double>(f.id, "/preprocess/wrap_centres", H5T_NATIVE_DOUBLE, path);
  auto mean = read_all<double>(f.id, "/preprocess/pca_mean", H5T_NATIVE_DOUBLE, path);
  auto comps = read_all<double>(f.id, "/preprocess/pca_components", H5T_NATIVE_DOUBLE, path);
  auto lambda = read_all<double>(f.id, "/preprocess/pca_eigenvalues", H5T_NATIVE_DOUBLE, path);
  if (static_cast<int>(centres.size()) != m || static_cast<int>(mean.size()) != m ||
      static_cast<int>(comps.size()) != m * m || static_cast<int>(lambda.size()) != m)
    throw io_error(path + ": /preprocess datasets do not match n_particles and dimension");
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> v =
      Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(comps.data(), m, m);
  pre.set_state(std::move(centres), Pca(Eigen::Map<const Eigen::VectorXd>(mean.data(), m), v,
                                        Eigen::Map<const Eigen::VectorXd>(lambda.data(), m), s.whiten));
  return pre;
}

}  // namespace boltzmap
