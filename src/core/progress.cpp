// See progress.hpp.
#include "core/progress.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace boltzmap {

std::string format_duration(double s) {
  if (!std::isfinite(s) || s < 0) return "--:--";
  const long t = std::lround(s);
  if (t >= 3600) return fmt::format("{}:{:02}:{:02}", t / 3600, (t / 60) % 60, t % 60);
  return fmt::format("{:02}:{:02}", t / 60, t % 60);
}

Progress::Progress(std::string label, double total, std::string unit, bool active, double interval_s)
    : label_(std::move(label)), unit_(std::move(unit)), total_(total), active_(active), tty_(isatty(STDERR_FILENO)),
      interval_(interval_s), start_(std::chrono::steady_clock::now()), last_(start_) {}

void Progress::update(double done) {
  if (!active_) return;
  const auto now = std::chrono::steady_clock::now();
  const double since = std::chrono::duration<double>(now - last_).count();
  if (since < (tty_ ? 0.2 : interval_)) return;
  last_ = now;
  draw(done, false);
}

void Progress::finish() {
  if (!active_ || finished_) return;
  finished_ = true;
  draw(total_, true);
}

void Progress::draw(double done, bool final) {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double rate = elapsed > 0 ? done / elapsed : 0.0;
  const double frac = total_ > 0 ? std::min(1.0, done / total_) : 1.0;
  const double eta = rate > 0 ? (total_ - done) / rate : NAN;
  if (tty_) {
    const int width = 30, filled = static_cast<int>(frac * width);
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::fprintf(stderr, "\r%s [%s] %5.1f%%  %.3g %s/s  %s %s\x1b[K", label_.c_str(), bar.c_str(), 100 * frac, rate,
                 unit_.c_str(), final ? "took" : "ETA", format_duration(final ? elapsed : eta).c_str());
    if (final) std::fprintf(stderr, "\n");
    std::fflush(stderr);
  } else {
    spdlog::info("{}: {:.1f}% ({:.4g} of {:.4g} {}), {:.3g} {}/s, {} {}", label_, 100 * frac, done, total_, unit_, rate,
                 unit_, final ? "took" : "ETA", format_duration(final ? elapsed : eta));
  }
}

}  // namespace boltzmap
