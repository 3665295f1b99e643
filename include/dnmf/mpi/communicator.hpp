#pragma once
// A thin, non-owning wrapper over an MPI communicator: the few collectives dnmf uses, with MPI
// error codes turned into exceptions, and a local account of time and bytes spent in them.
//
// Bytes are counted with the bandwidth-optimal algorithms' volume per rank (ring allreduce
// sends 2(p-1)/p of the buffer, reduce-scatter and allgather (p-1)/p of the whole), so the
// figure is comparable across MPI implementations and is 0 on one rank.

#include <mpi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "dnmf/mpi/datatype.hpp"

namespace dnmf::mpi {

class Communicator {
 public:
  /// Wraps, does not own: the caller keeps `comm` alive and frees it if it must be freed.
  explicit Communicator(MPI_Comm comm);

  static Communicator world() { return Communicator(MPI_COMM_WORLD); }
  static Communicator self() { return Communicator(MPI_COMM_SELF); }

  int rank() const { return rank_; }
  int size() const { return size_; }
  bool is_root() const { return rank_ == 0; }
  MPI_Comm raw() const { return comm_; }

  /// In place: data[i] becomes the sum over ranks.
  template <class T>
  void allreduce_sum(T* data, std::int64_t count) {
    allreduce(data, count, Datatype<T>::get(), sizeof(T), MPI_SUM);
  }
  template <class T>
  T sum(T value) {
    allreduce(&value, 1, Datatype<T>::get(), sizeof(T), MPI_SUM);
    return value;
  }
  template <class T>
  T max(T value) {
    allreduce(&value, 1, Datatype<T>::get(), sizeof(T), MPI_MAX);
    return value;
  }
  template <class T>
  T min(T value) {
    allreduce(&value, 1, Datatype<T>::get(), sizeof(T), MPI_MIN);
    return value;
  }

  /// Sums `send` (the length of sum(counts)) over ranks; rank r receives block r (counts[r]).
  template <class T>
  void reduce_scatter_sum(const T* send, T* receive, const std::vector<int>& counts) {
    reduce_scatter(send, receive, counts, Datatype<T>::get(), sizeof(T));
  }
  /// `data` holds the blocks of all ranks back to back (block r has counts[r] values); each rank
  /// has filled its own block, and afterwards every rank holds all of them.
  template <class T>
  void allgather_in_place(T* data, const std::vector<int>& counts) {
    allgather(data, counts, Datatype<T>::get(), sizeof(T));
  }
  /// Ring reduce-scatter in place (Patarasuk & Yuan 2009, "Bandwidth optimal all-reduce
  /// algorithms for clusters of workstations"): `data` holds blocks laid out alike on every rank
  /// (block b: counts[b] values from displacements[b]); afterwards block `rank()` of this rank's
  /// `data` is that block summed over the ranks (the other blocks hold partial sums). `scratch`
  /// holds the largest block. Each block crosses once and is summed where it lands, where Open
  /// MPI's MPI_Reduce_scatter first copies the whole input to a buffer of its own. Float and
  /// double; allocates nothing.
  template <class T>
  void ring_reduce_scatter_sum(T* data, const std::vector<int>& counts,
                               const std::vector<int>& displacements, T* scratch);
  /// Ring allgather in place: each rank has filled block `rank()` of `data` (laid out as above);
  /// afterwards every rank holds all the blocks. Allocates nothing.
  template <class T>
  void ring_allgather(T* data, const std::vector<int>& counts,
                      const std::vector<int>& displacements);
  /// Every rank's value, in rank order.
  std::vector<double> gather_all(double value);
  void broadcast(std::string& text, int root);
  template <class T>
  void broadcast(T* data, std::int64_t count, int root) {
    check(MPI_Bcast(data, checked_count(count), Datatype<T>::get(), root, comm_), "MPI_Bcast");
  }
  void barrier();

  /// Time (seconds) and bytes this rank has spent in collectives since construction.
  double seconds_in_collectives() const { return seconds_; }
  std::uint64_t bytes_in_collectives() const { return bytes_; }
  /// Adds an exchange made outside this class (through shared memory, say) to those totals.
  void account(double seconds, double bytes);

  /// Throws MpiError naming `what` unless `code` is MPI_SUCCESS.
  static void check(int code, const char* what);

 private:
  void allreduce(void* data, std::int64_t count, MPI_Datatype type, std::size_t item_bytes,
                 MPI_Op op);
  void reduce_scatter(const void* send, void* receive, const std::vector<int>& counts,
                      MPI_Datatype type, std::size_t item_bytes);
  void allgather(void* data, const std::vector<int>& counts, MPI_Datatype type,
                 std::size_t item_bytes);
  static int checked_count(std::int64_t count);
  /// Sends block `send` of `data` to the next rank while receiving the previous rank's block
  /// `receive` into `into`.
  template <class T>
  void ring_shift(T* data, int send, int receive, T* into, const std::vector<int>& counts,
                  const std::vector<int>& displacements);

  MPI_Comm comm_;
  int rank_ = 0;
  int size_ = 1;
  double seconds_ = 0;
  std::uint64_t bytes_ = 0;
};

}  // namespace dnmf::mpi
