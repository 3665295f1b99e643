#pragma once
// C++ type -> MPI datatype, checked at compile time: MPI_INT is never written by hand next to a
// 64-bit integer.

#include <mpi.h>

#include <cstdint>
#include <type_traits>

namespace dnmf::mpi {

template <class T>
struct Datatype {
  static_assert(!std::is_same_v<T, T>, "no MPI datatype is mapped for this C++ type");
};
template <>
struct Datatype<double> {
  static MPI_Datatype get() { return MPI_DOUBLE; }
};
template <>
struct Datatype<float> {
  static MPI_Datatype get() { return MPI_FLOAT; }
};
template <>
struct Datatype<char> {
  static MPI_Datatype get() { return MPI_CHAR; }
};
template <>
struct Datatype<std::int32_t> {
  static MPI_Datatype get() { return MPI_INT32_T; }
};
template <>
struct Datatype<std::int64_t> {
  static MPI_Datatype get() { return MPI_INT64_T; }
};
template <>
struct Datatype<std::uint64_t> {
  static MPI_Datatype get() { return MPI_UINT64_T; }
};

}  // namespace dnmf::mpi
