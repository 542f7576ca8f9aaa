// See roles.hpp.
#include "parallel/roles.hpp"

#include <fmt/format.h>

#include "core/error.hpp"

namespace boltzmap {

const char* role_name(Role r) {
  switch (r) {
    case Role::trainer: return "trainer";
    case Role::sampler: return "sampler";
    case Role::both: return "trainer and sampler";
  }
  return "?";
}

std::vector<Role> assign_roles(int ranks, int sampler_ranks, const std::string& where) {
  if (ranks < 1) throw Error(ExitCode::failure, fmt::format("assign_roles: {} ranks (a bug)", ranks));
  if (sampler_ranks < 0)
    throw input_error(fmt::format("{} = {}: must be ≥ 0 (0: no sampler ranks)", where, sampler_ranks));
  if (sampler_ranks > ranks)
    throw input_error(fmt::format("{} = {}: more sampler ranks than the job's {} rank(s); use at most {} ({})", where,
                                  sampler_ranks, ranks, ranks == 1 ? 1 : ranks - 1,
                                  ranks == 1 ? "one rank plays both roles" : "at least one rank must train"));
  if (ranks == 1) return {Role::both};
  if (sampler_ranks == ranks)
    throw input_error(fmt::format("{} = {}: with {} ranks that leaves no trainer rank; use at most {} (or 0: every rank "
                                  "trains with its own source pool)",
                                  where, sampler_ranks, ranks, ranks - 1));
  std::vector<Role> roles(static_cast<std::size_t>(ranks), Role::trainer);
  for (int r = ranks - sampler_ranks; r < ranks; ++r) roles[static_cast<std::size_t>(r)] = Role::sampler;
  return roles;
}

std::string describe_roles(const std::vector<Role>& roles) {
  // Runs of equal roles, in rank order ("rank 0", "ranks 1–3").
  std::string out;
  for (std::size_t a = 0; a < roles.size();) {
    std::size_t b = a;
    while (b + 1 < roles.size() && roles[b + 1] == roles[a]) ++b;
    const std::string who = a == b ? fmt::format("rank {}", a) : fmt::format("ranks {}–{}", a, b);
    out += fmt::format("{}{} {}", out.empty() ? "" : ", ", who, role_name(roles[a]));
    a = b + 1;
  }
  return out;
}

}  // namespace boltzmap
