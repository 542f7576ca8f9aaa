// See xyz.hpp.
#include "io/xyz.hpp"

#include <cmath>
#include <map>
#include <sstream>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/files.hpp"

namespace boltzmap {

namespace {

std::string number(double v) {
  if (std::isinf(v)) return v < 0 ? "-inf" : "inf";
  if (std::isnan(v)) return "nan";
  return fmt::format("{:.17g}", v);
}

// key=value and key="quoted value" pairs of a comment line, in their order.
std::vector<std::pair<std::string, std::string>> parse_comment(const std::string& line, const std::string& where) {
  std::vector<std::pair<std::string, std::string>> kv;
  std::size_t i = 0;
  const std::size_t n = line.size();
  while (i < n) {
    while (i < n && std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    if (i >= n) break;
    const std::size_t k0 = i;
    while (i < n && line[i] != '=' && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
    std::string key = line.substr(k0, i - k0), value = "T";  // a bare key is a true flag (ASE)
    if (i < n && line[i] == '=') {
      ++i;
      if (i < n && (line[i] == '"' || line[i] == '\'')) {
        const char q = line[i++];
        const std::size_t end = line.find(q, i);
        if (end == std::string::npos) throw io_error(where + ": unterminated quote in the comment line");
        value = line.substr(i, end - i);
        i = end + 1;
      } else {
        const std::size_t v0 = i;
        while (i < n && !std::isspace(static_cast<unsigned char>(line[i]))) ++i;
        value = line.substr(v0, i - v0);
      }
    }
    kv.emplace_back(key, value);
  }
  return kv;
}

std::vector<double> numbers(const std::string& s, const std::string& where, const std::string& key) {
  std::istringstream in(s);
  std::vector<double> v;
  std::string w;
  while (in >> w) {
    try {
      std::size_t used = 0;
      v.push_back(std::stod(w, &used));
      if (used != w.size()) throw std::invalid_argument(w);
    } catch (const std::exception&) {
      throw io_error(fmt::format("{}: {}=\"{}\": '{}' is not a number", where, key, s, w));
    }
  }
  return v;
}

}  // namespace

std::string xyz_text(const Trajectory& t) {
  const std::size_t N = static_cast<std::size_t>(t.particles);
  const bool two_d = t.dimension == 2;
  std::string out;
  for (std::int64_t k = 0; k < t.frames(); ++k) {
    const auto f = static_cast<std::size_t>(k);
    const auto& b = t.box[f];
    out += fmt::format("{}\nLattice=\"{} 0 0 0 {} 0 0 0 {}\" Properties=species:S:1:pos:R:3", N, number(b[0]), number(b[1]),
                       two_d ? "1" : number(b[2]));
    for (const auto& [name, values] : t.data)
      out += fmt::format(" {}={}", name == "potential_energy" ? "energy" : name, number(values[f]));
    out += fmt::format(" step={} system={} pbc=\"T T {}\"\n", t.steps[f], t.species, two_d ? "F" : "T");
    for (std::size_t i = 0; i < N; ++i) {
      const float* x = &t.positions[(f * N + i) * 3];
      out += fmt::format("X {:.9g} {:.9g} {:.9g}\n", x[0], x[1], x[2]);
    }
  }
  return out;
}

void write_xyz(const std::string& path, const Trajectory& t) { write_text_atomic(path, xyz_text(t)); }

Trajectory read_xyz(const std::string& path) {
  std::istringstream in(read_text(path));
  Trajectory t;
  std::string line;
  std::int64_t frame = 0, lineno = 0;
  std::vector<std::string> keys;  // the data keys, in frame 0's order
  while (std::getline(in, line)) {
    ++lineno;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;  // blank lines between frames
    const std::string where = fmt::format("{}: frame {} (line {})", path, frame, lineno);
    long n = -1;
    try {
      std::size_t used = 0;
      n = std::stol(line, &used);
      if (line.find_first_not_of(" \t\r", used) != std::string::npos) n = -1;
    } catch (const std::exception&) {
    }
    if (n < 0) throw io_error(where + ": expected the number of atoms, found '" + line + "'");
    if (frame == 0) t.particles = static_cast<int>(n);
    else if (n != t.particles)
      throw io_error(fmt::format("{}: has {} atoms, frame 0 has {} (a set needs the same N in every frame)", where, n, t.particles));
    if (!std::getline(in, line)) throw io_error(where + ": the file ends before the comment line");
    ++lineno;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto pairs = parse_comment(line, where);
    const std::map<std::string, std::string> kv(pairs.begin(), pairs.end());
    if (!kv.count("Lattice")) throw io_error(where + ": no Lattice=\"...\" in the comment line (the box is needed)");
    const auto lat = numbers(kv.at("Lattice"), where, "Lattice");
    if (lat.size() != 9) throw io_error(fmt::format("{}: Lattice has {} numbers, not 9", where, lat.size()));
    for (int r = 0; r < 3; ++r)
      for (int c = 0; c < 3; ++c)
        if (r != c && lat[static_cast<std::size_t>(3 * r + c)] != 0)
          throw io_error(where + ": a non-orthogonal Lattice (\"" + kv.at("Lattice") + "\"); boltzmap's boxes are cubic");
    int dims = 0;
    if (kv.count("pbc")) {
      std::string p;
      for (char c : kv.at("pbc"))
        if (!std::isspace(static_cast<unsigned char>(c))) p += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      dims = p == "TTT" ? 3 : p == "TTF" ? 2 : 0;
    }
    if (frame == 0) t.dimension = dims;
    t.box.push_back({lat[0], lat[4], dims == 2 ? 0.0 : lat[8]});
    std::vector<double> origin = {0, 0, 0};
    if (kv.count("Origin")) origin = numbers(kv.at("Origin"), where, "Origin");
    if (origin.size() != 3) throw io_error(where + ": Origin needs 3 numbers");
    // Columns: species:S:1 and pos:R:3 among others.
    const std::string props = kv.count("Properties") ? kv.at("Properties") : "species:S:1:pos:R:3";
    std::vector<std::string> f;
    {
      std::string cur;
      for (char c : props + ":") {
        if (c == ':') f.push_back(cur), cur.clear();
        else cur += c;
      }
    }
    int col = 0, species_col = -1, pos_col = -1, columns = 0;
    for (std::size_t i = 0; i + 2 < f.size(); i += 3) {
      const int width = std::atoi(f[i + 2].c_str());
      if (f[i] == "species") species_col = col;
      if (f[i] == "pos" && width == 3) pos_col = col;
      col += width;
    }
    columns = col;
    if (pos_col < 0) throw io_error(where + ": Properties=" + props + " has no pos:R:3");
    for (long i = 0; i < n; ++i) {
      if (!std::getline(in, line)) throw io_error(fmt::format("{}: the file ends after {} of {} atom lines", where, i, n));
      ++lineno;
      std::istringstream row(line);
      std::vector<std::string> w;
      std::string s;
      while (row >> s) w.push_back(s);
      if (static_cast<int>(w.size()) < columns)
        throw io_error(fmt::format("{}: line {} has {} columns, Properties needs {}", where, lineno, w.size(), columns));
      if (frame == 0 && i == 0 && species_col >= 0) t.species = kv.count("system") ? kv.at("system") : w[static_cast<std::size_t>(species_col)];
      for (int a = 0; a < 3; ++a) {
        double x = 0;
        try {
          x = std::stod(w[static_cast<std::size_t>(pos_col + a)]);
        } catch (const std::exception&) {
          throw io_error(fmt::format("{}: line {}: '{}' is not a coordinate", where, lineno, w[static_cast<std::size_t>(pos_col + a)]));
        }
        t.positions.push_back(static_cast<float>(x - origin[static_cast<std::size_t>(a)]));
      }
    }
    t.steps.push_back(kv.count("step") ? std::stoll(kv.at("step")) : frame);
    // Per-frame numbers: frame 0's keys other than the reserved ones.
    if (frame == 0)
      for (const auto& [k, v] : pairs)
        if (k != "Lattice" && k != "Properties" && k != "pbc" && k != "Origin" && k != "step" && k != "system") {
          keys.push_back(k);
          t.data.emplace_back(k == "energy" ? "potential_energy" : k, std::vector<double>{});
        }
    for (std::size_t j = 0; j < keys.size(); ++j) {
      const auto it = kv.find(keys[j]);
      double v = std::nan("");
      if (it != kv.end()) try {
          v = std::stod(it->second);
        } catch (const std::exception&) {
        }
      t.data[j].second.push_back(v);
    }
    ++frame;
  }
  return t;
}

}  // namespace boltzmap
