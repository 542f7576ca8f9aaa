// The files the program uses besides its inputs (tools/plot, inputs/demo.toml): found next to the
// executable in an installed tree (<bin>/../share/boltzmap, via GNUInstallDirs' relative layout, so
// the tree can be moved as a whole), else in the source tree it was built from. Tests:
// tests/app/install.sh (an installed tree, moved, runs the demo's file and draws figures).
#pragma once
#include <string>

namespace boltzmap {

// The path of `relative` (e.g. "tools/plot") among the program's files; the first place that has
// it, installed before source tree. If neither has it, the installed path (for the message).
std::string program_file(const std::string& relative);

}  // namespace boltzmap
