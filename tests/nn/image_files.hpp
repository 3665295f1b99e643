#pragma once
// Small image files for the tests of dnmf_nn_training, written by the program's own HDF5 writer
// (collective, rank 0's copy stored): uint8 pixels that a test can predict exactly.

#include <cstdint>
#include <string>
#include <vector>

#include "dnmf/io/output_file.hpp"
#include "dnmf/mpi/communicator.hpp"

namespace testing_support {

/// Pixel `p` of sample `i` of a split (`offset` tells the splits apart): any value of 0..255.
inline std::uint8_t pixel(std::int64_t i, std::int64_t p, std::int64_t offset) {
  return static_cast<std::uint8_t>((37 * i + 11 * p + offset) % 256);
}

/// count x side*side uint8 images (pixel() above) and labels i % classes under /GROUP.
inline void write_split(dnmf::io::OutputFile& out, const std::string& group, std::int64_t count,
                        std::int64_t side, std::int64_t classes, std::int64_t offset) {
  std::vector<std::uint8_t> images(static_cast<std::size_t>(count * side * side));
  for (std::int64_t i = 0; i < count; ++i) {
    for (std::int64_t p = 0; p < side * side; ++p) {
      images[static_cast<std::size_t>(i * side * side + p)] = pixel(i, p, offset);
    }
  }
  std::vector<std::int64_t> labels(static_cast<std::size_t>(count));
  for (std::int64_t i = 0; i < count; ++i) labels[static_cast<std::size_t>(i)] = i % classes;
  out.write_array("/" + group + "/images", {count, side * side}, images.data());
  out.write_array("/" + group + "/labels", {count}, labels.data());
}

/// Collective: a training file of `train` and `test` images of side x side pixels.
inline std::string write_image_file(const std::string& path, std::int64_t train, std::int64_t test,
                                    std::int64_t side, std::int64_t classes,
                                    dnmf::mpi::Communicator& comm) {
  dnmf::io::OutputFile out(path, comm);
  write_split(out, "train", train, side, classes, 0);
  write_split(out, "test", test, side, classes, 101);
  out.commit();
  return path;
}

}  // namespace testing_support
