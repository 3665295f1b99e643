#pragma once
// Named arrays: how parameters, buffers and optimizer state are handed to a file writer.

#include <string>
#include <vector>

#include "dnmf/nn/tensor.hpp"

namespace dnmf::nn {

/// One array a layer declares: its name inside the layer ("W"), its shape in row-major
/// (C / HDF5) order, and where it starts in the layer's slice of the flat buffer.
struct ArraySpec {
  std::string name;
  std::vector<Index> shape;
  Index offset = 0;

  Index size() const {
    Index count = 1;
    for (Index extent : shape) count *= extent;
    return count;
  }
};

/// One array of a whole model ("conv1/W"): a view into a flat buffer, row-major `shape`.
template <typename Scalar>
struct NamedArray {
  std::string name;
  std::vector<Index> shape;
  FlatMap<Scalar> values;
};

}  // namespace dnmf::nn
