#pragma once
// The files of one run, checked together before any work, and the last step of every output:
// moving the finished temporary file to its name.
//
// - No output is the same file as an input of the run, nor as another output, --force or not.
//   Files are compared by device and inode, so a symbolic or hard link to an input is that input.
// - Without --force no output replaces an existing file: not at the start, and not one that
//   another run created meanwhile (the final rename fails if the name is taken by then).
// - Inputs are regular files: opening a FIFO would wait for a writer forever.

#include <string>
#include <vector>

#include "dnmf/mpi/communicator.hpp"

namespace dnmf::io {

/// What moving a finished output into place does when its name exists by then.
enum class IfExists { Fail, Replace };

class RunFiles {
 public:
  /// A file the run reads, named by `option` ("--input"); an empty path (not given) is skipped.
  RunFiles& input(const std::string& option, const std::string& path);
  /// A file the run writes. `continues`: the option of an input this output may be, and may
  /// replace without --force (a --checkpoint continuing the --resume file it was read from).
  RunFiles& output(const std::string& option, const std::string& path,
                   const std::string& continues = "");

  /// Collective (rank 0 looks, every rank gets its verdict), before any work: IoError naming the
  /// file unless every output's directory exists and is writable, no output exists (unless
  /// `force`, or it is the input it continues), no output is an input or another output.
  void check(bool force, mpi::Communicator& comm);

  /// After check(): how the first write of the output named by `option` treats an existing
  /// file: Replace with --force, or when the output is the input it continues.
  IfExists if_exists(const std::string& option) const;

 private:
  struct File {
    std::string option;
    std::string path;
    std::string continues;
    IfExists if_exists = IfExists::Fail;
  };
  std::vector<File> inputs_;
  std::vector<File> outputs_;
};

/// IoError naming `path` unless it is a regular file (or a link to one): missing, a directory,
/// a FIFO, a socket or a device. Not collective.
void require_regular_file(const std::string& path);

/// The hidden name beside `target` that an output is written to until it is complete:
/// ".NAME.tmp-PID" in the same directory (so the final rename stays on one file system).
std::string temporary_beside(const std::string& target);

/// Renames the finished `temporary` to `target`. With IfExists::Fail an existing target is kept
/// and an IoError names it: the check and the rename are one atomic step. Not collective: one
/// rank moves, inside an agreement. The temporary file stays where it is on failure.
void move_into_place(const std::string& temporary, const std::string& target, IfExists if_exists);

}  // namespace dnmf::io
