// boltzmap info FILE.h5 [--input]: what an output file holds.
#include <cstdio>

#include "app/commands.hpp"
#include "core/error.hpp"
#include "io/h5md.hpp"

namespace boltzmap {

int cmd_info(const InfoArgs& args, const Comm& comm) {
  if (!comm.root()) return 0;
  if (args.input) {
    const Frames fr = read_h5md(args.file);
    const auto it = fr.meta.attributes.find("boltzmap_input");
    if (it == fr.meta.attributes.end()) throw io_error(args.file + ": has no boltzmap_input attribute");
    std::fputs(it->second.c_str(), stdout);
    return 0;
  }
  std::fputs(describe_h5(args.file).c_str(), stdout);
  return 0;
}

}  // namespace boltzmap
