#pragma once
// Images and labels for train, evaluate and predict: /images of N samples (N x d, N x H x W or
// N x H x W x C, any integer or float type) and /labels (N integers).
//
// Input scaling, the same in train, evaluate and predict: uint8 images are divided by 255
// (pixels to [0, 1]); every other type is used as stored. An N x d dataset is a square
// sqrt(d) x sqrt(d) image when d is a square, else a 1 x d row (fine for --model nmf only).

#include <cstdint>
#include <string>
#include <vector>

#include "dnmf/io/input_file.hpp"
#include "dnmf/nn/tensor.hpp"

namespace dnmf::nn {

struct ImageDataset {
  io::DatasetInfo info;
  ImageShape sample;  ///< one image, HWC
  std::int64_t count = 0;
  float scale = 1;  ///< 1/255 for uint8, else 1
};

/// The scaling rule above, as recorded in model files.
constexpr const char* kInputScaling = "uint8 images divided by 255, other types as stored";

/// Describes the images at `name`; InputError naming file and dataset if it is missing, not
/// numeric, empty or not 2-, 3- or 4-D.
ImageDataset describe_images(const io::InputFile& file, const std::string& name);

/// Checks that `labels` is a 1-D numeric dataset with one label per image.
io::DatasetInfo describe_labels(const io::InputFile& file, const std::string& name,
                                const ImageDataset& images);

/// The images and labels a model is trained on (/train) and validated on (/test).
struct TrainingData {
  ImageDataset train_images, test_images;
  io::DatasetInfo train_labels, test_labels;
};

/// Describes /train/images, /train/labels, /test/images and /test/labels of `file`; InputError
/// as describe_images and describe_labels, or if a test image differs in size from a training
/// one.
TrainingData describe_training_data(const io::InputFile& file);

/// Samples of one dataset read by index into buffers sized once: `images` holds sample
/// rows[i] (scaled) in column i, `labels` its label. Reads are not collective.
class SampleBuffer {
 public:
  /// `labels` may be null (predict). Sizes the buffers for up to `capacity` samples.
  SampleBuffer(const io::InputFile& file, const ImageDataset& images, const io::DatasetInfo* labels,
               std::int64_t capacity);

  /// Reads samples `rows` (any order, no repeats). Throws InputError naming the file, dataset
  /// and sample for a NaN or Inf pixel, a negative pixel when `nonnegative`, or a label that
  /// is not an integer in [0, classes).
  void read(const std::vector<std::int64_t>& rows, bool nonnegative, std::int64_t classes);

  std::int64_t size() const { return size_; }
  BatchView<float> images() const {
    return BatchView<float>(images_.data(), images_.rows(), size_);
  }
  const Eigen::VectorXi& labels() const { return labels_; }

 private:
  const io::InputFile& file_;
  ImageDataset dataset_;
  const io::DatasetInfo* label_info_;
  std::int64_t size_ = 0;
  Matrix<float> images_;  // features x capacity, in the order asked for
  Matrix<float> sorted_;  // features x capacity, in file order
  std::vector<double> sorted_labels_;
  Eigen::VectorXi labels_;
  std::vector<std::int64_t> sorted_rows_;
  std::vector<std::int64_t> position_;  // sorted_rows_[i] goes to column position_[i]
};

/// This rank's balanced block of [0, total), as row indices.
std::vector<std::int64_t> block_rows(std::int64_t total, const mpi::Communicator& comm);

/// Collective: the number of classes, 1 + the largest label of the dataset (each rank scans a
/// block). InputError naming the sample for a label that is negative, not an integer, or
/// larger than kMaxLabel.
std::int64_t count_classes(const io::InputFile& file, const io::DatasetInfo& labels,
                           mpi::Communicator& comm);
constexpr std::int64_t kMaxLabel = 9999;

}  // namespace dnmf::nn
