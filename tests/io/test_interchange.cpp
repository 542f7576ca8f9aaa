// Export and import formats (src/io/gsd.hpp, xyz.hpp, lammps.hpp, import_set.hpp): each format's
// round trip — write, read back — gives the same positions (GSD: within the float32 rounding of its
// shift to a centred box; the text formats: exactly, as %.9g prints a float32 exactly), box, steps
// and per-frame data (exactly: float64 in GSD, %.17g in XYZ), in 2D and 3D; GSD's centred box keeps
// a coordinate just below L inside [−L/2, L/2); an imported trajectory gets boltzmap's energies and
// coordinates wrapped into [0, L), and a wrong N, box, dimension, a non-planar 2D frame or an overlap
// is refused with exit 4 naming the file and the frame. Python's readers of the same files:
// tests/app/export_import.sh.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <string>

#include "core/error.hpp"
#include "io/files.hpp"
#include "io/gsd.hpp"
#include "io/import_set.hpp"
#include "io/lammps.hpp"
#include "io/trajectory.hpp"
#include "io/xyz.hpp"
#include "physics/energy.hpp"
#include "physics/experiment_physics.hpp"
#include "physics/lattice.hpp"
#include "support/configs.hpp"

namespace boltzmap {
namespace {

namespace fs = std::filesystem;

std::string fresh(const std::string& name) {
  const char* env = std::getenv("BOLTZMAP_TEST_TMP");
  fs::path dir = env && *env ? env : "/tmp/boltzmap_test_tmp";
  dir /= "interchange";
  fs::create_directories(dir);
  const std::string p = (dir / name).string();
  fs::remove(p);
  return p;
}

// Three frames of N particles at pseudo-random places in [0, L) (z = 0 in 2D), with an energy,
// a log-weight (one of them −∞, a zero weight) and a flag as per-frame data.
Trajectory sample_trajectory(int D, int N = 5, double L = 3.3806170189140663) {
  Trajectory t;
  t.particles = N;
  t.dimension = D;
  t.species = "B";
  for (int k = 0; k < 3; ++k) {
    t.box.push_back({L, L, D == 2 ? 0.0 : L});
    t.steps.push_back(100 * k + 7);
    for (int i = 0; i < N; ++i)
      for (int a = 0; a < 3; ++a)
        t.positions.push_back(a == 2 && D == 2 ? 0.0f : static_cast<float>(std::fmod(0.7548776662 * (k * 97 + i * 3 + a) + 0.1, 1.0) * L));
  }
  t.data.emplace_back("potential_energy", std::vector<double>{-12.345678901234567, -1e-300, 3.25});
  t.data.emplace_back("log_weight", std::vector<double>{0.1, -std::numeric_limits<double>::infinity(), -7.5e-3});
  t.data.emplace_back("in_domain", std::vector<double>{1, 0, 1});
  return t;
}

// Positions agree to `tol` per coordinate (x, y; z too in 3D); the rest exactly.
void expect_same(const Trajectory& a, const Trajectory& b, double tol, bool data = true) {
  ASSERT_EQ(b.particles, a.particles);
  ASSERT_EQ(b.frames(), a.frames());
  ASSERT_EQ(b.positions.size(), a.positions.size());
  EXPECT_EQ(b.steps, a.steps);
  for (std::size_t k = 0; k < a.box.size(); ++k)
    for (int d = 0; d < a.dimension; ++d)
      EXPECT_NEAR(b.box[k][d], a.box[k][d], 1e-6 * a.box[k][d]) << "frame " << k << " axis " << d;  // GSD: float32 box
  for (std::size_t i = 0; i < a.positions.size(); ++i) {
    if (a.dimension == 2 && i % 3 == 2) continue;
    EXPECT_NEAR(b.positions[i], a.positions[i], tol) << "coordinate " << i;
  }
  if (!data) return;
  ASSERT_EQ(b.data.size(), a.data.size());
  for (std::size_t j = 0; j < a.data.size(); ++j) {
    EXPECT_EQ(b.data[j].first, a.data[j].first);
    EXPECT_EQ(b.data[j].second, a.data[j].second) << a.data[j].first;
  }
}

TEST(Interchange, GsdRoundTrip2DAnd3D) {
  for (int D : {2, 3}) {
    const Trajectory t = sample_trajectory(D);
    const std::string p = fresh("t" + std::to_string(D) + ".gsd");
    write_gsd(p, t, "boltzmap test");
    EXPECT_FALSE(fs::exists(partial_name(p)));
    const Trajectory r = read_gsd(p);
    EXPECT_EQ(r.dimension, D);
    EXPECT_EQ(r.species, "B");
    // x → x − L/2 → + L/2, each rounded to float32: at most two roundings of a number below L.
    expect_same(t, r, 2 * std::numeric_limits<float>::epsilon() * t.box[0][0]);
    if (D == 2) {
      EXPECT_EQ(r.box[0][2], 0.0);
    }
  }
}

TEST(Interchange, GsdCentredBoxKeepsTheTopEdgeInside) {
  Trajectory t = sample_trajectory(2, 1);
  const float L = static_cast<float>(t.box[0][0]);
  t.positions[0] = std::nextafter(L, 0.0f);  // just below L: x − L/2 rounds to L/2 in float
  const std::string p = fresh("edge.gsd");
  write_gsd(p, t, "boltzmap test");
  // Read the raw centred coordinate back: frame 0's x + L/2 must be a point of [0, L] modulo L.
  const Trajectory r = read_gsd(p);
  const double x = r.positions[0];
  EXPECT_TRUE(std::abs(x - L) < 1e-5 || std::abs(x) < 1e-5) << x;
}

TEST(Interchange, XyzRoundTrip2DAnd3D) {
  for (int D : {2, 3}) {
    const Trajectory t = sample_trajectory(D);
    const std::string p = fresh("t" + std::to_string(D) + ".xyz");
    write_xyz(p, t);
    const Trajectory r = read_xyz(p);
    EXPECT_EQ(r.dimension, D);  // from pbc
    EXPECT_EQ(r.species, "B");
    expect_same(t, r, 0.0);
  }
  EXPECT_NE(xyz_text(sample_trajectory(2)).find("pbc=\"T T F\""), std::string::npos);
  EXPECT_NE(xyz_text(sample_trajectory(2)).find(" energy=-12.345678901234567 "), std::string::npos);
}

TEST(Interchange, LammpsDumpAndDataRoundTrip) {
  for (int D : {2, 3}) {
    const Trajectory t = sample_trajectory(D);
    const std::string dump = fresh("t" + std::to_string(D) + ".dump");
    write_lammps_dump(dump, t);
    const Trajectory r = read_lammps_dump(dump);
    EXPECT_EQ(r.dimension, 0);  // a dump does not say
    expect_same(t, r, 0.0, false);
    const std::string data = fresh("t" + std::to_string(D) + ".data");
    write_lammps_data(data, t, 1, "a title");
    const Trajectory d = read_lammps_data(data);
    ASSERT_EQ(d.frames(), 1);
    ASSERT_EQ(d.particles, t.particles);
    for (int i = 0; i < t.particles * 3; ++i) {
      if (D == 2 && i % 3 == 2) {
        EXPECT_EQ(d.positions[i], 0.5f);  // z = 0 in a slab −0.5 … 0.5, from its lower face
        continue;
      }
      EXPECT_EQ(d.positions[i], t.positions[t.particles * 3 + i]) << i;
    }
  }
}

TEST(Interchange, DumpColumnsInAnyOrderScaledAndUnsorted) {
  const std::string p = fresh("scaled.dump");
  write_text_atomic(p, "ITEM: TIMESTEP\n5\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n-1 1\n-1 1\n-0.5 0.5\n"
                       "ITEM: ATOMS type ys xs id\n1 0.25 0.5 2\n1 0.75 0.125 1\n");
  const Trajectory t = read_lammps_dump(p);
  ASSERT_EQ(t.particles, 2);
  EXPECT_EQ(t.steps[0], 5);
  EXPECT_FLOAT_EQ(t.positions[0], 0.25f);  // id 1: xs 0.125 of 2
  EXPECT_FLOAT_EQ(t.positions[1], 1.5f);
  EXPECT_FLOAT_EQ(t.positions[3], 1.0f);  // id 2
  EXPECT_FLOAT_EQ(t.positions[4], 0.5f);
}

Experiment tiny() { return parse_experiment(test::kTinySystems, "tiny.toml"); }

// A trajectory of system A of tiny(): its lattice, shifted by −L/2 (as from a centred box).
Trajectory lattice_trajectory(const Experiment& e) {
  const int N = e.box.n_particles, D = e.box.dimension;
  const System s = physical_system(e.system('A'), D, N);
  const std::vector<float> x = make_lattice(e.box.lattice, D, N, s.box.length);
  Trajectory t;
  t.particles = N;
  t.dimension = D;
  t.box.push_back({s.box.length, s.box.length, 0.0});
  t.steps.push_back(0);
  for (int i = 0; i < N; ++i)
    for (int a = 0; a < 3; ++a) t.positions.push_back(a < D ? static_cast<float>(x[i * D + a] - 0.5 * s.box.length) : 0.0f);
  return t;
}

std::string refusal(const Trajectory& t, const Experiment& e) {
  try {
    imported_frames(t, "other.gsd", e, 'A');
  } catch (const Error& err) {
    EXPECT_EQ(err.code(), ExitCode::io) << err.what();
    return err.what();
  }
  return "";
}

TEST(Interchange, ImportWrapsAndRecomputesEnergies) {
  const Experiment e = tiny();
  ASSERT_EQ(e.box.dimension, 2);
  const Trajectory t = lattice_trajectory(e);
  const Frames f = imported_frames(t, "other.gsd", e, 'A');
  const System s = physical_system(e.system('A'), 2, e.box.n_particles);
  const std::vector<float> x = make_lattice(e.box.lattice, 2, e.box.n_particles, s.box.length);
  ASSERT_EQ(f.positions.size(), x.size());
  for (float v : f.positions) EXPECT_TRUE(v >= 0.0f && v < static_cast<float>(s.box.length)) << v;
  // The energy of the configuration imported, exactly; and that of the lattice it came from (a periodic
  // image), up to the float32 roundings of the shift by ∓L/2 (~1e-7·L per coordinate; |dU/dx| is O(10)).
  EXPECT_EQ(f.energies[0], total_energy(s, std::span<const float>(f.positions)));
  EXPECT_NEAR(f.energies[0], total_energy(s, std::span<const float>(x)), 1e-5 * std::abs(f.energies[0]));
}

TEST(Interchange, ImportRefusesWhatDoesNotFit) {
  const Experiment e = tiny();
  const Trajectory good = lattice_trajectory(e);
  EXPECT_EQ(refusal(good, e), "");
  Trajectory n = good;
  n.particles = 7;
  n.positions.resize(7 * 3);
  EXPECT_NE(refusal(n, e).find("other.gsd: frame 0 has 7 particles; system A of tiny.toml"), std::string::npos) << refusal(n, e);
  Trajectory box = good;
  box.box[0][1] *= 1.001;
  EXPECT_NE(refusal(box, e).find("other.gsd: frame 0: box Ly = "), std::string::npos) << refusal(box, e);
  Trajectory dim = good;
  dim.dimension = 3;
  EXPECT_NE(refusal(dim, e).find("a 3D file"), std::string::npos) << refusal(dim, e);
  Trajectory plane = good;
  plane.positions[3 * 3 + 2] = 0.25f;
  EXPECT_NE(refusal(plane, e).find("frame 0, particle 3: z = 0.25"), std::string::npos) << refusal(plane, e);
  Trajectory overlap = good;
  overlap.positions[3] = overlap.positions[0] + 0.1f;
  overlap.positions[4] = overlap.positions[1];
  EXPECT_NE(refusal(overlap, e).find("frame 0: two particles 0.1 apart"), std::string::npos) << refusal(overlap, e);
  Trajectory nan = good;
  nan.positions[4] = std::nanf("");
  EXPECT_NE(refusal(nan, e).find("frame 0, particle 1: coordinate y = nan is not finite"), std::string::npos) << refusal(nan, e);
}

}  // namespace
}  // namespace boltzmap
