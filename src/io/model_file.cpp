// See model_file.hpp.
#include "io/model_file.hpp"

#include <array>

#include "core/error.hpp"
#include "io/files.hpp"
#include "flow/equivariant_flow.hpp"
#include "flow/realnvp.hpp"
#include "io/h5util.hpp"
#include "version.hpp"

namespace boltzmap {

namespace {

void write_preprocess_group(hid_t file, const Preprocessor& pre) {
  hid_t g = make_group(file, "preprocess");
  const auto& s = pre.settings();
  const int ints[4] = {pre.n_particles(), pre.dim(), s.augment ? 1 : 0, s.whiten ? 1 : 0};
  numeric_attribute<int>(g, "n_particles", H5T_NATIVE_INT, std::span<const int>(ints, 1));
  numeric_attribute<int>(g, "dimension", H5T_NATIVE_INT, std::span<const int>(ints + 1, 1));
  numeric_attribute<int>(g, "augment", H5T_NATIVE_INT, std::span<const int>(ints + 2, 1));
  numeric_attribute<int>(g, "whiten", H5T_NATIVE_INT, std::span<const int>(ints + 3, 1));
  const double L = pre.box_length(), ld = pre.log_det_forward();
  numeric_attribute<double>(g, "box_length", H5T_NATIVE_DOUBLE, std::span<const double>(&L, 1));
  // The box-scaling layer: B's box (A's is box_length, the one the preprocessing works in).
  const double Lb = pre.box_length_b(), s_log = pre.box_log_det();
  numeric_attribute<double>(g, "box_length_B", H5T_NATIVE_DOUBLE, std::span<const double>(&Lb, 1));
  numeric_attribute<double>(g, "box_log_det", H5T_NATIVE_DOUBLE, std::span<const double>(&s_log, 1));
  numeric_attribute<double>(g, "log_det_forward", H5T_NATIVE_DOUBLE, std::span<const double>(&ld, 1));
  string_attribute(g, "centre", s.centre);
  string_attribute(g, "reference_lattice", s.reference_lattice);
  numeric_attribute<int>(g, "torus", H5T_NATIVE_INT, std::span<const int>(std::array<int, 1>{s.torus ? 1 : 0}));
  const hsize_t n1 = pre.n_particles() - 1, D = pre.dim(), m = pre.latent_dim();
  write_dataset(g, "reference_sites", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {n1, D}, pre.relabel().site_coordinates().data());
  write_dataset(g, "wrap_centres", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {n1, D}, pre.wrap_centres().data());
  const Pca& pca = pre.pca();
  write_dataset(g, "pca_mean", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {m}, pca.mean().data());
  // Eigen is column-major: V's column k is contiguous; stored row-major [i][k] = V(i, k).
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> v = pca.components();
  write_dataset(g, "pca_components", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {m, m}, v.data());
  write_dataset(g, "pca_eigenvalues", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {m}, pca.eigenvalues().data());
  H5_CHECK(H5Gclose(g));
}

void write_provenance(hid_t file, const std::string& resolved_input) {
  string_attribute(file, "boltzmap_input", resolved_input);
  string_attribute(file, "boltzmap_version", std::string(build::version) + " (" + build::git_hash + ")");
}

void int_attribute(hid_t g, const char* name, int v) {
  numeric_attribute<int>(g, name, H5T_NATIVE_INT, std::span<const int>(&v, 1));
}
void double_attribute(hid_t g, const char* name, double v) {
  numeric_attribute<double>(g, name, H5T_NATIVE_DOUBLE, std::span<const double>(&v, 1));
}

// /flow: the kind, its shape and `parameters` (the flow's own, or a checkpoint's of that shape).
void write_flow_group(hid_t file, const Flow<float>& flow, std::span<const float> parameters) {
  hid_t g = make_group(file, "flow");
  string_attribute(g, "kind", flow.kind());
  if (const auto* nvp = dynamic_cast<const RealNvp<float>*>(&flow)) {
    const FlowShape& sh = nvp->shape();
    int_attribute(g, "dim", sh.dim);
    int_attribute(g, "blocks", sh.blocks);
    numeric_attribute<int>(g, "hidden", H5T_NATIVE_INT, std::span<const int>(sh.hidden));
    double_attribute(g, "scale_bound", sh.scale_bound);
  } else if (const auto* eq = dynamic_cast<const EquivariantFlow<float>*>(&flow)) {
    const EquivariantFlowShape& sh = eq->shape();
    int_attribute(g, "particles", sh.particles);
    int_attribute(g, "dimension", sh.dim);
    int_attribute(g, "layers", sh.layers);
    int_attribute(g, "bins", sh.bins);
    int_attribute(g, "frequencies", sh.frequencies);
    int_attribute(g, "width", sh.hidden);
    int_attribute(g, "shift", sh.shift ? 1 : 0);
    double_attribute(g, "length", sh.length);
    double_attribute(g, "min_bin", sh.min_bin);
    double_attribute(g, "min_derivative", sh.min_derivative);
  } else {
    H5Gclose(g);
    throw Error(ExitCode::failure, std::string("model file: no layout for a flow of kind ") + flow.kind());
  }
  const long long count = static_cast<long long>(parameters.size());
  numeric_attribute<long long>(g, "parameter_count", H5T_NATIVE_LLONG, std::span<const long long>(&count, 1));
  write_dataset(g, "parameters", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {static_cast<hsize_t>(count)}, parameters.data());
  H5_CHECK(H5Gclose(g));
}

}  // namespace

void save_preprocessor(const std::string& path, const Preprocessor& pre, const std::string& resolved_input) {
  {
    H5File f = H5File::create(partial_name(path));
    write_provenance(f.id, resolved_input);
    write_preprocess_group(f.id, pre);
    f.close();
  }
  commit_partial(path);
}

void save_flow(const std::string& path, const Preprocessor& pre, const Flow<float>& flow,
               const std::string& resolved_input) {
  {
    H5File f = H5File::create(partial_name(path));
    write_provenance(f.id, resolved_input);
    write_preprocess_group(f.id, pre);
    write_flow_group(f.id, flow, flow.parameters());
    f.close();
  }
  commit_partial(path);
}

void save_checkpoint(const std::string& path, const Preprocessor& pre, const Flow<float>& flow, const TrainingState& t,
                     const std::string& resolved_input) {
  {
    H5File f = H5File::create(partial_name(path));
    write_provenance(f.id, resolved_input);
    write_preprocess_group(f.id, pre);
    write_flow_group(f.id, flow, t.parameters);
    hid_t g = make_group(f.id, "checkpoint");
    const long long v[3] = {t.next_epoch, t.global_step, t.adam_steps};
    numeric_attribute<long long>(g, "next_epoch", H5T_NATIVE_LLONG, std::span<const long long>(v, 1));
    numeric_attribute<long long>(g, "global_step", H5T_NATIVE_LLONG, std::span<const long long>(v + 1, 1));
    numeric_attribute<long long>(g, "adam_steps", H5T_NATIVE_LLONG, std::span<const long long>(v + 2, 1));
    const hsize_t P = t.parameters.size();
    std::vector<double> zeros;
    const auto& m = t.adam_m.empty() ? (zeros = std::vector<double>(P, 0.0)) : t.adam_m;
    const auto& s2 = t.adam_v.empty() ? zeros : t.adam_v;
    write_dataset(g, "adam_m", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {P}, m.data());
    write_dataset(g, "adam_v", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {P}, s2.data());
    const hsize_t stride = static_cast<hsize_t>(pre.n_particles()) * pre.dim();
    const hsize_t rows = t.pool.size() / stride;
    write_dataset(g, "pool", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {rows, static_cast<hsize_t>(pre.n_particles()),
                                                                  static_cast<hsize_t>(pre.dim())}, t.pool.data());
    H5_CHECK(H5Gclose(g));
    f.close();
  }
  commit_partial(path);
}

TrainingState load_checkpoint(const std::string& path, std::size_t parameter_count, std::size_t pool_size) {
  const H5File f = H5File::open(path);
  if (!exists(f.id, "/checkpoint") || !exists(f.id, "/flow/parameters"))
    throw io_error(path + ": not a boltzmap training checkpoint");
  TrainingState t;
  t.parameters = read_all<float>(f.id, "/flow/parameters", H5T_NATIVE_FLOAT, path);
  if (t.parameters.size() != parameter_count)
    throw io_error(path + ": the checkpoint's flow has " + std::to_string(t.parameters.size()) + " parameters, the input's " +
                   std::to_string(parameter_count) + " ([flow] changed?); move the checkpoint away to start over");
  t.pool = read_all<float>(f.id, "/checkpoint/pool", H5T_NATIVE_FLOAT, path);
  if (t.pool.size() != pool_size)
    throw io_error(path + ": the checkpoint's source pool holds " + std::to_string(t.pool.size()) +
                   " coordinates, the input's pool " + std::to_string(pool_size) +
                   " (training.pool_size or A's training set changed?); move the checkpoint away to start over");
  t.adam_m = read_all<double>(f.id, "/checkpoint/adam_m", H5T_NATIVE_DOUBLE, path);
  t.adam_v = read_all<double>(f.id, "/checkpoint/adam_v", H5T_NATIVE_DOUBLE, path);
  hid_t g = H5Gopen2(f.id, "checkpoint", H5P_DEFAULT);
  try {
    t.adam_steps = static_cast<std::int64_t>(read_number_attribute(g, "adam_steps", path));
    t.next_epoch = static_cast<std::int64_t>(read_number_attribute(g, "next_epoch", path));
    t.global_step = static_cast<std::int64_t>(read_number_attribute(g, "global_step", path));
  } catch (...) {
    H5Gclose(g);
    throw;
  }
  H5Gclose(g);
  if (t.adam_steps == 0) t.adam_m.clear(), t.adam_v.clear();
  return t;
}

Preprocessor load_preprocessor(const std::string& path) {
  const H5File f = H5File::open(path);
  if (!exists(f.id, "/preprocess")) throw io_error(path + ": not a boltzmap model file (no /preprocess group)");
  hid_t g = H5Gopen2(f.id, "preprocess", H5P_DEFAULT);
  PreprocessSettings s;
  const int n = static_cast<int>(read_number_attribute(g, "n_particles", path));
  const int D = static_cast<int>(read_number_attribute(g, "dimension", path));
  const double L = read_number_attribute(g, "box_length", path);
  // Files from before the box-scaling layer have no @box_length_B: one box for both systems.
  const double Lb = H5Aexists(g, "box_length_B") > 0 ? read_number_attribute(g, "box_length_B", path) : L;
  s.augment = read_number_attribute(g, "augment", path) != 0;
  s.whiten = read_number_attribute(g, "whiten", path) != 0;
  s.centre = read_string_attribute(g, "centre");
  s.reference_lattice = read_string_attribute(g, "reference_lattice");
  // Files from before the equivariant flow have no @torus: the paper's preprocessing.
  s.torus = H5Aexists(g, "torus") > 0 && read_number_attribute(g, "torus", path) != 0;
  H5Gclose(g);
  Preprocessor pre(s, n, D, L, Lb);
  const int m = pre.latent_dim();
  auto centres = read_all<double>(f.id, "/preprocess/wrap_centres", H5T_NATIVE_DOUBLE, path);
  auto mean = read_all<double>(f.id, "/preprocess/pca_mean", H5T_NATIVE_DOUBLE, path);
  auto comps = read_all<double>(f.id, "/preprocess/pca_components", H5T_NATIVE_DOUBLE, path);
  auto lambda = read_all<double>(f.id, "/preprocess/pca_eigenvalues", H5T_NATIVE_DOUBLE, path);
  if (static_cast<int>(centres.size()) != m || static_cast<int>(mean.size()) != m ||
      static_cast<int>(comps.size()) != m * m || static_cast<int>(lambda.size()) != m)
    throw io_error(path + ": /preprocess datasets do not match n_particles = " + std::to_string(n) + " and dimension = " +
                   std::to_string(D) + ": expected " + std::to_string(m) + " wrap-centre and mean values and " +
                   std::to_string(m) + "² components, found " + std::to_string(centres.size()) + ", " +
                   std::to_string(mean.size()) + " and " + std::to_string(comps.size()));
  const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> v =
      Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(comps.data(), m, m);
  pre.set_state(std::move(centres), Pca(Eigen::Map<const Eigen::VectorXd>(mean.data(), m), v,
                                        Eigen::Map<const Eigen::VectorXd>(lambda.data(), m), s.whiten));
  return pre;
}

Model load_flow(const std::string& path) {
  Preprocessor pre = load_preprocessor(path);
  const H5File f = H5File::open(path);
  if (!exists(f.id, "/flow/parameters")) throw io_error(path + ": not a trained model (no /flow group; run `boltzmap train`)");
  std::unique_ptr<Flow<float>> flow;
  hid_t g = H5Gopen2(f.id, "flow", H5P_DEFAULT);
  try {
    // Files from before the equivariant flow have no @kind: a real-NVP.
    const std::string kind = H5Aexists(g, "kind") > 0 ? read_string_attribute(g, "kind") : "realnvp";
    const auto integer = [&](const char* name) { return static_cast<int>(read_number_attribute(g, name, path)); };
    if (kind == "realnvp") {
      if (pre.settings().torus) throw io_error(path + ": a real-NVP on a torus preprocessing (the file is inconsistent)");
      FlowShape shape;
      shape.dim = integer("dim");
      shape.blocks = integer("blocks");
      shape.hidden.clear();
      for (double h : read_numbers_attribute(g, "hidden", path)) shape.hidden.push_back(static_cast<int>(h));
      shape.scale_bound = read_number_attribute(g, "scale_bound", path);
      if (shape.dim != pre.latent_dim())
        throw io_error(path + ": the flow's dim " + std::to_string(shape.dim) + " differs from the preprocessing's " +
                       std::to_string(pre.latent_dim()));
      flow = std::make_unique<RealNvp<float>>(shape, 0);
    } else if (kind == "equivariant") {
      if (!pre.settings().torus)
        throw io_error(path + ": an equivariant flow on a relabelling/PCA preprocessing (the file is inconsistent)");
      EquivariantFlowShape shape;
      shape.particles = integer("particles");
      shape.dim = integer("dimension");
      shape.layers = integer("layers");
      shape.bins = integer("bins");
      shape.frequencies = integer("frequencies");
      shape.hidden = integer("width");
      shape.shift = integer("shift") != 0;
      shape.length = read_number_attribute(g, "length", path);
      shape.min_bin = read_number_attribute(g, "min_bin", path);
      shape.min_derivative = read_number_attribute(g, "min_derivative", path);
      if (shape.particles != pre.n_particles() - 1 || shape.dim != pre.dim() || shape.length != pre.box_length())
        throw io_error(path + ": the flow's " + std::to_string(shape.particles) + " particles in " +
                       std::to_string(shape.dim) + "D, box " + std::to_string(shape.length) +
                       ", do not fit the preprocessing's " + std::to_string(pre.n_particles() - 1) + " in " +
                       std::to_string(pre.dim()) + "D, box " + std::to_string(pre.box_length()));
      flow = std::make_unique<EquivariantFlow<float>>(shape, 0);
    } else {
      throw io_error(path + ": /flow @kind = \"" + kind + "\": expected \"realnvp\" or \"equivariant\"");
    }
  } catch (const Error& err) {
    H5Gclose(g);  // a missing attribute: close the group before the error leaves
    if (err.code() == ExitCode::io) throw;
    throw io_error(path + ": /flow: " + err.what());  // an invalid shape
  }
  H5Gclose(g);
  const auto params = read_all<float>(f.id, "/flow/parameters", H5T_NATIVE_FLOAT, path);
  if (params.size() != flow->parameter_count())
    throw io_error(path + ": /flow/parameters has " + std::to_string(params.size()) + " values, the shape needs " +
                   std::to_string(flow->parameter_count()));
  std::copy(params.begin(), params.end(), flow->parameters().begin());
  return Model{std::move(pre), std::move(flow)};
}

}  // namespace boltzmap
