#include "dnmf/nmf/input_matrix.hpp"

#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/mpi/agree.hpp"

namespace dnmf::nmf {

template <class Scalar>
InputMatrixT<Scalar> load_input_matrix(const std::string& file, const std::string& dataset,
                                       bool transpose, mpi::Communicator& comm,
                                       bool nan_is_missing) {
  io::MatrixRowsT<Scalar> rows = io::read_matrix_rows<Scalar>(
      file, dataset, transpose, comm,
      nan_is_missing ? io::NanEntries::Missing : io::NanEntries::RefusedUnlessAsked);
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

// FILE:/PATH names a dataset of another file; /PATH alone one of the input.
std::string MaskOptions::mask_file() const {
  const std::size_t colon = mask.rfind(":/");
  return colon == std::string::npos ? "" : mask.substr(0, colon);
}

std::string MaskOptions::mask_path() const {
  const std::size_t colon = mask.rfind(":/");
  return colon == std::string::npos ? mask : mask.substr(colon + 1);
}

namespace {

/// The nonzero entries of a dense or sparse block of mask rows, as an EntryList.
EntryList nonzero_entries(const io::MatrixRowsT<double>& rows) {
  EntryList list;
  std::vector<Index> columns;
  if (const auto* dense = std::get_if<RowMatrix>(&rows.values)) {
    for (Index i = 0; i < dense->rows(); ++i) {
      columns.clear();
      for (Index j = 0; j < dense->cols(); ++j)
        if ((*dense)(i, j) != 0) columns.push_back(j);
      list.add_row(columns);
    }
    return list;
  }
  const auto& sparse = std::get<SparseRowMatrix>(rows.values);
  for (Index i = 0; i < sparse.outerSize(); ++i) {
    columns.clear();
    for (SparseRowMatrix::InnerIterator entry(sparse, i); entry; ++entry)
      if (entry.value() != 0) columns.push_back(entry.col());
    list.add_row(columns);
  }
  return list;
}

}  // namespace

template <class Scalar>
EntryList missing_entries(const InputMatrixT<Scalar>& input, const MaskOptions& options,
                          mpi::Communicator& comm) {
  EntryList missing;
  missing.starts.assign(static_cast<std::size_t>(input.block->rows()) + 1, 0);
  if (options.missing_nan) missing = take_out_nan_entries(*input.block);
  if (options.mask.empty()) return missing;
  const std::string file = options.mask_file().empty() ? input.file : options.mask_file();
  const std::string path = options.mask_path();
  const io::MatrixRowsT<double> mask =
      io::read_matrix_rows<double>(file, path, input.transposed, comm, io::NanEntries::Refused);
  if (mask.rows != input.rows || mask.cols != input.cols) {
    mpi::agree(comm, [&] {
      throw InputError(io::where(file, mask.dataset) + ": the mask is " +
                       std::to_string(mask.rows) + "x" + std::to_string(mask.cols) + ", but " +
                       io::where(input.file, input.dataset) + " is " + std::to_string(input.rows) +
                       "x" + std::to_string(input.cols) +
                       (input.transposed ? " (after --transpose)" : ""));
    });
  }
  return EntryList::merged(missing, nonzero_entries(mask));
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

template <class Scalar>
PreparedInput prepare_masked_input(const InputMatrixT<Scalar>& input, ScaledFactors factors,
                                   const std::string& if_all_zero, const MaskOptions& options,
                                   mpi::Communicator& comm) {
  PreparedInput prepared;
  prepared.missing = missing_entries(input, options, comm);
  prepared.scaled = scale_input(input, factors, if_all_zero, comm);
  return prepared;
}

template <class Scalar>
ScaledInput take_out_left_out_entries(const InputMatrixT<Scalar>& input,
                                      const PreparedInput& prepared, const MaskOptions& options,
                                      std::uint64_t seed, EntryMaskT<Scalar>& mask,
                                      mpi::Communicator& comm) {
  ScaledInput scaled = prepared.scaled;
  if (!options.any()) return scaled;
  mask = mpi::agreed(comm, [&] {
    try {
      return take_out_unobserved(*input.block, input.row_begin, prepared.missing,
                                 HeldOutSet(options.holdout, seed), comm);
    } catch (const InputError& error) {
      throw InputError(io::where(input.file, input.dataset) + ": " + error.what());
    }
  });
  scaled.statistics = input_statistics(*input.block, comm);
  return scaled;
}

template <class Scalar>
ScaledInput scale_masked_input(const InputMatrixT<Scalar>& input, ScaledFactors factors,
                               const std::string& if_all_zero, const MaskOptions& options,
                               std::uint64_t seed, EntryMaskT<Scalar>& mask,
                               mpi::Communicator& comm) {
  const PreparedInput prepared = prepare_masked_input(input, factors, if_all_zero, options, comm);
  return take_out_left_out_entries(input, prepared, options, seed, mask, comm);
}

#define DNMF_INSTANTIATE_INPUT_MATRIX(Scalar)                                                     \
  template InputMatrixT<Scalar> load_input_matrix<Scalar>(const std::string&, const std::string&, \
                                                          bool, mpi::Communicator&, bool);        \
  template EntryList missing_entries<Scalar>(const InputMatrixT<Scalar>&, const MaskOptions&,     \
                                             mpi::Communicator&);                                 \
  template ScaledInput scale_input<Scalar>(const InputMatrixT<Scalar>&, ScaledFactors,            \
                                           const std::string&, mpi::Communicator&);               \
  template ScaledInput scale_masked_input<Scalar>(                                                \
      const InputMatrixT<Scalar>&, ScaledFactors, const std::string&, const MaskOptions&,         \
      std::uint64_t, EntryMaskT<Scalar>&, mpi::Communicator&);                                    \
  template PreparedInput prepare_masked_input<Scalar>(const InputMatrixT<Scalar>&, ScaledFactors, \
                                                      const std::string&, const MaskOptions&,     \
                                                      mpi::Communicator&);                        \
  template ScaledInput take_out_left_out_entries<Scalar>(                                         \
      const InputMatrixT<Scalar>&, const PreparedInput&, const MaskOptions&, std::uint64_t,       \
      EntryMaskT<Scalar>&, mpi::Communicator&);
DNMF_INSTANTIATE_INPUT_MATRIX(float)
DNMF_INSTANTIATE_INPUT_MATRIX(double)
#undef DNMF_INSTANTIATE_INPUT_MATRIX

}  // namespace dnmf::nmf
