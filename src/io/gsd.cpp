// See gsd.hpp.
#include "io/gsd.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "core/error.hpp"
#include "io/files.hpp"

namespace boltzmap {

namespace {

constexpr std::uint64_t kMagic = 0x65DF65DF65DF65DFull;
constexpr std::uint32_t make_version(std::uint32_t major, std::uint32_t minor) { return (major << 16) | minor; }

// GSD type codes.
enum : std::uint8_t { u8 = 1, u16 = 2, u32 = 3, u64 = 4, i8 = 5, i16 = 6, i32 = 7, i64 = 8, f32 = 9, f64 = 10 };
std::size_t type_size(std::uint8_t t) {
  switch (t) {
    case u8: case i8: return 1;
    case u16: case i16: return 2;
    case u32: case i32: case f32: return 4;
    case u64: case i64: case f64: return 8;
    default: return 0;
  }
}

#pragma pack(push, 1)
struct Header {
  std::uint64_t magic;
  std::uint64_t index_location;
  std::uint64_t index_allocated_entries;
  std::uint64_t namelist_location;
  std::uint64_t namelist_allocated_entries;  // in 64-byte units
  std::uint32_t schema_version;
  std::uint32_t gsd_version;
  char application[64];
  char schema[64];
  char reserved[80];
};
struct IndexEntry {
  std::uint64_t frame;
  std::uint64_t N;
  std::int64_t location;
  std::uint32_t M;
  std::uint16_t id;
  std::uint8_t type;
  std::uint8_t flags;
};
#pragma pack(pop)
static_assert(sizeof(Header) == 256 && sizeof(IndexEntry) == 32, "GSD layout");

template <class T>
void append(std::string& buf, const T* data, std::size_t n) {
  buf.append(reinterpret_cast<const char*>(data), n * sizeof(T));
}

}  // namespace

void write_gsd(const std::string& path, const Trajectory& t, const std::string& application) {
  const std::size_t N = static_cast<std::size_t>(t.particles);
  // Names in id order; every frame writes each once, in this order (so the index is sorted).
  std::vector<std::string> names = {"configuration/step", "configuration/dimensions", "configuration/box",
                                    "particles/N", "particles/types", "particles/typeid", "particles/position"};
  for (const auto& [name, values] : t.data) names.push_back("log/boltzmap/" + name);
  if (names.size() > std::numeric_limits<std::uint16_t>::max()) throw io_error(path + ": too many GSD chunk names");

  std::string buf(sizeof(Header), '\0');
  std::vector<IndexEntry> index;
  auto chunk = [&](std::uint64_t frame, std::uint16_t id, std::uint8_t type, std::uint64_t n, std::uint32_t m,
                   const void* data) {
    index.push_back({frame, n, static_cast<std::int64_t>(buf.size()), m, id, type, 0});
    buf.append(static_cast<const char*>(data), n * m * type_size(type));
  };
  std::vector<std::uint32_t> typeid_(N, 0);
  std::vector<char> types(t.species.size() + 1, '\0');
  std::copy(t.species.begin(), t.species.end(), types.begin());
  std::vector<float> pos(N * 3);
  for (std::int64_t k = 0; k < t.frames(); ++k) {
    const auto f = static_cast<std::uint64_t>(k);
    const auto& b = t.box[f];
    const std::uint64_t step = static_cast<std::uint64_t>(std::max<std::int64_t>(t.steps[f], 0));
    const std::uint8_t dims = static_cast<std::uint8_t>(t.dimension == 2 ? 2 : 3);
    const float box[6] = {static_cast<float>(b[0]), static_cast<float>(b[1]), dims == 2 ? 0.0f : static_cast<float>(b[2]),
                          0.0f, 0.0f, 0.0f};
    const std::uint32_t n32 = static_cast<std::uint32_t>(N);
    // [0, L) → [−L/2, L/2): x − L/2 can round up to L/2 in float; that is the image −L/2.
    for (std::size_t i = 0; i < N * 3; ++i) {
      const int d = static_cast<int>(i % 3);
      const double L = d == 2 && dims == 2 ? 0.0 : b[static_cast<std::size_t>(d)];
      float y = static_cast<float>(static_cast<double>(t.positions[f * N * 3 + i]) - 0.5 * L);
      if (L > 0 && y >= static_cast<float>(0.5 * L)) y = static_cast<float>(-0.5 * L);
      pos[i] = y;
    }
    std::uint16_t id = 0;
    chunk(f, id++, u64, 1, 1, &step);
    chunk(f, id++, u8, 1, 1, &dims);
    chunk(f, id++, f32, 6, 1, box);
    chunk(f, id++, u32, 1, 1, &n32);
    chunk(f, id++, i8, 1, static_cast<std::uint32_t>(types.size()), types.data());
    chunk(f, id++, u32, N, 1, typeid_.data());
    chunk(f, id++, f32, N, 3, pos.data());
    for (const auto& [name, values] : t.data) chunk(f, id++, f64, 1, 1, &values[f]);
  }
  Header h{};
  h.magic = kMagic;
  h.index_location = buf.size();
  h.index_allocated_entries = std::max<std::size_t>(index.size(), 1);
  if (index.empty()) index.push_back(IndexEntry{});  // an empty file: one unused entry (location 0)
  append(buf, index.data(), index.size());
  std::string namelist;
  for (const auto& n : names) namelist += n + '\0';
  namelist.resize((namelist.size() + 1 + 63) / 64 * 64, '\0');  // at least one '\0' after the last name
  h.namelist_location = buf.size();
  h.namelist_allocated_entries = namelist.size() / 64;
  buf += namelist;
  h.schema_version = make_version(1, 4);
  h.gsd_version = make_version(2, 0);
  std::strncpy(h.application, application.c_str(), sizeof(h.application) - 1);
  std::strncpy(h.schema, "hoomd", sizeof(h.schema) - 1);
  std::memcpy(buf.data(), &h, sizeof(h));
  write_text_atomic(path, buf);
}

Trajectory read_gsd(const std::string& path) {
  const std::string buf = read_text(path);
  auto corrupt = [&](const std::string& why) { return io_error(path + ": not a readable GSD file: " + why); };
  if (buf.size() < sizeof(Header)) throw corrupt("shorter than the 256-byte header");
  Header h;
  std::memcpy(&h, buf.data(), sizeof(h));
  if (h.magic != kMagic) throw corrupt("wrong magic number");
  if ((h.gsd_version >> 16) < 1 || (h.gsd_version >> 16) > 2)
    throw corrupt(fmt::format("GSD version {}.{} (this reader knows 1.x and 2.x)", h.gsd_version >> 16, h.gsd_version & 0xffff));
  if (std::string(h.schema, strnlen(h.schema, sizeof(h.schema))) != "hoomd")
    throw corrupt(fmt::format("schema '{}', not 'hoomd'", std::string(h.schema, strnlen(h.schema, sizeof(h.schema)))));
  const std::uint64_t nl_bytes = h.namelist_allocated_entries * 64;
  if (h.namelist_location + nl_bytes > buf.size() || h.index_location + h.index_allocated_entries * sizeof(IndexEntry) > buf.size())
    throw corrupt("index or namelist past the end of the file (truncated?)");
  // Names: '\0'-separated (v2) or fixed 64-byte entries (v1); empty strings are padding.
  std::vector<std::string> names;
  {
    std::size_t i = 0;
    const char* nl = buf.data() + h.namelist_location;
    while (i < nl_bytes) {
      const std::size_t len = strnlen(nl + i, nl_bytes - i);
      if (len > 0) names.emplace_back(nl + i, len);
      i += len + 1;
    }
  }
  std::map<std::pair<std::uint64_t, std::uint16_t>, IndexEntry> chunks;
  std::uint64_t frames = 0;
  for (std::uint64_t k = 0; k < h.index_allocated_entries; ++k) {
    IndexEntry e;
    std::memcpy(&e, buf.data() + h.index_location + k * sizeof(IndexEntry), sizeof(e));
    if (e.location == 0) break;
    const std::size_t ts = type_size(e.type);
    if (ts == 0 || e.id >= names.size() || e.location < 0 ||
        static_cast<std::uint64_t>(e.location) + e.N * e.M * ts > buf.size())
      throw corrupt(fmt::format("index entry {} (frame {}) is invalid", k, e.frame));
    chunks[{e.frame, e.id}] = e;
    frames = std::max(frames, e.frame + 1);
  }
  std::map<std::string, std::uint16_t> id_of;
  for (std::size_t i = 0; i < names.size(); ++i) id_of[names[i]] = static_cast<std::uint16_t>(i);
  // The chunk `name` of frame k, or of frame 0 when k has none (HOOMD's rule); nullptr if neither.
  auto find = [&](std::uint64_t k, const std::string& name) -> const IndexEntry* {
    const auto id = id_of.find(name);
    if (id == id_of.end()) return nullptr;
    for (std::uint64_t f : {k, std::uint64_t{0}}) {
      const auto it = chunks.find({f, id->second});
      if (it != chunks.end()) return &it->second;
    }
    return nullptr;
  };
  auto as_double = [&](const IndexEntry& e) {
    std::vector<double> v(e.N * e.M);
    const char* p = buf.data() + e.location;
    for (std::size_t i = 0; i < v.size(); ++i) {
      switch (e.type) {
#define GSD_CASE(code, T) case code: { T x; std::memcpy(&x, p + i * sizeof(T), sizeof(T)); v[i] = static_cast<double>(x); break; }
        GSD_CASE(u8, std::uint8_t) GSD_CASE(u16, std::uint16_t) GSD_CASE(u32, std::uint32_t) GSD_CASE(u64, std::uint64_t)
        GSD_CASE(i8, std::int8_t) GSD_CASE(i16, std::int16_t) GSD_CASE(i32, std::int32_t) GSD_CASE(i64, std::int64_t)
        GSD_CASE(f32, float) GSD_CASE(f64, double)
#undef GSD_CASE
      }
    }
    return v;
  };

  Trajectory t;
  std::vector<std::string> logs;
  for (const auto& n : names)
    if (n.rfind("log/", 0) == 0) logs.push_back(n);
  std::vector<std::vector<double>> log_values(logs.size());
  for (std::uint64_t k = 0; k < frames; ++k) {
    const IndexEntry* pos = find(k, "particles/position");
    if (!pos) throw io_error(fmt::format("{}: frame {} has no particles/position", path, k));
    if (pos->M != 3) throw io_error(fmt::format("{}: frame {}: particles/position is [{}][{}], not [N][3]", path, k, pos->N, pos->M));
    const IndexEntry* n = find(k, "particles/N");
    const std::uint64_t N = n ? static_cast<std::uint64_t>(as_double(*n).at(0)) : 0;
    if (N != pos->N) throw io_error(fmt::format("{}: frame {}: particles/N = {} but particles/position has {} rows", path, k, N, pos->N));
    if (k == 0) t.particles = static_cast<int>(N);
    else if (static_cast<int>(N) != t.particles)
      throw io_error(fmt::format("{}: frame {} has {} particles, frame 0 has {} (a set needs the same N in every frame)", path, k, N,
                                 t.particles));
    std::vector<double> box = {1, 1, 1, 0, 0, 0};  // HOOMD's default
    if (const IndexEntry* b = find(k, "configuration/box")) box = as_double(*b);
    if (box.size() != 6) throw io_error(fmt::format("{}: frame {}: configuration/box has {} values, not 6", path, k, box.size()));
    if (box[3] != 0 || box[4] != 0 || box[5] != 0)
      throw io_error(fmt::format("{}: frame {}: a tilted box (xy xz yz = {} {} {}); boltzmap's boxes are cubic", path, k, box[3],
                                 box[4], box[5]));
    const IndexEntry* d = find(k, "configuration/dimensions");
    const int dims = d ? static_cast<int>(as_double(*d).at(0)) : (box[2] == 0 ? 2 : 3);
    if (k == 0) t.dimension = dims;
    else if (dims != t.dimension)
      throw io_error(fmt::format("{}: frame {} is {}D, frame 0 is {}D", path, k, dims, t.dimension));
    t.box.push_back({box[0], box[1], dims == 2 ? 0.0 : box[2]});
    const IndexEntry* s = find(k, "configuration/step");
    t.steps.push_back(s ? static_cast<std::int64_t>(as_double(*s).at(0)) : 0);
    const std::vector<double> x = as_double(*pos);
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::size_t a = i % 3;
      const double L = a == 2 && dims == 2 ? 0.0 : box[a];
      t.positions.push_back(static_cast<float>(x[i] + 0.5 * L));  // back to the lower corner's frame
    }
    for (std::size_t j = 0; j < logs.size(); ++j) {
      const IndexEntry* e = find(k, logs[j]);
      log_values[j].push_back(e && e->N * e->M == 1 ? as_double(*e)[0] : std::nan(""));
    }
  }
  if (const IndexEntry* ty = find(0, "particles/types"); ty && ty->N >= 1) {
    const char* p = buf.data() + ty->location;
    t.species = std::string(p, strnlen(p, ty->M));
  }
  for (std::size_t j = 0; j < logs.size(); ++j) {
    std::string name = logs[j].substr(4);
    if (name.rfind("boltzmap/", 0) == 0) name = name.substr(9);
    t.data.emplace_back(name, std::move(log_values[j]));
  }
  return t;
}

}  // namespace boltzmap
