// An exception must not leave an OpenMP parallel region (the runtime calls std::terminate: exit
// 134 with no message). Code inside a region runs through FirstError::run, which keeps the first
// exception any thread threw; after the region, rethrow() throws it on the calling thread, where
// main() turns it into a message and an exit code. Tests: tests/analysis/test_mapping.cpp.
#pragma once
#include <exception>
#include <mutex>

namespace boltzmap {

class FirstError {
 public:
  template <class F>
  void run(F&& f) noexcept {
    try {
      f();
    } catch (...) {
      const std::lock_guard<std::mutex> lock(mutex_);
      if (!first_) first_ = std::current_exception();
    }
  }
  bool failed() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return static_cast<bool>(first_);
  }
  void rethrow() const {
    if (first_) std::rethrow_exception(first_);
  }

 private:
  mutable std::mutex mutex_;
  std::exception_ptr first_;
};

}  // namespace boltzmap
