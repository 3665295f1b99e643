#include "dnmf/mpi/agree.hpp"

#include <cstdint>
#include <string>

#include "dnmf/core/error.hpp"

namespace dnmf::mpi {

void agree(Communicator& comm, const std::function<void()>& step) {
  std::int32_t kind = -1;
  std::string message;
  try {
    step();
  } catch (const Error& error) {
    kind = static_cast<std::int32_t>(error.kind());
    message = error.what();
  } catch (const std::exception& error) {
    kind = static_cast<std::int32_t>(ErrorKind::Internal);
    message = error.what();
  }
  const std::int32_t first_failing = comm.min(kind >= 0 ? comm.rank() : comm.size());
  if (first_failing == comm.size()) return;
  comm.broadcast(&kind, 1, first_failing);
  comm.broadcast(message, first_failing);
  throw_agreed_error(static_cast<ErrorKind>(kind), message);
}

}  // namespace dnmf::mpi
