// GSD 2.0 files (the file layer of glotzerlab/gsd) in the HOOMD-blue schema, written and read
// natively — no libgsd — so HOOMD-blue, OVITO and `gsd.hoomd` (Debian python3-gsd) read boltzmap's
// configurations and boltzmap imports theirs.
// File layer: a 256-byte header (magic 0x65DF65DF65DF65DF, gsd_version 2.0, application, schema
// "hoomd" 1.4, the locations of the index and the namelist), then the data chunks, the index
// (32-byte entries {frame u64, N u64, location i64, M u32, id u16, type u8, flags u8}, sorted by
// frame then id) and the namelist (the chunk names, '\0'-separated, in id order, zero-padded to a
// multiple of 64 bytes). Little-endian, as the format is on every machine it runs on.
// Chunks per frame: configuration/step u64, configuration/dimensions u8, configuration/box
// float32[6] = {Lx, Ly, Lz, xy, xz, yz} (HOOMD: a 2D box has Lz = 0), particles/N u32,
// particles/types int8[1][len+1], particles/typeid u32[N], particles/position float32[N][3] with
// coordinates in [−L/2, L/2) (HOOMD's box is centred at the origin; boltzmap's [0, L) is shifted by
// −L/2 on export and back on import), and per-frame float64 scalars log/boltzmap/<name>
// (gsd 2.x: `frame.log['boltzmap/log_weight']`; gsd ≥ 3 also `gsd.hoomd.read_log(file)`).
// The reader follows HOOMD's rule that a chunk missing from frame k is frame 0's; it takes
// positions in float32 or float64, rejects tilted boxes, and returns log/<name> scalars as data
// named <name> with a leading "boltzmap/" removed. Tests: tests/io/test_interchange.cpp,
// tests/app/export_import.sh (read back with gsd.hoomd).
#pragma once
#include <string>

#include "io/trajectory.hpp"

namespace boltzmap {

void write_gsd(const std::string& path, const Trajectory& t, const std::string& application);
Trajectory read_gsd(const std::string& path);

}  // namespace boltzmap
