#include "dnmf/nn/image_data.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "dnmf/core/error.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/mpi/partition.hpp"

namespace dnmf::nn {
namespace {

std::string number_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
}

std::string sample_text(std::int64_t sample) {
  return " in sample " + std::to_string(sample) + " (counting from 0)";
}

std::string label_problem(double label, std::int64_t classes) {
  if (!std::isfinite(label) || label != std::floor(label)) return "is not an integer";
  if (label < 0 || label >= static_cast<double>(classes)) {
    return "is out of range [0, " + std::to_string(classes) + ")";
  }
  return "";
}

}  // namespace

ImageDataset describe_images(const io::InputFile& file, const std::string& name) {
  ImageDataset images;
  images.info = file.dataset(name);
  const std::string where = io::where(file.path(), images.info.path);
  const std::vector<std::uint64_t>& shape = images.info.shape;
  if (!images.info.numeric) {
    throw InputError(where + ": element type " + images.info.type + " is not numeric");
  }
  if (shape.size() < 2 || shape.size() > 4) {
    throw InputError(where + ": expected images N x d, N x H x W or N x H x W x C, found " +
                     io::shape_text(shape));
  }
  const auto extent = [&](std::size_t i) { return static_cast<Index>(shape[i]); };
  if (shape.size() == 2) {
    const auto side = static_cast<Index>(std::llround(std::sqrt(static_cast<double>(shape[1]))));
    images.sample =
        side * side == extent(1) ? ImageShape{side, side, 1} : ImageShape{1, extent(1), 1};
  } else {
    images.sample = {extent(1), extent(2), shape.size() == 4 ? extent(3) : 1};
  }
  images.count = extent(0);
  if (images.count == 0 || images.sample.size() == 0) {
    throw InputError(where + ": no images (" + io::shape_text(shape) + ")");
  }
  images.scale = images.info.type == "uint8" ? 1.0f / 255.0f : 1.0f;
  return images;
}

io::DatasetInfo describe_labels(const io::InputFile& file, const std::string& name,
                                const ImageDataset& images) {
  io::DatasetInfo labels = file.dataset(name);
  const std::string where = io::where(file.path(), labels.path);
  if (!labels.numeric || labels.shape.size() != 1) {
    throw InputError(where + ": expected a 1-D numeric dataset of labels, found " +
                     io::shape_text(labels.shape) + " " + labels.type);
  }
  if (static_cast<std::int64_t>(labels.shape[0]) != images.count) {
    throw InputError(where + ": " + std::to_string(labels.shape[0]) + " labels for " +
                     std::to_string(images.count) + " images in " + images.info.path);
  }
  return labels;
}

TrainingData describe_training_data(const io::InputFile& file) {
  TrainingData data;
  data.train_images = describe_images(file, "/train/images");
  data.train_labels = describe_labels(file, "/train/labels", data.train_images);
  data.test_images = describe_images(file, "/test/images");
  data.test_labels = describe_labels(file, "/test/labels", data.test_images);
  if (data.test_images.sample.size() != data.train_images.sample.size()) {
    throw InputError(io::where(file.path(), "/test/images") + ": images of " +
                     data.test_images.sample.to_string() + ", but /train/images has " +
                     data.train_images.sample.to_string());
  }
  return data;
}

SampleBuffer::SampleBuffer(const io::InputFile& file, const ImageDataset& images,
                           const io::DatasetInfo* labels, std::int64_t capacity)
    : file_(file), dataset_(images), label_info_(labels) {
  const auto samples = static_cast<std::uint64_t>(capacity);
  const auto features = static_cast<std::uint64_t>(images.sample.size());
  // Two float copies of the images a sample, its label (double and int) and two row indices.
  io::allocate_for(io::where(file.path(), images.info.path), {samples, features}, 2 * sizeof(float),
                   [&] {
                     images_.resize(images.sample.size(), capacity);
                     sorted_.resize(images.sample.size(), capacity);
                     sorted_labels_.resize(samples);
                     labels_.resize(capacity);
                     sorted_rows_.resize(samples);
                     position_.resize(samples);
                   });
}

void SampleBuffer::read(const std::vector<std::int64_t>& rows, bool nonnegative,
                        std::int64_t classes) {
  size_ = static_cast<std::int64_t>(rows.size());
  const auto count = rows.size();
  position_.resize(count);
  std::iota(position_.begin(), position_.end(), std::int64_t{0});
  std::sort(position_.begin(), position_.end(),
            [&](std::int64_t a, std::int64_t b) { return rows[a] < rows[b]; });
  sorted_rows_.resize(count);
  for (std::size_t i = 0; i < count; ++i) sorted_rows_[i] = rows[position_[i]];
  // A row of an HDF5 N x ... dataset is one HWC sample: the file order is a column-major batch.
  file_.read_row_set(dataset_.info, sorted_rows_, sorted_.data());
  if (label_info_ != nullptr) file_.read_row_set(*label_info_, sorted_rows_, sorted_labels_.data());
  const std::string where = io::where(file_.path(), dataset_.info.path);
  for (std::size_t i = 0; i < count; ++i) {
    const auto column = static_cast<Index>(i);
    if (!sorted_.col(column).allFinite()) {
      throw InputError(where + ": NaN or Inf" + sample_text(sorted_rows_[i]));
    }
    if (nonnegative && (sorted_.col(column).array() < 0).any()) {
      throw InputError(where + ": negative value" + sample_text(sorted_rows_[i]) +
                       "; the NMF encoder needs images >= 0");
    }
    images_.col(position_[i]) = sorted_.col(column) * dataset_.scale;
    if (label_info_ == nullptr) continue;
    const double label = sorted_labels_[i];
    if (!label_problem(label, classes).empty()) {
      throw InputError(io::where(file_.path(), label_info_->path) + ": label " +
                       number_text(label) + sample_text(sorted_rows_[i]) + " " +
                       label_problem(label, classes));
    }
    labels_[position_[i]] = static_cast<int>(label);
  }
}

std::vector<std::int64_t> block_rows(std::int64_t total, const mpi::Communicator& comm) {
  const mpi::BlockPartition blocks(total, comm.size());
  std::vector<std::int64_t> rows(static_cast<std::size_t>(blocks.size(comm.rank())));
  std::iota(rows.begin(), rows.end(), blocks.begin(comm.rank()));
  return rows;
}

std::int64_t count_classes(const io::InputFile& file, const io::DatasetInfo& labels,
                           mpi::Communicator& comm) {
  const auto total = static_cast<std::int64_t>(labels.shape[0]);
  const std::vector<std::int64_t> rows = block_rows(total, comm);
  std::vector<double> values(rows.size());
  mpi::agree(comm, [&] { file.read_row_set(labels, rows, values.data()); });
  // The first bad sample over all ranks, else the largest label.
  std::int64_t first_bad = total;
  double largest = 0;
  for (std::size_t i = 0; i < values.size() && first_bad == total; ++i) {
    if (!label_problem(values[i], kMaxLabel + 1).empty()) first_bad = rows[i];
    largest = std::max(largest, values[i]);
  }
  first_bad = comm.min(first_bad);
  if (first_bad < total) {
    double label = 0;
    file.read_row_set(labels, {first_bad}, &label);
    throw InputError(io::where(file.path(), labels.path) + ": label " + number_text(label) +
                     sample_text(first_bad) + " " + label_problem(label, kMaxLabel + 1));
  }
  return static_cast<std::int64_t>(comm.max(largest)) + 1;
}

}  // namespace dnmf::nn
