// Progress of long work: on a terminal a bar redrawn in place with rate and ETA; in a batch log
// (stderr not a terminal) a plain line every `interval` seconds. Only rank 0 shows it.
#pragma once
#include <chrono>
#include <string>

namespace boltzmap {

class Progress {
 public:
  Progress(std::string label, double total, std::string unit, bool active, double interval_s = 10.0);
  void update(double done);
  void finish();

 private:
  void draw(double done, bool final);
  std::string label_, unit_;
  double total_;
  bool active_, tty_;
  double interval_;
  std::chrono::steady_clock::time_point start_, last_;
  bool finished_ = false;
};

std::string format_duration(double seconds);

}  // namespace boltzmap
