#pragma once
// The error kinds of dnmf. Each carries one line of text meant for the user; main() turns
// them into that line on rank 0 and an exit code (2 for usage, 1 for everything else).

#include <stdexcept>
#include <string>

namespace dnmf {

enum class ErrorKind { Usage = 0, Input = 1, Io = 2, Mpi = 3, Internal = 4 };

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }
  int exit_code() const { return kind_ == ErrorKind::Usage ? 2 : 1; }
  /// True once every rank is known to hold this same error (see mpi::agree): the job can then
  /// end in order; an error raised on some ranks only must abort the job instead.
  bool on_all_ranks() const { return on_all_ranks_; }
  void set_on_all_ranks() { on_all_ranks_ = true; }

 private:
  ErrorKind kind_;
  bool on_all_ranks_ = false;
};

/// A malformed command line: unknown option, bad value, missing required option.
class UsageError : public Error {
 public:
  explicit UsageError(const std::string& message) : Error(ErrorKind::Usage, message) {}
};

/// Input data that cannot be used: wrong shape, type, NaN, negative values, ...
class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(ErrorKind::Input, message) {}
};

/// A file that cannot be opened, read, created or renamed.
class IoError : public Error {
 public:
  explicit IoError(const std::string& message) : Error(ErrorKind::Io, message) {}
};

/// An MPI call that returned an error code.
class MpiError : public Error {
 public:
  explicit MpiError(const std::string& message) : Error(ErrorKind::Mpi, message) {}
};

/// Throws the error class of `kind` (UsageError, InputError, ...) with `message`.
[[noreturn]] void throw_error(ErrorKind kind, const std::string& message);

/// Rebuilds an error of the given kind after its text has been broadcast to all ranks.
[[noreturn]] void throw_agreed_error(ErrorKind kind, const std::string& message);

}  // namespace dnmf
