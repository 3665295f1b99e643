#include "dnmf/mpi/communicator.hpp"

#include <limits>
#include <numeric>

#include "dnmf/core/error.hpp"

namespace dnmf::mpi {

Communicator::Communicator(MPI_Comm comm) : comm_(comm) {
  check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
  check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
}

void Communicator::check(int code, const char* what) {
  if (code == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int length = 0;
  MPI_Error_string(code, text, &length);
  throw MpiError(std::string(what) +
                 " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

int Communicator::checked_count(std::int64_t count) {
  if (count < 0 || count > std::numeric_limits<int>::max()) {
    throw MpiError("a collective of " + std::to_string(count) + " values exceeds MPI's int counts");
  }
  return static_cast<int>(count);
}

void Communicator::account(double seconds, double bytes) {
  seconds_ += seconds;
  bytes_ += static_cast<std::uint64_t>(bytes);
}

void Communicator::allreduce(void* data, std::int64_t count, MPI_Datatype type,
                             std::size_t item_bytes, MPI_Op op) {
  const double start = MPI_Wtime();
  check(MPI_Allreduce(MPI_IN_PLACE, data, checked_count(count), type, op, comm_), "MPI_Allreduce");
  const double p = size_;
  account(MPI_Wtime() - start,
          2.0 * (p - 1) / p * static_cast<double>(count) * static_cast<double>(item_bytes));
}

void Communicator::reduce_scatter(const void* send, void* receive, const std::vector<int>& counts,
                                  MPI_Datatype type, std::size_t item_bytes) {
  const double start = MPI_Wtime();
  check(MPI_Reduce_scatter(send, receive, counts.data(), type, MPI_SUM, comm_),
        "MPI_Reduce_scatter");
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  const double p = size_;
  account(MPI_Wtime() - start, (p - 1) / p * total * static_cast<double>(item_bytes));
}

void Communicator::allgather(void* data, const std::vector<int>& counts, MPI_Datatype type,
                             std::size_t item_bytes) {
  const double start = MPI_Wtime();
  std::vector<int> displacements(counts.size(), 0);
  std::partial_sum(counts.begin(), counts.end() - 1, displacements.begin() + 1);
  check(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, data, counts.data(),
                       displacements.data(), type, comm_),
        "MPI_Allgatherv");
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  const double p = size_;
  account(MPI_Wtime() - start, (p - 1) / p * total * static_cast<double>(item_bytes));
}

template <class T>
void Communicator::ring_shift(T* data, int send, int receive, T* into,
                              const std::vector<int>& counts,
                              const std::vector<int>& displacements) {
  const int next = (rank_ + 1) % size_;
  const int previous = (rank_ + size_ - 1) % size_;
  const auto s = static_cast<std::size_t>(send);
  const auto r = static_cast<std::size_t>(receive);
  check(MPI_Sendrecv(data + displacements[s], counts[s], Datatype<T>::get(), next, 0, into,
                     counts[r], Datatype<T>::get(), previous, 0, comm_, MPI_STATUS_IGNORE),
        "MPI_Sendrecv");
}

template <class T>
void Communicator::ring_reduce_scatter_sum(T* data, const std::vector<int>& counts,
                                           const std::vector<int>& displacements, T* scratch) {
  const double start = MPI_Wtime();
  // Step s passes on block rank - s - 1 (summed over s + 1 ranks) and adds this rank's values
  // to block rank - s - 2; after size - 1 steps block rank holds every rank's values.
  for (int step = 0; step + 1 < size_; ++step) {
    const int send = (rank_ - step - 1 + 2 * size_) % size_;
    const int receive = (rank_ - step - 2 + 2 * size_) % size_;
    ring_shift(data, send, receive, scratch, counts, displacements);
    T* block = data + displacements[static_cast<std::size_t>(receive)];
    for (int i = 0; i < counts[static_cast<std::size_t>(receive)]; ++i) block[i] += scratch[i];
  }
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  const double p = size_;
  account(MPI_Wtime() - start, (p - 1) / p * total * sizeof(T));
}

template <class T>
void Communicator::ring_allgather(T* data, const std::vector<int>& counts,
                                  const std::vector<int>& displacements) {
  const double start = MPI_Wtime();
  // Step s passes on block rank - s and receives block rank - s - 1 in place.
  for (int step = 0; step + 1 < size_; ++step) {
    const int send = (rank_ - step + size_) % size_;
    const int receive = (rank_ - step - 1 + size_) % size_;
    ring_shift(data, send, receive, data + displacements[static_cast<std::size_t>(receive)], counts,
               displacements);
  }
  const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
  const double p = size_;
  account(MPI_Wtime() - start, (p - 1) / p * total * sizeof(T));
}

template void Communicator::ring_reduce_scatter_sum(float*, const std::vector<int>&,
                                                    const std::vector<int>&, float*);
template void Communicator::ring_reduce_scatter_sum(double*, const std::vector<int>&,
                                                    const std::vector<int>&, double*);
template void Communicator::ring_allgather(float*, const std::vector<int>&,
                                           const std::vector<int>&);
template void Communicator::ring_allgather(double*, const std::vector<int>&,
                                           const std::vector<int>&);
template void Communicator::ring_allgather(std::int32_t*, const std::vector<int>&,
                                           const std::vector<int>&);

std::vector<double> Communicator::gather_all(double value) {
  std::vector<double> values(static_cast<std::size_t>(size_));
  check(MPI_Allgather(&value, 1, MPI_DOUBLE, values.data(), 1, MPI_DOUBLE, comm_), "MPI_Allgather");
  return values;
}

void Communicator::broadcast(std::string& text, int root) {
  std::int64_t length = static_cast<std::int64_t>(text.size());
  broadcast(&length, 1, root);
  text.resize(static_cast<std::size_t>(length));
  if (length > 0) broadcast(text.data(), length, root);
}

void Communicator::barrier() { check(MPI_Barrier(comm_), "MPI_Barrier"); }

}  // namespace dnmf::mpi
