#pragma once
// The matrix a factorization or transform works on (dnmf_nmf_files): this rank's rows as read
// by io/matrix_rows.hpp, held as the solvers' LocalBlock, and scaled as nmf/input_scaling.hpp
// says.

#include <memory>
#include <string>

#include "dnmf/io/matrix_rows.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "dnmf/nmf/factors.hpp"
#include "dnmf/nmf/input_scaling.hpp"
#include "dnmf/nmf/local_block.hpp"

namespace dnmf::nmf {

template <class Scalar>
struct InputMatrixT : io::MatrixSource {
  std::unique_ptr<LocalBlockT<Scalar>> block;
};
using InputMatrix = InputMatrixT<double>;

/// Collective: io::read_matrix_rows, the rows held as a dense or a sparse block.
template <class Scalar = double>
InputMatrixT<Scalar> load_input_matrix(const std::string& file, const std::string& dataset,
                                       bool transpose, mpi::Communicator& comm);

/// The scale the solvers work at and the statistics of the scaled matrix.
struct ScaledInput {
  InputScaling scaling;
  InputStatistics statistics;
};

/// Collective: scales `input`'s block (normalize_input); an InputError naming the input, ending
/// in `if_all_zero` ("nothing to factorize"), when every entry is zero.
template <class Scalar>
ScaledInput scale_input(const InputMatrixT<Scalar>& input, ScaledFactors factors,
                        const std::string& if_all_zero, mpi::Communicator& comm);

}  // namespace dnmf::nmf
