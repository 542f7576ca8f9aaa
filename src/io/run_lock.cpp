// See run_lock.hpp. The lock file's format, one `key = value` per line:
//   host = node17
//   pid = 4242
//   started = 2026-12-01T10:40:00Z
//   command = train
//   command_line = boltzmap train inputs/demo.toml --set seed=4
#include "io/run_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/check.hpp"
#include "core/error.hpp"
#include "io/files.hpp"

namespace boltzmap {

namespace {

struct Held {
  std::string path;
  int fd = -1;
  int count = 0;
};
// The folders this process holds, by canonical path (rank 0 only).
std::map<std::string, Held>& held() {
  static std::map<std::string, Held> h;
  return h;
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}

std::map<std::string, std::string> parse(const std::string& text) {
  std::map<std::string, std::string> kv;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    const auto eq = line.find(" = ");
    if (eq != std::string::npos) kv[line.substr(0, eq)] = line.substr(eq + 3);
  }
  return kv;
}

std::string read_fd(int fd) {
  std::string text;
  char buf[4096];
  if (lseek(fd, 0, SEEK_SET) < 0) return text;
  for (ssize_t n; (n = read(fd, buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  return text;
}

// Whether pid is a live boltzmap on this host. A pid that now belongs to another program (pids are
// reused, in containers quickly) does not hold the lock; neither does our own pid, since a lock we
// hold is found in held() before the file is looked at.
bool runs_boltzmap(long pid) {
  if (pid <= 0 || pid == static_cast<long>(getpid())) return false;
  if (kill(static_cast<pid_t>(pid), 0) != 0 && errno != EPERM) return false;
  std::ifstream cmd(fmt::format("/proc/{}/cmdline", pid), std::ios::binary);
  if (!cmd) return true;  // no /proc: trust kill()
  std::string text((std::istreambuf_iterator<char>(cmd)), std::istreambuf_iterator<char>());
  return text.empty() || text.find("boltzmap") != std::string::npos;
}

// Whether pid has the lock file (open as rfd here) open: a holder keeps its descriptor for as long
// as it holds the lock, so a live pid without it (a reused pid, even another boltzmap's) is no
// holder. Unknown (another user's process, no /proc): fall back to runs_boltzmap.
bool holds_lock_file(long pid, int rfd) {
  if (!runs_boltzmap(pid)) return false;
  struct stat lock{};
  if (fstat(rfd, &lock) != 0) return true;
  std::error_code ec;
  std::filesystem::directory_iterator fds(fmt::format("/proc/{}/fd", pid), ec);
  if (ec) return true;
  for (const auto& entry : fds) {
    struct stat s{};
    if (stat(entry.path().c_str(), &s) == 0 && s.st_dev == lock.st_dev && s.st_ino == lock.st_ino) return true;
  }
  return false;
}

bool same_file(int fd, const std::string& path) {
  struct stat a{}, b{};
  return fstat(fd, &a) == 0 && stat(path.c_str(), &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

std::string describe(const std::map<std::string, std::string>& h) {
  auto get = [&](const char* k) { return h.count(k) ? h.at(k) : std::string("?"); };
  return fmt::format("pid {} on host {}, since {}, running `{}`", get("pid"), get("host"), get("started"),
                     get("command_line"));
}

// Takes the lock file at `path`; returns "" and sets fd, or the reason it could not.
std::string acquire(const std::string& run_dir, const std::string& path, const std::string& command, int& fd) {
  const std::string me = host_name();
  for (int attempt = 0; attempt < 3; ++attempt) {
    fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0) {
      // flock as well: a second process on this host can then tell a live holder for certain,
      // even when pids were reused. File systems without flock still have the O_EXCL file.
      (void)flock(fd, LOCK_EX | LOCK_NB);
      const std::string text = fmt::format("host = {}\npid = {}\nstarted = {}\ncommand = {}\ncommand_line = {}\n", me,
                                           getpid(), utc_now(), command, one_line(process_command_line()));
      const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
      if (written) return "";
      const int err = errno;
      close(fd);
      unlink(path.c_str());
      fd = -1;
      return fmt::format("{}: cannot write the run folder's lock file: {}", path, std::strerror(err));
    }
    if (errno != EEXIST) return fmt::format("{}: cannot create the run folder's lock file: {}", path, std::strerror(errno));

    const int rfd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (rfd < 0) {
      if (errno == ENOENT) continue;  // released meanwhile: try again
      return fmt::format("{}: cannot read the run folder's lock file: {}", path, std::strerror(errno));
    }
    // A holder that has just created the file may not have written it yet: wait up to 1 s.
    std::map<std::string, std::string> h = parse(read_fd(rfd));
    for (int k = 0; k < 20 && !h.count("pid"); ++k) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      h = parse(read_fd(rfd));
    }
    const bool flock_free = flock(rfd, LOCK_EX | LOCK_NB) == 0;
    const bool here = h.count("host") && h.at("host") == me;
    long pid = 0;
    try {
      pid = h.count("pid") ? std::stol(h.at("pid")) : 0;
    } catch (const std::exception&) {
    }
    // Stale: made on this host by a process that is gone, or never written (a crash between the
    // create and the write) — and in both cases nobody flock()s it.
    const bool stale = flock_free && ((here && !holds_lock_file(pid, rfd)) || !h.count("pid"));
    if (stale) {
      spdlog::warn("{}: taking over a stale lock ({}): that process no longer exists or does not hold it", path,
                   h.count("pid") ? describe(h) : std::string("an empty lock file"));
      if (same_file(rfd, path)) unlink(path.c_str());
      close(rfd);
      continue;
    }
    close(rfd);
    if (here || !h.count("host"))
      return fmt::format("{} is in use by another boltzmap ({}); wait for it to finish, stop it, or use another "
                         "output_dir (lock file {})",
                         run_dir, describe(h), path);
    return fmt::format("{} is locked by a boltzmap on another host ({}); this host ({}) cannot tell whether it still "
                       "runs. If you are sure it does not, remove {}",
                       run_dir, describe(h), me, path);
  }
  return fmt::format("{}: the run folder's lock keeps changing hands; is another boltzmap starting there?", path);
}

}  // namespace

RunLock::RunLock(const std::string& run_dir, const Comm& comm, const std::string& command) {
  std::string error;
  if (comm.root()) {
    try {
      ensure_directory(run_dir);
      std::error_code ec;
      std::string key = std::filesystem::weakly_canonical(run_dir, ec).string();
      if (ec || key.empty()) key = run_dir;
      Held& h = held()[key];
      if (h.count == 0) {
        h.path = file_of(run_dir);
        error = acquire(run_dir, h.path, command, h.fd);
      }
      if (error.empty()) {
        ++h.count;
        key_ = key;
      } else {
        held().erase(key);
      }
    } catch (const Error& e) {
      error = e.what();
    }
  }
  comm.broadcast(error);
  if (!error.empty()) throw io_error(error);  // rank 0 holds nothing then (key_ is empty)
}

RunLock::~RunLock() {
  if (key_.empty()) return;
  auto it = held().find(key_);
  key_.clear();
  if (it == held().end() || --it->second.count > 0) return;
  Held& h = it->second;
  if (h.fd >= 0) {
    if (same_file(h.fd, h.path)) unlink(h.path.c_str());  // never remove a lock that is not ours
    close(h.fd);
  }
  held().erase(it);
}

void check_writable_folder(const std::string& dir) {
  const std::string probe = fmt::format("{}/.boltzmap-write-probe.{}", dir, getpid());
  const int fd = open(probe.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw io_error(fmt::format("{}: cannot write in this folder: {}", dir, std::strerror(errno)));
  close(fd);
  unlink(probe.c_str());
}

}  // namespace boltzmap
