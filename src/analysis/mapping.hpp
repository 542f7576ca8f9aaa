// Mapping configurations through the trained flow (boltzmap map), with the weights of the paper's
// Eqs. 10 and 11 in double precision and the canonical-domain test of METHOD.md:
//   A→B:  x′ = P⁻¹(F(P(x_A))),   log w_B = −β_B U_B(x′) + β_A U_A(x_A) + log|det J_F(P(x_A))|
//   B→A:  x′ = P⁻¹(F⁻¹(P(x_B))), log w_A = −β_A U_A(x′) + β_B U_B(x_B) + log|det J_F⁻¹(P(x_B))|
// P is the preprocessing with the evaluation choices (c = 0, no symmetry). Its own log-det (the
// PCA's) enters the map's Jacobian once with each sign and cancels; translation and the dropped
// particle are the same integral for A and B (same box), so ΔF needs no extra constant.
// A mapped configuration outside the canonical domain D gets weight zero (log_weight = −∞);
// log_weight_unrestricted keeps Eq. 10/11's value. The identity map (the paper's "untransformed"
// configurations, plain free-energy perturbation) is computed alongside: its configurations are
// the sources, always inside D.
// Threads over chunks of configurations. Tests: tests/analysis/test_mapping.cpp.
#pragma once
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "flow/flow.hpp"
#include "physics/energy.hpp"
#include "transforms/preprocessor.hpp"

namespace boltzmap {

enum class Direction { a_to_b, b_to_a };
const char* direction_name(Direction d);  // "A_to_B" | "B_to_A"

struct MappedSet {
  std::vector<float> positions;            // [n][N][D] mapped configurations in the target's [0, L)
  std::vector<double> source_energy;       // U_source(x)
  std::vector<double> mapped_energy;       // U_target(x′)
  std::vector<double> log_jacobian;        // log|det| of F (A→B) or F⁻¹ (B→A) at x, box scaling included
  std::vector<double> log_weight;          // Eq. 10/11, −∞ outside the domain
  std::vector<double> log_weight_unrestricted;  // Eq. 10/11 without the domain rule
  std::vector<std::uint8_t> in_domain;     // 1 when x′ lies in the canonical domain
  std::vector<double> identity_energy;     // U_target(S(x)) (the untransformed configuration, scaled
                                           // into the target's box when the boxes differ)
  std::vector<double> identity_log_weight; // −β_t U_t(S(x)) + β_s U_s(x) + log|det S|
  std::size_t size() const { return source_energy.size(); }
};

// Maps x [n][N][D] of the source system (A for a_to_b). progress(k) is called (from the calling
// thread) with the number of configurations done.
MappedSet map_configurations(const Preprocessor& pre, const Flow<float>& flow, const System& source,
                             const System& target, Direction dir, std::span<const float> x,
                             const std::function<void(std::size_t)>& progress = {});

}  // namespace boltzmap
