// See log.hpp.
#include "core/log.hpp"

#include <algorithm>

#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "core/error.hpp"

namespace boltzmap {

namespace {
int g_rank = 0;
// The one file sink of this process and its path: `run` opens every stage, and each stage asks for
// the run folder's log.txt; a second request for the same file must not add a second sink (every
// line would be written once per stage opened).
std::shared_ptr<spdlog::sinks::basic_file_sink_mt> g_file;
std::string g_file_path;
}

void log_init(int rank, int size, bool verbose) {
  g_rank = rank;
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>("boltzmap", console);
  const std::string who = size > 1 ? "[rank " + std::to_string(rank) + "] " : "";
  logger->set_pattern("[%H:%M:%S] %^%l%$: " + who + "%v");
  logger->set_level(rank == 0 ? (verbose ? spdlog::level::debug : spdlog::level::info) : spdlog::level::warn);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(logger);
}

void log_to_file(const std::string& path) {
  if (g_rank != 0) return;
  if (g_file && g_file_path == path) return;  // already writing there
  std::shared_ptr<spdlog::sinks::basic_file_sink_mt> file;
  try {
    file = std::make_shared<spdlog::sinks::basic_file_sink_mt>(path, false);
  } catch (const spdlog::spdlog_ex& e) {
    // spdlog's message already carries the path and strerror ("Failed opening file x for writing: ...").
    throw io_error(path + ": cannot open the log file: " + e.what());
  }
  file->set_pattern("[%Y-%m-%d %H:%M:%S] %l: %v");
  file->set_level(spdlog::level::info);
  auto& sinks = spdlog::default_logger()->sinks();
  if (g_file) sinks.erase(std::remove(sinks.begin(), sinks.end(), g_file), sinks.end());  // another folder now
  sinks.push_back(file);
  g_file = file;
  g_file_path = path;
}

}  // namespace boltzmap
