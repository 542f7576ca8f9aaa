// Small file-system helpers: folders, and atomic writes (write a temporary name in the same
// folder, then rename), so an interrupted job never leaves a truncated file that looks whole.
#pragma once
#include <string>

namespace boltzmap {

void ensure_directory(const std::string& path);
// The temporary name used while `path` is being written.
std::string partial_name(const std::string& path);
// Renames the temporary to the final name (atomic on POSIX within one file system).
void commit_partial(const std::string& path);
void write_text_atomic(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);

}  // namespace boltzmap
