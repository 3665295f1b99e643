#pragma once
// Collective error agreement: run a step on every rank; if it throws a dnmf::Error on any rank,
// every rank throws the same error (the one of the lowest failing rank). Bad input then stops the
// whole job with one message and never leaves a rank waiting in a later collective.

#include <functional>

#include "dnmf/mpi/communicator.hpp"

namespace dnmf::mpi {

void agree(Communicator& comm, const std::function<void()>& step);

}  // namespace dnmf::mpi
