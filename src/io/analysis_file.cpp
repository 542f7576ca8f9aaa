// See analysis_file.hpp.
#include "io/analysis_file.hpp"

#include "io/files.hpp"
#include "io/h5util.hpp"
#include "version.hpp"

namespace boltzmap {

namespace {

void scalar(hid_t g, const char* name, double v) { numeric_attribute<double>(g, name, H5T_NATIVE_DOUBLE, std::span<const double>(&v, 1)); }

void vector(hid_t g, const char* name, std::span<const double> v) {
  write_dataset(g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, {static_cast<hsize_t>(v.size())}, v.data());
}

// A per-replicate series with its value and bootstrap error as attributes.
void series(hid_t g, const char* name, const std::vector<double>& v) {
  hid_t d = make_dataset(g, name, H5T_IEEE_F64LE, {static_cast<hsize_t>(v.size())});
  H5_CHECK(H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()));
  const Estimate e = summarise(v);
  scalar(d, "value", e.value);
  scalar(d, "error", e.error);
  scalar(d, "finite_replicates", e.finite);
  H5_CHECK(H5Dclose(d));
}

// Per-bin value (row 0) and bootstrap error of a [R + 1][bins] table.
std::pair<std::vector<double>, std::vector<double>> binwise(const std::vector<double>& table, int bins, int R1) {
  std::vector<double> value(bins), error(bins), column(R1);
  for (int b = 0; b < bins; ++b) {
    for (int r = 0; r < R1; ++r) column[r] = table[static_cast<std::size_t>(r) * bins + b];
    const Estimate e = summarise(column);
    value[b] = e.value;
    error[b] = e.error;
  }
  return {value, error};
}

void write_set(hid_t parent, const char* name, const SetStatistics& s, int R1) {
  hid_t g = make_group(parent, name);
  auto [h, he] = binwise(s.energy_histogram, s.energy_bins, R1);
  vector(g, "energy_histogram", h);
  vector(g, "energy_histogram_err", he);
  auto [r, re] = binwise(s.rdf, s.rdf_bins, R1);
  vector(g, "rdf", r);
  vector(g, "rdf_err", re);
  auto both = [&](const char* key, const std::vector<double>& v) {
    const Estimate e = summarise(v);
    scalar(g, key, e.value);
    scalar(g, (std::string(key) + "_err").c_str(), e.error);
  };
  both("mean_energy", s.mean_energy);
  both("ess", s.ess);
  both("ess_fraction", s.ess_fraction);
  both("inside_fraction", s.inside_fraction);
  both("outside_weight_fraction", s.outside_weight_fraction);
  scalar(g, "n", s.n);
  H5_CHECK(H5Gclose(g));
}

std::vector<double> edges(const Bins& b) {
  std::vector<double> e(b.count + 1);
  for (int i = 0; i <= b.count; ++i) e[i] = b.lo + i * b.width();
  return e;
}

}  // namespace

void write_analysis(const std::string& path, const AnalysisResult& res, const AnalysisFileMeta& meta) {
  const int R1 = res.replicates + 1;
  {
    H5File f = H5File::create(partial_name(path));
    string_attribute(f.id, "boltzmap_input", meta.resolved_input);
    string_attribute(f.id, "boltzmap_version", build::version);
    string_attribute(f.id, "bootstrap_scheme", meta.scheme);
    scalar(f.id, "bootstrap_replicates", res.replicates);
    scalar(f.id, "n_particles", meta.n_particles);
    scalar(f.id, "dimension", meta.dimension);
    scalar(f.id, "box_length", meta.box_length);
    for (Direction d : {Direction::a_to_b, Direction::b_to_a}) {
      const DirectionResult& dr = res.direction(d);
      hid_t g = make_group(f.id, direction_name(d));
      string_attribute(g, "source", d == Direction::a_to_b ? "A" : "B");
      string_attribute(g, "target", d == Direction::a_to_b ? "B" : "A");
      scalar(g, "n_source", dr.raw.n);
      scalar(g, "n_reference", dr.reference.n);
      vector(g, "energy_bin_edges", edges(dr.energy_bins));
      vector(g, "r_bin_edges", edges(dr.r_bins));
      std::vector<double> centres(dr.r_bins.count);
      for (int b = 0; b < dr.r_bins.count; ++b) centres[b] = dr.r_bins.centre(b);
      vector(g, "r_bin_centres", centres);
      series(g, "delta_f", dr.delta_f);
      series(g, "delta_f_uncorrected", dr.delta_f_uncorrected);
      series(g, "delta_f_identity", dr.delta_f_identity);
      series(g, "coverage", dr.reweighted.inside_fraction);
      write_set(g, "reference", dr.reference, R1);
      write_set(g, "reference_covered", dr.reference_covered, R1);
      write_set(g, "untransformed", dr.untransformed, R1);
      write_set(g, "raw", dr.raw, R1);
      write_set(g, "reweighted", dr.reweighted, R1);
      write_set(g, "identity", dr.identity, R1);
      H5_CHECK(H5Gclose(g));
    }
    hid_t fe = make_group(f.id, "free_energy");
    series(fe, "delta_f_bar", res.delta_f_bar);
    series(fe, "delta_f_bar_identity", res.delta_f_bar_identity);
    H5_CHECK(H5Gclose(fe));
    f.close();
  }
  commit_partial(path);
}

}  // namespace boltzmap
