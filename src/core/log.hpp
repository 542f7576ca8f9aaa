// Logging (spdlog): one logger for the program; rank 0 logs at info to stderr and, once the run
// folder is known, to out/<name>/log.txt; other ranks log warnings and errors only, prefixed
// with their rank, so a 64-rank job does not print everything 64 times.
#pragma once
#include <string>

#include <spdlog/spdlog.h>

namespace boltzmap {

void log_init(int rank, int size, bool verbose);
void log_to_file(const std::string& path);  // appends; rank 0 only; one file sink per process (a second call for the same path adds nothing); io_error naming path if it cannot be opened

}  // namespace boltzmap
