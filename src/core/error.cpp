#include "dnmf/core/error.hpp"

namespace dnmf {
namespace {

template <class E>
[[noreturn]] void throw_typed(const std::string& message, bool on_all_ranks) {
  E error(message);
  if (on_all_ranks) error.set_on_all_ranks();
  throw error;
}

[[noreturn]] void throw_of_kind(ErrorKind kind, const std::string& message, bool on_all_ranks) {
  switch (kind) {
    case ErrorKind::Usage: throw_typed<UsageError>(message, on_all_ranks);
    case ErrorKind::Input: throw_typed<InputError>(message, on_all_ranks);
    case ErrorKind::Io: throw_typed<IoError>(message, on_all_ranks);
    case ErrorKind::Mpi: throw_typed<MpiError>(message, on_all_ranks);
    case ErrorKind::Internal: break;
  }
  Error error(ErrorKind::Internal, message);
  if (on_all_ranks) error.set_on_all_ranks();
  throw error;
}

}  // namespace

void throw_error(ErrorKind kind, const std::string& message) {
  throw_of_kind(kind, message, false);
}

void throw_agreed_error(ErrorKind kind, const std::string& message) {
  throw_of_kind(kind, message, true);
}

}  // namespace dnmf
