// out/<name>/summary.json, merged stage by stage: each stage patches its own keys
// (sample.<A|B>.*, train.*, analyze.*) and leaves the others. Keys are DESIGN.md's contract.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace boltzmap {

// Reads `path` if it exists, applies the JSON merge patch, writes atomically. NaN/inf → null.
void merge_summary(const std::string& path, const nlohmann::json& patch);

}  // namespace boltzmap
