#pragma once
// A guard for the few HDF5 reads that a corrupted file can turn into an endless loop or a crash
// inside the library itself: HDF5 1.10.8 loops forever in H5HG_read on a global heap collection
// whose free-space object has size zero, and runs off its buffer (SIGSEGV) on an object that
// claims more bytes than the collection holds. Both are reached by reading a variable-length
// string attribute; h5py hangs and crashes on the same files.
//
// While a ReadGuard lives, a watchdog thread ends the process once the read has taken longer
// than kReadSeconds, and SIGSEGV and SIGBUS end it too, each with one line naming what was being
// read and exit code 1. Rank 0 prints the line; another rank waits two seconds first (the
// launcher ends the job when rank 0 exits) and then prints it with its rank. The read is local
// (no collective), so ending the process is the only way out, and the launcher sees it end.

#include <string>

namespace dnmf::io {

class ReadGuard {
 public:
  /// A read of a few bytes finishes in microseconds; ten seconds allows a very slow file system.
  static constexpr int kReadSeconds = 10;

  /// `what`: e.g. "cells.h5ad: attribute encoding-type"; `rank`: this process's rank.
  ReadGuard(const std::string& what, int rank);
  ~ReadGuard();
  ReadGuard(const ReadGuard&) = delete;
  ReadGuard& operator=(const ReadGuard&) = delete;
};

}  // namespace dnmf::io
