#include "dnmf/core/error.hpp"

namespace dnmf {
namespace {

template <class E>
[[noreturn]] void throw_on_all_ranks(const std::string& message) {
  E error(message);
  error.set_on_all_ranks();
  throw error;
}

}  // namespace

void throw_agreed_error(ErrorKind kind, const std::string& message) {
  switch (kind) {
    case ErrorKind::Usage: throw_on_all_ranks<UsageError>(message);
    case ErrorKind::Input: throw_on_all_ranks<InputError>(message);
    case ErrorKind::Io: throw_on_all_ranks<IoError>(message);
    case ErrorKind::Mpi: throw_on_all_ranks<MpiError>(message);
    case ErrorKind::Internal: break;
  }
  Error error(ErrorKind::Internal, message);
  error.set_on_all_ranks();
  throw error;
}

}  // namespace dnmf
