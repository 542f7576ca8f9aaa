// One writer per run folder. RunLock holds <run>/.boltzmap.lock for as long as it lives: the file
// is created with O_CREAT|O_EXCL (atomic, also on NFS) and flock()ed while held, and it names the
// holder — host, pid, start time (UTC), subcommand and command line — so a second process gets
// exit 4 saying who writes there. A lock left by a process that died is taken over with a warning
// when it was made on this host and its pid no longer runs boltzmap; one from another host is
// never taken over (the message names the file to remove). Every subcommand that writes in the
// run folder takes it right after the folder exists; an MPI job is one writer: rank 0 takes the
// lock and broadcasts the outcome, so all ranks fail or go on together. Re-entrant within a process
// (boltzmap run calls sample, train, ... which take it again): a process-wide count per folder.
// Tests: tests/app/concurrency.sh.
#pragma once
#include <string>

#include "parallel/comm.hpp"
#include "io/run_folder.hpp"

namespace boltzmap {

class RunLock {
 public:
  // Collective over comm. Creates run_dir (on rank 0) when it does not exist. Throws io_error on
  // every rank when the folder is held by another process or the lock cannot be written.
  RunLock(const std::string& run_dir, const Comm& comm, const std::string& command);
  ~RunLock();  // local: removes the file when the outermost lock of this process ends
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

  static std::string file_of(const std::string& run_dir) { return RunFolder{run_dir}.lock(); }

 private:
  std::string key_;  // the folder's canonical path on rank 0; empty elsewhere
};

// Throws io_error (exit 4, naming the folder and strerror) unless a file can be created in dir:
// a probe, so that an unwritable folder is found before hours of work rather than at their end.
void check_writable_folder(const std::string& dir);

}  // namespace boltzmap
