// See run_folder.hpp.
#include "io/run_folder.hpp"

#include <fmt/format.h>

namespace boltzmap {

std::string RunFolder::input() const { return root + "/input.toml"; }
std::string RunFolder::log() const { return root + "/log.txt"; }
std::string RunFolder::summary() const { return root + "/summary.json"; }
std::string RunFolder::stages() const { return root + "/stages.json"; }
std::string RunFolder::lock() const { return root + "/.boltzmap.lock"; }

std::string RunFolder::data() const { return root + "/data"; }
std::string RunFolder::data_set(char system, std::string_view set) const {
  return fmt::format("{}/{}_{}.h5", data(), system, set);
}

std::string RunFolder::sample_state(char system) const { return fmt::format("{}/checkpoints/{}", data(), system); }
std::string RunFolder::sample_checkpoint(char system) const { return sample_state(system) + "/checkpoint.h5"; }
std::string RunFolder::sample_saves(char system, std::int64_t first) const {
  return fmt::format("{}/saves_{:08d}.h5", sample_state(system), first);
}
std::string RunFolder::set_aside_sample_state(char system, std::int64_t stamp) const {
  return fmt::format("{}/checkpoints/{}.other-input.{}", data(), system, stamp);
}

std::string RunFolder::model() const { return root + "/model"; }
std::string RunFolder::preprocessor() const { return model() + "/preprocess.h5"; }
std::string RunFolder::model_flow() const { return model() + "/flow.h5"; }
std::string RunFolder::checkpoints() const { return model() + "/checkpoints"; }
std::string RunFolder::checkpoint() const { return checkpoints() + "/checkpoint.h5"; }
std::string RunFolder::failed_checkpoint() const { return checkpoints() + "/checkpoint_failed.h5"; }
std::string RunFolder::set_aside_checkpoint(std::int64_t stamp) const {
  return fmt::format("{}/checkpoint.other-input.{}.h5", checkpoints(), stamp);
}
std::string RunFolder::train_log() const { return root + "/train_log.csv"; }

std::string RunFolder::preprocessed() const { return root + "/preprocessed"; }
std::string RunFolder::preprocessed(char system, std::string_view set) const {
  return fmt::format("{}/{}_{}.h5", preprocessed(), system, set);
}

std::string RunFolder::mapped() const { return root + "/mapped"; }
std::string RunFolder::mapped(std::string_view direction) const { return fmt::format("{}/{}.h5", mapped(), direction); }

std::string RunFolder::analysis() const { return root + "/analysis.h5"; }
std::string RunFolder::figures() const { return root + "/figures"; }
std::string RunFolder::figure(std::string_view name) const { return fmt::format("{}/{}.png", figures(), name); }

}  // namespace boltzmap
