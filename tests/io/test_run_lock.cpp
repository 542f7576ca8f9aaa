// RunLock (src/io/run_lock.hpp) within one process: the lock file names this host and pid, is
// re-entrant (boltzmap run's stages) and removed only by the outermost holder; stale, empty and
// foreign-host locks. Two processes: tests/app/concurrency.sh.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/error.hpp"
#include "io/files.hpp"
#include "io/run_lock.hpp"

namespace boltzmap {
namespace {

std::string fresh_dir(const std::string& name) {
  const char* env = std::getenv("BOLTZMAP_TEST_TMP");
  std::filesystem::path p = env && *env ? env : "/tmp/boltzmap_test_tmp";
  p /= "run_lock/" + name;
  std::filesystem::remove_all(p);
  return p.string();
}

void write_lock(const std::string& dir, const std::string& host, long pid) {
  std::filesystem::create_directories(dir);
  std::ofstream(RunLock::file_of(dir)) << "host = " << host << "\npid = " << pid
                                       << "\nstarted = 2026-01-01T00:00:00Z\ncommand = sample\ncommand_line = boltzmap x\n";
}

TEST(RunLock, NamesTheHolderAndIsReentrant) {
  const Comm comm;
  const std::string dir = fresh_dir("reentrant"), file = RunLock::file_of(dir);
  {
    const RunLock outer(dir, comm, "run");
    ASSERT_TRUE(std::filesystem::exists(file));  // the folder was created too
    const std::string text = read_text(file);
    EXPECT_NE(text.find("host = " + host_name() + "\n"), std::string::npos) << text;
    EXPECT_NE(text.find("pid = " + std::to_string(getpid()) + "\n"), std::string::npos) << text;
    EXPECT_NE(text.find("command = run\n"), std::string::npos) << text;
    {
      const RunLock inner(dir + "/", comm, "sample");  // the same folder, spelt differently
      EXPECT_TRUE(std::filesystem::exists(file));
    }
    EXPECT_TRUE(std::filesystem::exists(file)) << "the inner lock removed the outer one's file";
  }
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST(RunLock, TakesOverAStaleLockOfThisHost) {
  const Comm comm;
  const std::string dir = fresh_dir("stale");
  write_lock(dir, host_name(), getpid());  // our own pid, but we do not hold it: a previous process's
  {
    const RunLock lock(dir, comm, "train");
    EXPECT_NE(read_text(RunLock::file_of(dir)).find("command = train"), std::string::npos);
  }
  std::filesystem::create_directories(dir);
  std::ofstream(RunLock::file_of(dir)).flush();  // empty: a crash between create and write
  { const RunLock lock(dir, comm, "train"); }
  EXPECT_FALSE(std::filesystem::exists(RunLock::file_of(dir)));
}

TEST(RunLock, RefusesALockOfAnotherHostNamingTheFile) {
  const Comm comm;
  const std::string dir = fresh_dir("foreign");
  write_lock(dir, "elsewhere.invalid", 1);
  try {
    const RunLock lock(dir, comm, "sample");
    FAIL() << "took a lock of another host";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::io);
    const std::string what = e.what();
    EXPECT_NE(what.find("elsewhere.invalid"), std::string::npos) << what;
    EXPECT_NE(what.find("remove " + RunLock::file_of(dir)), std::string::npos) << what;
  }
  EXPECT_TRUE(std::filesystem::exists(RunLock::file_of(dir)));  // left alone
}

TEST(RunLock, WritableFolderProbe) {
  const std::string dir = fresh_dir("probe");
  ensure_directory(dir);
  EXPECT_NO_THROW(check_writable_folder(dir));
  EXPECT_TRUE(std::filesystem::is_empty(dir));  // the probe is removed
  try {
    check_writable_folder("/proc/self/fdinfo");  // not writable, even by root
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::io);
    EXPECT_NE(std::string(e.what()).find("/proc/self/fdinfo: cannot write"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace boltzmap
