// boltzmap info FILE.h5 [--input]: what an output file holds.
#include <cstdio>

#include "app/commands.hpp"
#include "core/error.hpp"
#include "io/h5md.hpp"

namespace boltzmap {

int cmd_info(const InfoArgs& args, const Comm& comm) {
  if (!comm.root()) return 0;
  if (args.input) {
    const std::string input = read_root_attribute(args.file, "boltzmap_input");
    if (input.empty()) throw io_error(args.file + ": has no boltzmap_input attribute");
    std::fputs(input.c_str(), stdout);
    return 0;
  }
  std::fputs(describe_h5(args.file).c_str(), stdout);
  return 0;
}

}  // namespace boltzmap
