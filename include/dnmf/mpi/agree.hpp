#pragma once
// Collective error agreement: run a step on every rank; if it throws a dnmf::Error on any rank,
// every rank throws the same error (the one of the lowest failing rank). Bad input then stops the
// whole job with one message and never leaves a rank waiting in a later collective.

#include <functional>
#include <optional>
#include <type_traits>
#include <utility>

#include "dnmf/mpi/communicator.hpp"

namespace dnmf::mpi {

void agree(Communicator& comm, const std::function<void()>& step);

/// The value `step` returns on this rank, once it returned on every rank; otherwise every rank
/// throws the lowest failing rank's error, as agree(). The result need not be default
/// constructible: `auto network = agreed(comm, [&] { return make_network(...); });`
template <class Step>
std::invoke_result_t<Step&> agreed(Communicator& comm, Step&& step) {
  std::optional<std::invoke_result_t<Step&>> value;
  agree(comm, [&] { value.emplace(step()); });
  return std::move(*value);
}

}  // namespace dnmf::mpi
