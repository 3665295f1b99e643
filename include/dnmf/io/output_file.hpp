#pragma once
// Writing an HDF5 result in parallel, atomically: everything goes to a temporary file beside
// the target, renamed to the target by commit(). A run that fails (or is destroyed before
// commit) removes the temporary file, so no half-written output ever has the real name.
//
// No HDF5 call here is collective, so no failure can leave a rank waiting inside HDF5 or MPI-IO
// (a full disk once did): rank 0 alone holds the file through HDF5's POSIX driver and writes its
// structure (groups, dataset layouts, attributes); every dataset's raw data is one contiguous
// block placed when the dataset is created, and each rank writes its own rows of it with pwrite
// at the offset rank 0 broadcasts. Every step ends in mpi::agree, so an error on any rank is
// thrown on all of them, and commit() syncs every rank's writes before the rename.

#include <cstdint>
#include <string>
#include <vector>

#include "dnmf/core/matrix.hpp"
#include "dnmf/io/hdf5_handle.hpp"
#include "dnmf/io/run_files.hpp"
#include "dnmf/mpi/communicator.hpp"

namespace dnmf::io {

class OutputFile {
 public:
  /// Collective: creates the temporary file. `if_exists`: whether commit() may replace a file
  /// that has the target's name by then (RunFiles::check has refused one at the start).
  OutputFile(const std::string& target, mpi::Communicator& comm,
             IfExists if_exists = IfExists::Fail);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  /// Collective: a (global_rows x cols) dataset of T (float64 for double, float32 for float) to
  /// which each rank writes its rows [row_begin, row_begin + local_rows) from `local`, a
  /// row-major local_rows x cols array.
  template <class T>
  void write_rows(const std::string& name, std::int64_t global_rows, std::int64_t cols,
                  const T* local, std::int64_t row_begin, std::int64_t local_rows);
  /// Collective: a matrix every rank holds identically (rank 0's copy is written).
  template <class Scalar>
  void write_matrix(const std::string& name, const RowMatrixT<Scalar>& matrix);
  /// Collective: a 1-D float64 dataset every rank holds identically.
  void write_vector(const std::string& name, const std::vector<double>& values);

  /// Collective: an array of row-major `shape` stored as T (float, double, std::int64_t or
  /// std::uint8_t) that every rank holds identically (rank 0's copy is written).
  template <class T>
  void write_array(const std::string& name, const std::vector<std::int64_t>& shape,
                   const T* values);

  /// Collective, identical values on every rank: attributes of the root group.
  void set_attribute(const std::string& name, const std::string& value);
  void set_attribute(const std::string& name, double value);
  void set_attribute(const std::string& name, std::int64_t value);
  /// Collective: an attribute of the group or dataset `object` (which exists by then): text, or
  /// a 1-D float64 array (empty too), rank 0's values.
  void set_attribute(const std::string& object, const std::string& name, const std::string& value);
  void set_attribute(const std::string& object, const std::string& name,
                     const std::vector<double>& values);
  /// Collective: an (empty) group, with the missing groups on its way.
  void create_group(const std::string& name);
  /// Collective: a 1-D dataset of variable-length UTF-8 strings, rank 0's written (by HDF5 on
  /// rank 0: names and labels, not bulk data).
  void write_strings(const std::string& name, const std::vector<std::string>& values);
  /// Collective: closes the file and renames it to the target; IoError on every rank if that
  /// fails, or if the target exists by then and may not be replaced.
  void commit();

 private:
  Handle create_dataset(const std::string& name, const std::vector<hsize_t>& dims, hid_t type);
  void write_scalar_attribute(const std::string& name, hid_t file_type, hid_t memory_type,
                              const void* value);
  /// Rank 0: creates and writes one attribute of `object`.
  void write_object_attribute(const std::string& object, const std::string& name, hid_t file_type,
                              hid_t memory_type, hid_t space, const void* value);
  template <class T>
  void write_block(const std::string& name, const std::vector<hsize_t>& dims, const T* local,
                   std::int64_t row_begin, std::int64_t local_rows);

  std::string target_;
  std::string temporary_;
  mpi::Communicator& comm_;
  IfExists if_exists_;
  Handle file_;   // rank 0 only
  int raw_ = -1;  // every rank: the temporary file, for its rows of the raw data
  bool committed_ = false;
};

}  // namespace dnmf::io
