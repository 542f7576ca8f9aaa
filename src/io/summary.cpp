// See summary.hpp.
#include "io/summary.hpp"

#include <filesystem>

#include "core/error.hpp"
#include "io/files.hpp"

namespace boltzmap {

void merge_summary(const std::string& path, const nlohmann::json& patch) {
  nlohmann::json doc = nlohmann::json::object();
  if (std::filesystem::exists(path)) {
    try {
      doc = nlohmann::json::parse(read_text(path));
    } catch (const nlohmann::json::exception& e) {
      throw io_error(path + ": not valid JSON (" + e.what() + "); move it away to start a new summary");
    }
  }
  doc.merge_patch(patch);
  write_text_atomic(path, doc.dump(2) + "\n");
}

}  // namespace boltzmap
