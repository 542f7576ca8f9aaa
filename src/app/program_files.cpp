// See program_files.hpp.
#include "app/program_files.hpp"

#include <filesystem>
#include <system_error>

#include "version.hpp"

namespace boltzmap {

std::string program_file(const std::string& relative) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  const fs::path installed = ec ? fs::path() : (exe.parent_path() / build::data_from_bin / relative).lexically_normal();
  if (!installed.empty() && fs::exists(installed, ec)) return installed.string();
  const fs::path source = fs::path(build::source_dir) / relative;
  if (fs::exists(source, ec)) return source.string();
  return installed.empty() ? source.string() : installed.string();
}

}  // namespace boltzmap
