// See files.hpp.
#include "io/files.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace boltzmap {

namespace fs = std::filesystem;

void ensure_directory(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw io_error(path + ": cannot create folder: " + ec.message());
}

std::string partial_name(const std::string& path) { return path + ".partial"; }

void commit_partial(const std::string& path) {
  std::error_code ec;
  fs::rename(partial_name(path), path, ec);
  if (ec) throw io_error(path + ": cannot rename " + partial_name(path) + " into place: " + ec.message());
}

void write_text_atomic(const std::string& path, const std::string& text) {
  {
    std::ofstream out(partial_name(path), std::ios::binary | std::ios::trunc);
    if (!out) throw io_error(partial_name(path) + ": cannot open for writing");
    out << text;
    out.flush();
    if (!out) throw io_error(partial_name(path) + ": write failed (disk full?)");
  }
  commit_partial(path);
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(path + ": cannot open for reading");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace boltzmap
