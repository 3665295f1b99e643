#include "dnmf/nmf/input_matrix.hpp"

#include <type_traits>
#include <utility>
#include <variant>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/mpi/agree.hpp"

namespace dnmf::nmf {

template <class Scalar>
InputMatrixT<Scalar> load_input_matrix(const std::string& file, const std::string& dataset,
                                       bool transpose, mpi::Communicator& comm) {
  io::MatrixRowsT<Scalar> rows = io::read_matrix_rows<Scalar>(file, dataset, transpose, comm);
  InputMatrixT<Scalar> input;
  input.block = std::visit(
      [](auto& values) -> std::unique_ptr<LocalBlockT<Scalar>> {
        using Values = std::decay_t<decltype(values)>;
        return std::make_unique<StoredBlock<Values>>(std::move(values));
      },
      rows.values);
  static_cast<io::MatrixSource&>(input) = std::move(static_cast<io::MatrixSource&>(rows));
  return input;
}

template <class Scalar>
ScaledInput scale_input(const InputMatrixT<Scalar>& input, ScaledFactors factors,
                        const std::string& if_all_zero, mpi::Communicator& comm) {
  const InputScaling scaling = normalize_input(*input.block, factors, comm);
  if (scaling.largest_entry == 0) {
    mpi::agree(comm, [&] {
      throw InputError(io::where(input.file, input.dataset) + ": every entry is zero; " +
                       if_all_zero);
    });
  }
  return {scaling, input_statistics(*input.block, comm)};
}

#define DNMF_INSTANTIATE_INPUT_MATRIX(Scalar)                                                     \
  template InputMatrixT<Scalar> load_input_matrix<Scalar>(const std::string&, const std::string&, \
                                                          bool, mpi::Communicator&);              \
  template ScaledInput scale_input<Scalar>(const InputMatrixT<Scalar>&, ScaledFactors,            \
                                           const std::string&, mpi::Communicator&);
DNMF_INSTANTIATE_INPUT_MATRIX(float)
DNMF_INSTANTIATE_INPUT_MATRIX(double)
#undef DNMF_INSTANTIATE_INPUT_MATRIX

}  // namespace dnmf::nmf
