// See config.hpp. Structure: a Section walks one TOML table, hands out typed, range-checked
// values and remembers which keys it consumed; finish() rejects the rest as unknown.
#include "core/config.hpp"

#include <algorithm>
#include <charconv>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <sstream>

#include <pwd.h>
#include <unistd.h>

#include <spdlog/spdlog.h>
#include <toml++/toml.h>

#include "core/error.hpp"

namespace boltzmap {

double TrainingPhase::lr_at(std::int64_t epoch_in_phase) const {
  double lr = learning_rate.front().second;
  for (const auto& [first, value] : learning_rate)
    if (epoch_in_phase >= first) lr = value;
  return lr;
}

std::int64_t TrainingSettings::total_epochs() const {
  std::int64_t n = 0;
  for (const auto& p : phases) n += p.epochs;
  return n;
}

namespace {

struct Context {
  std::string origin;
  std::set<std::string> overridden;                // dotted keys set on the command line
  std::map<std::string, std::string> raw_override;  // dotted key -> the text after '=' as typed
};

// Names and keys are checked by hand, not with std::regex: libstdc++'s regex recurses per
// character and overflows the stack on a 100 000-character key.
constexpr std::size_t kMaxKeyLength = 256;   // far longer than any real dotted key
constexpr std::size_t kMaxNameLength = 255;  // NAME_MAX: the name becomes a folder

bool is_key_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_key_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

// [A-Za-z_][A-Za-z0-9_-]* parts joined by '.', at most kMaxKeyLength characters.
bool is_dotted_key(const std::string& key) {
  if (key.empty() || key.size() > kMaxKeyLength) return false;
  bool start = true;
  for (char c : key) {
    if (start) {
      if (!is_key_start(c)) return false;
      start = false;
    } else if (c == '.') {
      start = true;
    } else if (!is_key_char(c)) {
      return false;
    }
  }
  return !start;
}

// [A-Za-z0-9_.-]+, not "." or "..", at most kMaxNameLength characters.
bool is_run_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameLength || name == "." || name == "..") return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_key_char(c) || c == '.'; });
}

// A user's text in a message, cut to a readable length.
std::string shorten(const std::string& s) {
  constexpr std::size_t kShown = 80;
  return s.size() <= kShown ? s : s.substr(0, kShown) + "… (" + std::to_string(s.size()) + " characters)";
}

std::string join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& k : s) out += (out.empty() ? "" : ", ") + k;
  return out;
}

class Section {
 public:
  Section(const toml::table* table, std::string path, const Context& ctx) : t_(table), path_(std::move(path)), ctx_(ctx) {}

  std::string key_path(const std::string& key) const { return path_.empty() ? key : path_ + "." + key; }

  std::string where(const std::string& key) const {
    const std::string kp = key_path(key);
    if (ctx_.overridden.count(kp)) return "--set " + kp;
    const toml::node* n = t_ ? t_->get(key) : nullptr;
    // A table that no file line defines was created by an override of a key below it.
    if (n && n->source().begin.line == 0) {
      const auto below = ctx_.overridden.lower_bound(kp + ".");
      if (below != ctx_.overridden.end() && below->rfind(kp + ".", 0) == 0) return "--set " + *below;
    }
    if (n && n->source().begin.line > 0) return ctx_.origin + ":" + std::to_string(n->source().begin.line);
    if (t_ && t_->source().begin.line > 0) return ctx_.origin + ":" + std::to_string(t_->source().begin.line);
    return ctx_.origin;
  }

  [[noreturn]] void fail(const std::string& key, const std::string& what) const {
    throw input_error(where(key) + ": " + key_path(key) + ": " + what);
  }

  // A required key is absent. If the table holds a key spelt like it ("stepsize" for
  // "step_size"), say so: that is the likely mistake, and finish() would only report it later.
  // (No two keys of one table are this close, so a valid key is never taken for a typo.)
  [[noreturn]] void missing(const std::string& key, const std::string& allowed) const {
    if (t_)
      for (const auto& [k, v] : *t_) {
        const std::string other(k.str());
        if (!allowed_.count(other) && looks_like(other, key))
          throw input_error(where(other) + ": " + key_path(other) + ": unknown key; did you mean " + key +
                            "? (" + key_path(key) + " is required: " + allowed + ")");
      }
    fail(key, "missing (required; " + allowed + ")");
  }

  // Same letters ignoring case, '_' and '-', or at most two single-letter edits apart.
  static bool looks_like(const std::string& a, const std::string& b) {
    auto norm = [](const std::string& s) {
      std::string o;
      for (char c : s)
        if (c != '_' && c != '-') o += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return o;
    };
    const std::string x = norm(a), y = norm(b);
    if (x == y) return true;
    if (y.size() < 4) return false;
    std::vector<size_t> prev(y.size() + 1), cur(y.size() + 1);  // Levenshtein distance
    for (size_t j = 0; j <= y.size(); ++j) prev[j] = j;
    for (size_t i = 1; i <= x.size(); ++i) {
      cur[0] = i;
      for (size_t j = 1; j <= y.size(); ++j)
        cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x[i - 1] == y[j - 1] ? 0 : 1)});
      std::swap(prev, cur);
    }
    return prev[y.size()] <= 2;
  }

  const toml::node* node(const std::string& key) {
    allowed_.insert(key);
    return t_ ? t_->get(key) : nullptr;
  }

  bool has(const std::string& key) { return node(key) != nullptr; }

  double number(const std::string& key, std::optional<double> def, const std::string& allowed) {
    const toml::node* n = node(key);
    if (!n) {
      if (!def) missing(key, allowed);
      return *def;
    }
    double v;
    if (auto i = n->value_exact<std::int64_t>())
      v = static_cast<double>(*i);
    else if (auto f = n->value_exact<double>())
      v = *f;
    else
      fail(key, "expected a number, got " + type_name(*n) + " (" + allowed + ")");
    if (!std::isfinite(v)) fail(key, "= " + fmt_double(v) + ": must be finite (" + allowed + ")");
    return v;
  }

  // Integers; a float that is an exact integer (2.5e4) is accepted.
  std::int64_t integer(const std::string& key, std::optional<std::int64_t> def, std::int64_t lo, std::int64_t hi,
                       const std::string& meaning) {
    const std::string allowed = meaning + ", an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
    const toml::node* n = node(key);
    if (!n) {
      if (!def) missing(key, allowed);
      return *def;
    }
    std::int64_t v = 0;
    if (auto i = n->value_exact<std::int64_t>()) {
      v = *i;
    } else if (auto f = n->value_exact<double>()) {
      if (!(std::isfinite(*f) && *f == std::floor(*f) && std::abs(*f) < 9.0e18))
        fail(key, "= " + fmt_double(*f) + ": expected an integer (" + allowed + ")");
      v = static_cast<std::int64_t>(*f);
    } else {
      fail(key, "expected an integer, got " + type_name(*n) + " (" + allowed + ")");
    }
    if (v < lo || v > hi) fail(key, "= " + std::to_string(v) + ": out of range (" + allowed + ")");
    return v;
  }

  bool boolean(const std::string& key, bool def, const std::string& meaning) {
    const toml::node* n = node(key);
    if (!n) return def;
    auto b = n->value_exact<bool>();
    if (!b) fail(key, "expected true or false, got " + type_name(*n) + " (" + meaning + ")");
    return *b;
  }

  std::string string(const std::string& key, std::optional<std::string> def, const std::string& allowed) {
    const toml::node* n = node(key);
    if (!n) {
      if (!def) missing(key, allowed);
      return *def;
    }
    auto s = n->value_exact<std::string>();
    if (!s) {
      // --set name=2022 reads as an integer; for a string key the text as typed is meant.
      const auto raw = ctx_.raw_override.find(key_path(key));
      if (raw != ctx_.raw_override.end() && ctx_.overridden.count(key_path(key)) && !n->is_table() && !n->is_array())
        return raw->second;
      fail(key, "expected a string, got " + type_name(*n) + " (" + allowed + ")");
    }
    return *s;
  }

  std::string choice(const std::string& key, std::optional<std::string> def, const std::vector<std::string>& options) {
    std::string allowed = "one of";
    for (const auto& o : options) allowed += " \"" + o + "\"";
    const std::string v = string(key, def, allowed);
    for (const auto& o : options)
      if (v == o) return v;
    fail(key, "= \"" + v + "\": not allowed (" + allowed + ")");
  }

  Section table(const std::string& key, bool required) {
    const toml::node* n = node(key);
    if (!n) {
      if (required) fail(key, "missing section [" + key_path(key) + "]");
      return Section(nullptr, key_path(key), ctx_);
    }
    if (!n->is_table()) fail(key, "expected a table [" + key_path(key) + "], got " + type_name(*n));
    return Section(n->as_table(), key_path(key), ctx_);
  }

  const Context& context() const { return ctx_; }
  const std::string& path() const { return path_; }

  // Rejects keys nobody asked for.
  void finish(const std::map<std::string, std::string>& later = {}) const {
    if (!t_) return;
    for (const auto& [k, v] : *t_) {
      const std::string key(k.str());
      if (allowed_.count(key)) continue;
      const auto it = later.find(key);
      if (it != later.end())
        throw input_error(where(key) + ": [" + key_path(key) + "]: section not supported by this version of boltzmap (" +
                          it->second + ")");
      std::string guess;
      for (const auto& a : allowed_)
        if (looks_like(key, a)) guess = "did you mean " + a + "? ";
      throw input_error(where(key) + ": " + key_path(key) + ": unknown key; " + guess + "allowed here: " + join(allowed_));
    }
  }

  static std::string type_name(const toml::node& n) {
    switch (n.type()) {
      case toml::node_type::string: return "a string";
      case toml::node_type::integer: return "an integer";
      case toml::node_type::floating_point: return "a number";
      case toml::node_type::boolean: return "a boolean";
      case toml::node_type::table: return "a table";
      case toml::node_type::array: return "an array";
      default: return "a date/time";
    }
  }
  static std::string fmt_double(double v) {
    std::ostringstream o;
    o.precision(10);
    o << v;
    return o.str();
  }

 private:
  const toml::table* t_;
  std::string path_;
  const Context& ctx_;
  std::set<std::string> allowed_;
};

std::string fmt(double v) { return Section::fmt_double(v); }

// Applies "a.b.c=value": value is read as a TOML value when it parses as one, else as a string
// (so --set backend=cpu needs no quotes).
void apply_override(toml::table& root, const std::string& assignment, Context& ctx) {
  const auto eq = assignment.find('=');
  if (eq == std::string::npos || eq == 0)
    throw input_error("--set " + assignment + ": expected key=value with a dotted key, e.g. systems.A.sampler.walkers=512");
  const std::string key = assignment.substr(0, eq), text = assignment.substr(eq + 1);
  if (!is_dotted_key(key))
    throw input_error("--set " + shorten(assignment) + ": '" + shorten(key) +
                      "' is not a dotted key (parts of letters, digits, '_', '-', each starting with a letter or '_', "
                      "joined by '.'; at most " + std::to_string(kMaxKeyLength) + " characters)");
  toml::table holder;  // holds the value under "v"
  try {
    holder = toml::parse("v = " + text);
  } catch (const toml::parse_error&) {
    holder = toml::table{{"v", text}};
  }
  toml::table* t = &root;
  std::string::size_type start = 0;
  for (;;) {
    const auto dot = key.find('.', start);
    const std::string part = key.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (dot == std::string::npos) {
      holder.get("v")->visit([&](auto& value) { t->insert_or_assign(part, value); });
      break;
    }
    toml::node* next = t->get(part);
    if (!next) next = &t->insert_or_assign(part, toml::table{}).first->second;
    if (!next->is_table()) throw input_error("--set " + assignment + ": '" + key.substr(0, dot) + "' is not a table");
    t = next->as_table();
    start = dot + 1;
  }
  ctx.overridden.insert(key);
  ctx.raw_override[key] = text;
}

// Sections of a later version, refused with a message saying so (none at present).
const std::vector<std::string> later_sections = {};

// `where` receives the locations of the keys checked later against the box (r_c and Δ ≤ L/2).
SystemConfig read_system(Section& systems, const std::string& label, std::map<std::string, std::string>& where) {
  SystemConfig c;
  c.label = label;
  Section s = systems.table(label, true);
  c.potential = s.choice("potential", std::nullopt, {"lj", "wca"});
  auto positive = [&](const std::string& key, std::optional<double> def, const std::string& meaning) {
    const double v = s.number(key, def, meaning + ", a number > 0");
    if (!(v > 0)) s.fail(key, "= " + fmt(v) + ": must be > 0 (" + meaning + ")");
    return v;
  };
  c.epsilon = positive("epsilon", std::nullopt, "well depth ε in reduced units");
  c.sigma = positive("sigma", 1.0, "particle diameter σ");
  const bool has_cutoff = s.has("cutoff");
  c.cutoff = positive("cutoff", 3.0, "LJ cutoff radius r_c");
  // METHOD.md: the paper's systems are linearised below 0.8σ; the default keeps every pair
  // energy finite (at most ≈ 650ε), which the losses and weights of later stages rely on.
  c.inner_cutoff = s.number("inner_cutoff", 0.8 * c.sigma, "C¹ linearisation radius, 0 = off");
  c.temperature = positive("temperature", std::nullopt, "temperature k_B T");
  c.density = positive("density", std::nullopt, "number density N/L^d");

  if (c.potential == "wca" && has_cutoff)  // DESIGN.md: "ignored for wca"; say so
    spdlog::warn("{}: {}: ignored for potential = \"wca\" (r_c is 2^(1/6)σ)", s.where("cutoff"), s.key_path("cutoff"));
  for (const char* key : {"sigma", "cutoff"}) where[s.key_path(key)] = s.where(key);
  const double r_min = std::pow(2.0, 1.0 / 6.0) * c.sigma;
  if (c.inner_cutoff < 0 || c.inner_cutoff >= r_min)
    s.fail("inner_cutoff", "= " + fmt(c.inner_cutoff) + ": must be 0 (off) or in (0, 2^(1/6)σ = " + fmt(r_min) +
                               "), where the linear extension is repulsive");

  Section sm = s.table("sampler", true);
  c.sampler.walkers = static_cast<int>(sm.integer("walkers", std::nullopt, 1, 2147483647, "number of independent walkers"));
  const toml::node* step = sm.node("step_size");
  if (step && step->is_string()) {
    const std::string v = *step->value<std::string>();
    if (v != "auto") sm.fail("step_size", "= \"" + v + "\": allowed: a number in (0, L/2] or \"auto\"");
    c.sampler.step_size.reset();
  } else {
    // Δ ∈ (0, L/2] is checked against the box by check_experiment_physics().
    c.sampler.step_size = sm.number("step_size", std::nullopt, "displacement half-width Δ, a number in (0, L/2], or \"auto\"");
    where[sm.key_path("step_size")] = sm.where("step_size");
  }
  c.sampler.target_acceptance = sm.number("target_acceptance", 0.5, "acceptance the \"auto\" step size aims for, in (0, 1)");
  if (!(c.sampler.target_acceptance > 0 && c.sampler.target_acceptance < 1))
    sm.fail("target_acceptance", "= " + fmt(c.sampler.target_acceptance) + ": must be in (0, 1)");
  const std::int64_t max_moves = std::int64_t{1} << 50;
  c.sampler.equilibration_moves = sm.integer("equilibration_moves", 10000, 0, max_moves, "trial moves per walker before the first save");
  c.sampler.moves_between_saves = sm.integer("moves_between_saves", 10000, 1, max_moves, "trial moves per walker between saves");
  c.sampler.checkpoint_every_saves =
      sm.integer("checkpoint_every_saves", 1, 1, max_moves, "saves between checkpoints of the sampling state");
  if (!c.sampler.step_size && c.sampler.equilibration_moves < 500)
    sm.fail("equilibration_moves", "= " + std::to_string(c.sampler.equilibration_moves) +
                                       ": step_size = \"auto\" tunes Δ every 250 moves during the first half of "
                                       "equilibration, so it needs equilibration_moves ≥ 500");
  sm.finish();

  Section sd = s.table("datasets", true);
  const std::int64_t max_set = std::int64_t{1} << 40;
  c.datasets.train = sd.integer("train", std::nullopt, 0, max_set, "training configurations (0 skips the set)");
  c.datasets.validation = sd.integer("validation", std::nullopt, 0, max_set, "validation configurations (0 skips the set)");
  c.datasets.evaluation = sd.integer("evaluation", std::nullopt, 0, max_set, "evaluation configurations (0 skips the set)");
  const std::int64_t saves = (c.datasets.total() + c.sampler.walkers - 1) / c.sampler.walkers;
  if (saves > 10000000)
    sd.fail("evaluation", "train + validation + evaluation = " + std::to_string(c.datasets.total()) + " needs " +
                              std::to_string(saves) + " saves per walker with " + std::to_string(c.sampler.walkers) +
                              " walkers; at most 10⁷: use more walkers");
  sd.finish();
  s.finish();
  return c;
}

// The resolved input, written by hand so it keeps the DESIGN.md key order and prints each
// number in its shortest exact form (0.735, not 0.73499999999999999); it re-parses to the same
// Experiment bit for bit (tests/core/test_config.cpp).
std::string toml_quote(const std::string& v) {
  std::string out = "\"";
  for (const char ch : v) {
    const auto c = static_cast<unsigned char>(ch);
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  return out + "\"";
}

std::string toml_number(double v) {
  char buf[64];
  const auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  std::string out(buf, res.ptr);
  if (out.find_first_of(".eEn") == std::string::npos) out += ".0";  // keep it a TOML float
  return out;
}

std::string resolved_text(const Experiment& e) {
  std::ostringstream o;
  o << "name = " << toml_quote(e.name) << "\n";
  o << "output_dir = " << toml_quote(e.output_dir) << "\n";
  o << "seed = " << e.seed << "\n";
  o << "backend = " << toml_quote(e.backend) << "\n";
  o << "author = " << toml_quote(e.author) << "\n";
  o << "\n[box]\n";
  o << "dimension = " << e.box.dimension << "\n";
  o << "n_particles = " << e.box.n_particles << "\n";
  o << "lattice = " << toml_quote(e.box.lattice) << "\n";
  for (const auto& c : e.systems) {
    const std::string t = "systems." + c.label;
    o << "\n[" << t << "]\n";
    o << "potential = " << toml_quote(c.potential) << "\n";
    o << "epsilon = " << toml_number(c.epsilon) << "\n";
    o << "sigma = " << toml_number(c.sigma) << "\n";
    if (c.potential == "lj") o << "cutoff = " << toml_number(c.cutoff) << "\n";
    o << "inner_cutoff = " << toml_number(c.inner_cutoff) << "\n";
    o << "temperature = " << toml_number(c.temperature) << "\n";
    o << "density = " << toml_number(c.density) << "\n";
    o << "\n[" << t << ".sampler]\n";
    o << "walkers = " << c.sampler.walkers << "\n";
    o << "step_size = " << (c.sampler.step_size ? toml_number(*c.sampler.step_size) : toml_quote("auto")) << "\n";
    o << "target_acceptance = " << toml_number(c.sampler.target_acceptance) << "\n";
    o << "equilibration_moves = " << c.sampler.equilibration_moves << "\n";
    o << "moves_between_saves = " << c.sampler.moves_between_saves << "\n";
    o << "checkpoint_every_saves = " << c.sampler.checkpoint_every_saves << "\n";
    o << "\n[" << t << ".datasets]\n";
    o << "train = " << c.datasets.train << "\n";
    o << "validation = " << c.datasets.validation << "\n";
    o << "evaluation = " << c.datasets.evaluation << "\n";
  }
  o << "\n[preprocess]\n";
  o << "augment = " << (e.preprocess.augment ? "true" : "false") << "\n";
  o << "whiten = " << (e.preprocess.whiten ? "true" : "false") << "\n";
  o << "centre = " << toml_quote(e.preprocess.centre) << "\n";
  o << "reference_lattice = " << toml_quote(e.preprocess.reference_lattice) << "\n";
  o << "\n[flow]\n";
  o << "kind = " << toml_quote(e.flow.kind) << "\n";
  o << "blocks = " << e.flow.blocks << "\n";
  o << "hidden = [";
  for (std::size_t i = 0; i < e.flow.hidden.size(); ++i) o << (i ? ", " : "") << e.flow.hidden[i];
  o << "]\n";
  o << "scale_bound = " << toml_number(e.flow.scale_bound) << "\n";
  o << "layers = " << e.flow.layers << "\n";
  o << "bins = " << e.flow.bins << "\n";
  o << "frequencies = " << e.flow.frequencies << "\n";
  o << "width = " << e.flow.width << "\n";
  o << "shift = " << (e.flow.shift ? "true" : "false") << "\n";
  o << "\n[training]\n";
  o << "batch_size = " << e.training.batch_size << "\n";
  o << "clamp_energy = " << toml_number(e.training.clamp_energy) << "\n";
  o << "checkpoint_every = " << e.training.checkpoint_every << "\n";
  o << "pool_size = " << e.training.pool_size << "\n";
  o << "pool_mc_steps = " << e.training.pool_mc_steps << "\n";
  for (const auto& p : e.training.phases) {
    o << "\n[[training.phases]]\n";
    o << "epochs = " << p.epochs << "\n";
    o << "lambda_dir = " << toml_number(p.lambda_dir) << "\n";
    o << "lambda_inv = " << toml_number(p.lambda_inv) << "\n";
    o << "learning_rate = [";
    for (std::size_t i = 0; i < p.learning_rate.size(); ++i)
      o << (i ? ", " : "") << "[" << p.learning_rate[i].first << ", " << toml_number(p.learning_rate[i].second) << "]";
    o << "]\n";
  }
  o << "\n[analysis]\n";
  o << "bootstrap_replicates = " << e.analysis.bootstrap_replicates << "\n";
  o << "bootstrap_scheme = " << toml_quote(e.analysis.bootstrap_scheme) << "\n";
  o << "energy_bins = " << e.analysis.energy_bins << "\n";
  o << "rdf_bins = " << e.analysis.rdf_bins << "\n";
  o << "max_configurations = " << e.analysis.max_configurations << "\n";
  o << "chunk_configurations = " << e.analysis.chunk_configurations << "\n";
  o << "plot = " << (e.analysis.plot ? "true" : "false") << "\n";
  o << "\n[parallel]\n";
  o << "sampler_ranks = " << e.parallel.sampler_ranks << "\n";
  return o.str();
}

Experiment build(toml::table& root, Context& ctx, const std::vector<std::string>& overrides) {
  for (const auto& o : overrides) apply_override(root, o, ctx);
  Experiment e;
  e.source_file = ctx.origin;
  Section top(&root, "", ctx);
  e.name = top.string("name", std::nullopt, "the run's name: letters, digits, '_', '-', '.'");
  if (!is_run_name(e.name))
    top.fail("name", "= \"" + shorten(e.name) + "\": use letters, digits, '_', '-', '.', at most " +
                         std::to_string(kMaxNameLength) + " characters (it names the folder out/<name>)");
  e.output_dir = top.string("output_dir", "out/" + e.name, "folder for this run's outputs");
  if (e.output_dir.empty()) top.fail("output_dir", "must not be empty");
  e.seed = static_cast<std::uint64_t>(top.integer("seed", std::nullopt, 0, std::numeric_limits<std::int64_t>::max(), "random seed"));
  e.backend = top.choice("backend", "auto", {"auto", "cpu", "cuda"});
  e.author = top.string("author", author_from_environment(),
                        "the person responsible for the run, /h5md/author/name of its files (default: $BOLTZMAP_AUTHOR, "
                        "else the account's real name, else $USER)");
  if (e.author.empty()) top.fail("author", "must not be empty (H5MD files name their author)");

  Section box = top.table("box", true);
  e.box.dimension = static_cast<int>(box.integer("dimension", 2, 2, 3, "spatial dimension"));
  e.box.n_particles = static_cast<int>(box.integer("n_particles", std::nullopt, 2, 1000000, "particles per configuration"));
  e.box.lattice = box.choice("lattice", e.box.dimension == 2 ? "centered-square" : "bcc", {"centered-square", "bcc"});
  // The lattice's dimension and size are checked by check_experiment_physics().
  for (const char* key : {"lattice", "n_particles"}) e.where[box.key_path(key)] = box.where(key);
  box.finish();

  Section systems = top.table("systems", true);
  e.systems[0] = read_system(systems, "A", e.where);
  e.systems[1] = read_system(systems, "B", e.where);
  systems.finish();

  Section pre = top.table("preprocess", false);
  e.preprocess.augment = pre.boolean("augment", true, "draw one of the box's point symmetries per training configuration");
  e.preprocess.whiten = pre.boolean("whiten", true, "PCA with Λ^(−1/2); false keeps the rotation only");
  e.preprocess.centre = pre.choice("centre", "random", {"random", "first"});
  e.preprocess.reference_lattice = pre.choice("reference_lattice", e.box.lattice, {"centered-square", "bcc"});
  e.where[pre.key_path("reference_lattice")] = pre.where("reference_lattice");
  std::map<std::string, std::string> pre_given;  // the real-NVP-only keys the input sets, and where
  for (const char* k : {"whiten", "reference_lattice"})
    if (pre.node(k)) pre_given[k] = pre.where(k);
  pre.finish();

  // [flow]
  Section fl = top.table("flow", false);
  e.flow.kind = fl.choice("kind", "realnvp", {"realnvp", "equivariant"});
  {
    // The other kind's keys that the input sets: accepted (one key switches the kind of a file
    // written for the other), and listed in the log as unused.
    const bool nvp = e.flow.kind == "realnvp";
    for (const char* k : nvp ? std::vector<const char*>{"layers", "bins", "frequencies", "width", "shift"}
                             : std::vector<const char*>{"blocks", "hidden", "scale_bound"})
      if (fl.node(k)) e.flow.unused_keys.push_back(fl.key_path(k) + " (" + fl.where(k) + ")");
    if (!nvp)
      for (const char* k : {"whiten", "reference_lattice"})
        if (pre_given.count(k)) e.flow.unused_keys.push_back("preprocess." + std::string(k) + " (" + pre_given.at(k) + ")");
  }
  e.preprocess.torus = e.flow.kind == "equivariant";
  e.flow.layers = static_cast<int>(fl.integer("layers", 8, 1, 1000, "equivariant flow: circular coupling layers"));
  e.flow.bins = static_cast<int>(fl.integer("bins", 8, 2, 256, "equivariant flow: spline bins on the circle"));
  e.flow.frequencies = static_cast<int>(fl.integer("frequencies", 4, 1, 64, "equivariant flow: Fourier frequencies per axis"));
  e.flow.width = static_cast<int>(fl.integer("width", 32, 1, 4096, "equivariant flow: conditioner width"));
  e.flow.shift = fl.boolean("shift", true, "equivariant flow: a learned circular shift per layer");
  e.flow.blocks = static_cast<int>(fl.integer("blocks", 8, 1, 1000, "coupling blocks"));
  if (const toml::node* h = fl.node("hidden")) {
    const toml::array* arr = h->as_array();
    if (!arr || arr->empty()) fl.fail("hidden", "expected a non-empty array of layer widths, e.g. [128, 128, 128]");
    e.flow.hidden.clear();
    for (const auto& w : *arr) {
      const auto v = w.value_exact<std::int64_t>();
      if (!v || *v < 1 || *v > 100000) fl.fail("hidden", "every width must be an integer in [1, 100000]");
      e.flow.hidden.push_back(static_cast<int>(*v));
    }
  }
  e.flow.scale_bound = fl.number("scale_bound", 0.0, "bound a of S ← a·tanh(S/a); 0 = unbounded");
  if (e.flow.scale_bound < 0) fl.fail("scale_bound", "= " + fmt(e.flow.scale_bound) + ": must be ≥ 0 (0 = unbounded)");
  fl.finish();

  // [training]
  Section tr = top.table("training", false);
  auto& t = e.training;
  t.batch_size = static_cast<int>(tr.integer("batch_size", 2048, 1, 1 << 24, "configurations of each kind per step"));
  t.clamp_energy = tr.number("clamp_energy", 1e5, "start E_c of the lin→log clamp of βU");
  t.checkpoint_every = tr.integer("checkpoint_every", 50, 1, std::int64_t{1} << 40, "epochs between checkpoints");
  t.pool_size = tr.integer("pool_size", 0, 0, std::int64_t{1} << 40, "source-pool size; 0 = all of A's training set");
  t.pool_mc_steps = tr.integer("pool_mc_steps", 1000, 0, std::int64_t{1} << 40, "MC steps per pool member and refresh");
  if (const toml::node* ph = tr.node("phases")) {
    const toml::array* arr = ph->as_array();
    if (!arr || arr->empty() || !arr->is_array_of_tables())
      tr.fail("phases", "expected one or more [[training.phases]] tables");
    t.phases.clear();
    for (std::size_t i = 0; i < arr->size(); ++i) {
      Section p(arr->get(i)->as_table(), tr.key_path("phases") + "[" + std::to_string(i) + "]", tr.context());
      TrainingPhase phase;
      phase.epochs = p.integer("epochs", std::nullopt, 1, std::int64_t{1} << 40, "epochs of this phase");
      phase.lambda_dir = p.number("lambda_dir", std::nullopt, "weight of L_dir, ≥ 0");
      phase.lambda_inv = p.number("lambda_inv", std::nullopt, "weight of L_inv, ≥ 0");
      if (phase.lambda_dir < 0 || phase.lambda_inv < 0 || phase.lambda_dir + phase.lambda_inv == 0)
        p.fail("lambda_dir", "lambda_dir and lambda_inv must be ≥ 0 and not both 0");
      const toml::node* lr = p.node("learning_rate");
      const std::string lr_help = "expected [[first_epoch, lr], ...] with first epoch 0, increasing epochs, lr > 0";
      const toml::array* steps = lr ? lr->as_array() : nullptr;
      if (!steps || steps->empty()) p.fail("learning_rate", lr_help);
      for (const auto& st : *steps) {
        const toml::array* pair = st.as_array();
        if (!pair || pair->size() != 2) p.fail("learning_rate", lr_help);
        const auto ep = pair->get(0)->value<std::int64_t>();
        const auto rate = pair->get(1)->value<double>();
        if (!ep || !rate || !(*rate > 0) || *ep < 0 || *ep >= phase.epochs ||
            (!phase.learning_rate.empty() && *ep <= phase.learning_rate.back().first) ||
            (phase.learning_rate.empty() && *ep != 0))
          p.fail("learning_rate", lr_help + " (epochs inside the phase: 0 … " + std::to_string(phase.epochs - 1) + ")");
        phase.learning_rate.emplace_back(*ep, *rate);
      }
      p.finish();
      t.phases.push_back(std::move(phase));
    }
  }
  tr.finish();

  // [analysis]
  Section an = top.table("analysis", false);
  AnalysisSettings& a = e.analysis;
  a.bootstrap_replicates = static_cast<int>(an.integer("bootstrap_replicates", 100, 2, 100000, "bootstrap replicates"));
  a.bootstrap_scheme_given = an.has("bootstrap_scheme");
  a.bootstrap_scheme = an.choice("bootstrap_scheme", "multinomial", {"multinomial", "poisson"});
  a.energy_bins = static_cast<int>(an.integer("energy_bins", 80, 2, 100000, "bins of the energy histograms"));
  a.rdf_bins = static_cast<int>(an.integer("rdf_bins", 100, 2, 100000, "bins of g(r) up to L/2"));
  a.max_configurations = an.integer("max_configurations", 0, 0, std::int64_t{1} << 40,
                                    "configurations per evaluation set to map and analyse; 0 = all");
  a.chunk_configurations = an.integer("chunk_configurations", 8192, 1, std::int64_t{1} << 24,
                                      "configurations map and analyze read and hold at a time per rank (memory)");
  a.plot = an.boolean("plot", true, "draw the figures with tools/plot (needs Python 3, matplotlib, h5py)");
  an.finish();

  // [parallel]
  Section par = top.table("parallel", false);
  e.parallel.sampler_ranks = static_cast<int>(
      par.integer("sampler_ranks", 0, 0, 1 << 20, "sampler ranks (the last k ranks; the others train); 0 = none"));
  e.parallel.where = par.where("sampler_ranks") + ": parallel.sampler_ranks";
  par.finish();

  std::map<std::string, std::string> later;
  for (const auto& s : later_sections) later[s] = "it is added by a later issue";
  top.finish(later);

  std::string origin = ctx.origin;
  std::replace_if(origin.begin(), origin.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  e.resolved_toml = "# Resolved boltzmap input (defaults filled in) from " + origin + "\n" + resolved_text(e);
  return e;
}

Experiment parse_with_context(const std::string& text, Context& ctx, const std::vector<std::string>& overrides) {
  toml::table root;
  try {
    root = toml::parse(text, ctx.origin);
  } catch (const toml::parse_error& err) {
    throw input_error(ctx.origin + ":" + std::to_string(err.source().begin.line) + ": TOML syntax error: " +
                      std::string(err.description()));
  }
  return build(root, ctx, overrides);
}

}  // namespace

std::string author_from_environment() {
  if (const char* a = std::getenv("BOLTZMAP_AUTHOR"); a && *a) return a;
  const passwd* pw = ::getpwuid(::getuid());
  if (pw && pw->pw_gecos) {
    std::string real(pw->pw_gecos);
    real = real.substr(0, real.find(','));  // GECOS: full name, room, phones, …
    if (!real.empty()) return real;
  }
  if (const char* u = std::getenv("USER"); u && *u) return u;
  if (pw && pw->pw_name && *pw->pw_name) return pw->pw_name;
  return "unknown";
}

std::string resolved_sections(const std::string& resolved, const std::vector<std::string>& tables) {
  std::istringstream in(resolved);
  std::string line, out, table;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      const auto a = line.find_first_not_of('['), b = line.find(']');
      table = line.substr(a, b - a);
    }
    // Where the outputs go and who ran it change no result.
    if ((line.rfind("output_dir", 0) == 0 || line.rfind("author", 0) == 0) && table.empty()) continue;
    for (const auto& t : tables)
      if (table == t || table.rfind(t + ".", 0) == 0) {
        out += line + "\n";
        break;
      }
  }
  return out;
}

std::map<std::string, std::string> resolved_values(const std::string& resolved) {
  std::map<std::string, std::string> out;
  std::istringstream in(resolved);
  std::string line, table;
  auto trim = [](std::string x) {
    const auto a = x.find_first_not_of(" \t"), b = x.find_last_not_of(" \t");
    return a == std::string::npos ? std::string() : x.substr(a, b - a + 1);
  };
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      const auto a = line.find_first_not_of('['), b = line.find(']');
      table = b == std::string::npos ? std::string() : line.substr(a, b - a);
      continue;
    }
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    out[(table.empty() ? "" : table + ".") + trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  return out;
}

Experiment parse_experiment(const std::string& text, const std::string& origin, const std::vector<std::string>& overrides) {
  Context ctx{origin, {}, {}};
  return parse_with_context(text, ctx, overrides);
}

Experiment load_experiment(const std::string& path, const std::vector<std::string>& overrides) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw io_error(path + ": is a folder, not an input file");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(path + ": cannot open input file");
  std::stringstream buf;
  buf << in.rdbuf();
  Context ctx{path, {}, {}};
  return parse_with_context(buf.str(), ctx, overrides);
}

}  // namespace boltzmap
