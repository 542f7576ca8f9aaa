// Small file-system helpers: folders, and atomic writes (write a temporary name in the same
// folder, then rename), so an interrupted job never leaves a truncated file that looks whole.
// Every write is checked down to fsync and close; a failed write throws io_error naming the file
// and the system's reason ("x.partial: write failed: No space left on device") and is never
// renamed into place. Tests: tests/io/test_files.cpp, tests/app/full_disk.sh.
#pragma once
#include <cstddef>
#include <string>

namespace boltzmap {

void ensure_directory(const std::string& path);
// Creates and removes a probe file in folder `dir` (made if missing): io_error, naming the
// folder, if it cannot be written. For checks before expensive work starts.
void check_writable_directory(const std::string& dir);
// The temporary name used while `path` is being written.
std::string partial_name(const std::string& path);
// fsync of a whole file (one that another library wrote, e.g. the MPI-IO H5MD files); io_error
// naming it and the errno text on failure.
void sync_file(const std::string& path);
// Renames the temporary to the final name (atomic on POSIX within one file system).
void commit_partial(const std::string& path);
// Removes the temporary of `path` if it exists (after a failed write; errors ignored).
void remove_partial(const std::string& path) noexcept;
// Writes `size` bytes to a new file `path` (truncated if it exists), fsyncs and closes it, checking
// every call; on failure removes it and throws io_error "path: write failed: strerror".
void write_bytes(const std::string& path, const void* data, std::size_t size);
// write_bytes to partial_name(path), then commit_partial(path).
void write_text_atomic(const std::string& path, const std::string& text);
// Appends text to path (created if missing), fsynced and closed, every call checked; a failed
// append is truncated away, so the file keeps only whole rows.
void append_text(const std::string& path, const std::string& text);
std::string read_text(const std::string& path);
// "; the file system of path has N kB free" when under 1 MiB is free there, else "": for failures
// whose errno the library lost (MPI-IO behind HDF5), so a full disk is still named.
std::string low_space_note(const std::string& path);
// "path: write failed: <strerror(err)>" (+ "; detail" when detail is not empty).
std::string write_failure(const std::string& path, int err, const std::string& detail = "");

}  // namespace boltzmap
