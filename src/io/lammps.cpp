// See lammps.hpp.
#include "io/lammps.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/files.hpp"

namespace boltzmap {

namespace {

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> w;
  std::string s;
  while (in >> s) w.push_back(s);
  return w;
}

double to_double(const std::string& s, const std::string& where) {
  try {
    std::size_t used = 0;
    const double v = std::stod(s, &used);
    if (used == s.size()) return v;
  } catch (const std::exception&) {
  }
  throw io_error(where + ": '" + s + "' is not a number");
}

std::string bounds(double lo, double hi, const char* axis) { return fmt::format("{:.17g} {:.17g} {}lo {}hi\n", lo, hi, axis, axis); }

}  // namespace

void write_lammps_data(const std::string& path, const Trajectory& t, std::int64_t frame, const std::string& title) {
  if (frame < 0 || frame >= t.frames())
    throw input_error(fmt::format("{}: frame {} asked for, the source has {} frames", path, frame, t.frames()));
  const auto f = static_cast<std::size_t>(frame);
  const std::size_t N = static_cast<std::size_t>(t.particles);
  const auto& b = t.box[f];
  std::string out = title;
  out.erase(std::remove(out.begin(), out.end(), '\n'), out.end());
  out += "\n\n";
  out += fmt::format("{} atoms\n1 atom types\n\n", N);
  out += bounds(0, b[0], "x") + bounds(0, b[1], "y");
  out += t.dimension == 2 ? bounds(-0.5, 0.5, "z") : bounds(0, b[2], "z");
  out += "\nMasses\n\n1 1.0\n\nAtoms # atomic\n\n";
  for (std::size_t i = 0; i < N; ++i) {
    const float* x = &t.positions[(f * N + i) * 3];
    out += fmt::format("{} 1 {:.9g} {:.9g} {:.9g}\n", i + 1, x[0], x[1], x[2]);
  }
  write_text_atomic(path, out);
}

Trajectory read_lammps_data(const std::string& path) {
  std::istringstream in(read_text(path));
  std::string line;
  std::getline(in, line);  // the title
  Trajectory t;
  double lo[3] = {0, 0, 0}, hi[3] = {1, 1, 1};
  long n = -1;
  std::vector<std::pair<long, std::array<float, 3>>> rows;
  while (std::getline(in, line)) {
    const auto hash = line.find('#');
    const std::string body = hash == std::string::npos ? line : line.substr(0, hash);
    const auto w = words(body);
    if (w.empty()) continue;
    if (w.size() == 2 && w[1] == "atoms") n = std::stol(w[0]);
    else if (w.size() == 4 && (w[2] == "xlo" || w[2] == "ylo" || w[2] == "zlo")) {
      const int a = w[2][0] - 'x';
      lo[a] = to_double(w[0], path);
      hi[a] = to_double(w[1], path);
    } else if (w.size() == 6 && w[3] == "xy") {
      if (to_double(w[0], path) != 0 || to_double(w[1], path) != 0 || to_double(w[2], path) != 0)
        throw io_error(path + ": a tilted box (xy xz yz); boltzmap's boxes are cubic");
    } else if (w[0] == "Atoms") {
      if (hash != std::string::npos && line.find("atomic", hash) == std::string::npos)
        throw io_error(path + ": Atoms section of style '" + line.substr(hash + 1) + "'; this reader takes 'atomic' (id type x y z)");
      if (n < 0) throw io_error(path + ": Atoms section before the 'N atoms' line");
      while (static_cast<long>(rows.size()) < n && std::getline(in, line)) {
        const auto r = words(line);
        if (r.empty()) continue;
        if (r.size() < 5) throw io_error(fmt::format("{}: Atoms row '{}' is not 'id type x y z'", path, line));
        rows.push_back({std::stol(r[0]), {static_cast<float>(to_double(r[2], path) - lo[0]),
                                          static_cast<float>(to_double(r[3], path) - lo[1]),
                                          static_cast<float>(to_double(r[4], path) - lo[2])}});
      }
      if (static_cast<long>(rows.size()) < n)
        throw io_error(fmt::format("{}: {} of {} Atoms rows (truncated?)", path, rows.size(), n));
    }
  }
  if (n < 0 || static_cast<long>(rows.size()) != n) throw io_error(path + ": no Atoms section of 'N atoms' rows");
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  t.particles = static_cast<int>(n);
  t.box.push_back({hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]});
  t.steps.push_back(0);
  for (const auto& r : rows) t.positions.insert(t.positions.end(), r.second.begin(), r.second.end());
  return t;
}

void write_lammps_dump(const std::string& path, const Trajectory& t) {
  const std::size_t N = static_cast<std::size_t>(t.particles);
  std::string out;
  for (std::int64_t k = 0; k < t.frames(); ++k) {
    const auto f = static_cast<std::size_t>(k);
    const auto& b = t.box[f];
    out += fmt::format("ITEM: TIMESTEP\n{}\nITEM: NUMBER OF ATOMS\n{}\nITEM: BOX BOUNDS pp pp pp\n", t.steps[f], N);
    out += fmt::format("0 {:.17g}\n0 {:.17g}\n", b[0], b[1]);
    out += t.dimension == 2 ? "-0.5 0.5\n" : fmt::format("0 {:.17g}\n", b[2]);
    out += "ITEM: ATOMS id type x y z\n";
    for (std::size_t i = 0; i < N; ++i) {
      const float* x = &t.positions[(f * N + i) * 3];
      out += fmt::format("{} 1 {:.9g} {:.9g} {:.9g}\n", i + 1, x[0], x[1], x[2]);
    }
  }
  write_text_atomic(path, out);
}

Trajectory read_lammps_dump(const std::string& path) {
  std::istringstream in(read_text(path));
  Trajectory t;
  std::string line;
  std::int64_t frame = 0, lineno = 0;
  auto next = [&](const std::string& what) {
    if (!std::getline(in, line)) throw io_error(fmt::format("{}: frame {}: the file ends before {}", path, frame, what));
    ++lineno;
    return line;
  };
  while (std::getline(in, line)) {
    ++lineno;
    if (words(line).empty()) continue;
    const std::string where = fmt::format("{}: frame {} (line {})", path, frame, lineno);
    if (line.rfind("ITEM: TIMESTEP", 0) != 0) throw io_error(where + ": expected 'ITEM: TIMESTEP', found '" + line + "'");
    t.steps.push_back(static_cast<std::int64_t>(to_double(words(next("the timestep")).at(0), where)));
    if (next("NUMBER OF ATOMS").rfind("ITEM: NUMBER OF ATOMS", 0) != 0) throw io_error(where + ": expected 'ITEM: NUMBER OF ATOMS'");
    const long n = static_cast<long>(to_double(words(next("the number of atoms")).at(0), where));
    if (frame == 0) t.particles = static_cast<int>(n);
    else if (n != t.particles)
      throw io_error(fmt::format("{}: has {} atoms, frame 0 has {} (a set needs the same N in every frame)", where, n, t.particles));
    const auto box_words = words(next("BOX BOUNDS"));
    if (line.rfind("ITEM: BOX BOUNDS", 0) != 0) throw io_error(where + ": expected 'ITEM: BOX BOUNDS'");
    if (std::find(box_words.begin(), box_words.end(), "xy") != box_words.end())
      throw io_error(where + ": a tilted box (BOX BOUNDS xy xz yz); boltzmap's boxes are cubic");
    double lo[3], len[3];
    for (int a = 0; a < 3; ++a) {
      const auto w = words(next("the box bounds"));
      if (w.size() < 2) throw io_error(where + ": box bounds line '" + line + "' is not 'lo hi'");
      lo[a] = to_double(w[0], where);
      len[a] = to_double(w[1], where) - lo[a];
    }
    t.box.push_back({len[0], len[1], len[2]});
    const auto head = words(next("ITEM: ATOMS"));
    if (head.size() < 2 || head[0] != "ITEM:" || head[1] != "ATOMS") throw io_error(where + ": expected 'ITEM: ATOMS ...'");
    const std::vector<std::string> cols(head.begin() + 2, head.end());
    auto col = [&](std::initializer_list<const char*> names) {
      for (const char* c : names) {
        const auto it = std::find(cols.begin(), cols.end(), c);
        if (it != cols.end()) return std::pair<int, bool>{static_cast<int>(it - cols.begin()), c[1] == 's'};
      }
      return std::pair<int, bool>{-1, false};
    };
    const auto id = col({"id"});
    const std::pair<int, bool> x[3] = {col({"x", "xu", "xs", "xsu"}), col({"y", "yu", "ys", "ysu"}), col({"z", "zu", "zs", "zsu"})};
    if (x[0].first < 0 || x[1].first < 0)
      throw io_error(where + ": ITEM: ATOMS has no x/xu/xs and y/yu/ys columns");
    std::vector<std::pair<long, std::array<float, 3>>> rows;
    for (long i = 0; i < n; ++i) {
      const auto w = words(next("the atom rows"));
      if (w.size() < cols.size())
        throw io_error(fmt::format("{}: atom line {} has {} columns, ITEM: ATOMS names {}", where, lineno, w.size(), cols.size()));
      std::array<float, 3> p = {0, 0, 0};
      for (int a = 0; a < 3; ++a) {
        if (x[a].first < 0) continue;  // no z column (2D)
        const double v = to_double(w[static_cast<std::size_t>(x[a].first)], where);
        p[static_cast<std::size_t>(a)] = static_cast<float>(x[a].second ? v * len[a] : v - lo[a]);
      }
      rows.push_back({id.first >= 0 ? std::stol(w[static_cast<std::size_t>(id.first)]) : i + 1, p});
    }
    std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (const auto& r : rows) t.positions.insert(t.positions.end(), r.second.begin(), r.second.end());
    ++frame;
  }
  return t;
}

}  // namespace boltzmap
