// See files.hpp.
#include "io/files.hpp"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.hpp"

namespace boltzmap {

namespace fs = std::filesystem;

namespace {

// Writes all of data to fd and fsyncs it; returns 0 or the errno of the first failure.
int write_all(int fd, const char* data, std::size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    data += n;
    size -= static_cast<std::size_t>(n);
  }
  // A file system with delayed allocation (or NFS) may report a full disk only here.
  if (::fsync(fd) != 0 && errno != EINVAL) return errno;
  return 0;
}

// write_all, then close (whose failure counts too); the descriptor is closed either way.
int write_all_and_close(int fd, const char* data, std::size_t size) {
  int err = write_all(fd, data, size);
  if (::close(fd) != 0 && err == 0) err = errno;
  return err;
}

}  // namespace

std::string write_failure(const std::string& path, int err, const std::string& detail) {
  return path + ": write failed: " + std::strerror(err) + (detail.empty() ? "" : "; " + detail);
}

std::string low_space_note(const std::string& path) {
  const fs::path parent = fs::path(path).parent_path();
  struct statvfs st {};
  if (::statvfs(parent.empty() ? "." : parent.c_str(), &st) != 0) return "";
  const unsigned long long bytes = static_cast<unsigned long long>(st.f_bavail) * st.f_frsize;
  if (bytes >= (1ull << 20)) return "";
  return "; the file system holding it has " + std::to_string(bytes / 1024) + " kB free";
}

void ensure_directory(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) throw io_error(path + ": cannot create folder: " + ec.message());
}

void check_writable_directory(const std::string& dir) {
  ensure_directory(dir);
  const std::string probe = dir + "/.boltzmap_write_probe." + std::to_string(::getpid());
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error(dir + ": folder is not writable: " + std::strerror(errno));
  const int err = write_all_and_close(fd, "probe\n", 6);
  ::unlink(probe.c_str());
  if (err != 0) throw io_error(dir + ": folder is not writable: " + std::strerror(err));
}

std::string partial_name(const std::string& path) { return path + ".partial"; }

void sync_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw io_error(path + ": cannot open to sync it: " + std::strerror(errno));
  int err = ::fsync(fd) != 0 ? errno : 0;
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) throw io_error(write_failure(path, err));
}

void commit_partial(const std::string& path) {
  std::error_code ec;
  fs::rename(partial_name(path), path, ec);
  if (ec) throw io_error(path + ": cannot rename " + partial_name(path) + " into place: " + ec.message());
  // The rename itself reaches the disk only with its folder: sync that too, so that after a node
  // crash the final name is there exactly when the data are (best effort: some file systems
  // refuse fsync on a folder, which is not an error of ours).
  const std::string dir = fs::path(path).parent_path().empty() ? "." : fs::path(path).parent_path().string();
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

void remove_partial(const std::string& path) noexcept { ::unlink(partial_name(path).c_str()); }

void write_bytes(const std::string& path, const void* data, std::size_t size) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error(path + ": cannot open for writing: " + std::strerror(errno));
  const int err = write_all_and_close(fd, static_cast<const char*>(data), size);
  if (err != 0) {
    ::unlink(path.c_str());
    throw io_error(write_failure(path, err));
  }
}

void write_text_atomic(const std::string& path, const std::string& text) {
  write_bytes(partial_name(path), text.data(), text.size());
  commit_partial(path);
}

void append_text(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error(path + ": cannot open for appending: " + std::strerror(errno));
  const off_t before = ::lseek(fd, 0, SEEK_END);
  int err = write_all(fd, text.data(), text.size());
  if (err != 0 && before >= 0 && ::ftruncate(fd, before) == 0) ::fsync(fd);  // no half-written row stays
  if (::close(fd) != 0 && err == 0) err = errno;
  if (err != 0) throw io_error(write_failure(path, err));
}

std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw io_error(path + ": cannot open for reading");
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace boltzmap
