// The image data of train, evaluate and predict at every rank count, on real HDF5 files: the
// splits described (square images from N x d, uint8 scaled by 1/255), samples read in any order
// into buffers sized once, the ranks' blocks, the classes counted over the ranks, and the
// refusals that name the file, dataset and sample. uint8 pixels are scaled as multiplied by the
// float 1/255, bitwise.

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/io/input_file.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/mpi/agree.hpp"
#include "dnmf/nn/image_data.hpp"
#include "image_files.hpp"
#include "scratch_directory.hpp"

namespace dnmf::nn {
namespace {

using testing_support::pixel;

struct ImageDataTest : ::testing::Test {
  mpi::Communicator comm = mpi::Communicator::world();
  std::string directory = testing_support::scratch_directory(comm);
  std::string path = testing_support::write_image_file(directory + "/digits.h5", 11, 5, 4, 3, comm);

  /// The message of the InputError `action` throws (agreed over the ranks), or "".
  template <class Action>
  std::string input_error(Action&& action) {
    try {
      mpi::agree(comm, action);
    } catch (const InputError& error) {
      return error.what();
    }
    return "";
  }
};

TEST_F(ImageDataTest, DescribesBothSplits) {
  const io::InputFile file(path, comm);
  const TrainingData data = describe_training_data(file);
  EXPECT_EQ(data.train_images.count, 11);
  EXPECT_EQ(data.test_images.count, 5);
  EXPECT_EQ(data.train_images.sample.to_string(), "4x4x1");  // 16 values: a square image
  EXPECT_EQ(data.train_images.scale, 1.0f / 255.0f);
  EXPECT_EQ(data.train_labels.path, "/train/labels");
  EXPECT_EQ(data.test_labels.shape, std::vector<std::uint64_t>{5});
}

TEST_F(ImageDataTest, ReadsSamplesInTheOrderAsked) {
  const io::InputFile file(path, comm);
  const TrainingData data = describe_training_data(file);
  SampleBuffer buffer(file, data.train_images, &data.train_labels, 4);
  const std::vector<std::int64_t> rows = {7, 2, 10, 0};
  buffer.read(rows, true, 3);
  ASSERT_EQ(buffer.size(), 4);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const auto column = static_cast<Index>(i);
    EXPECT_EQ(buffer.labels()[column], rows[i] % 3);
    for (Index p = 0; p < 16; ++p) {
      EXPECT_EQ(buffer.images()(p, column),
                static_cast<float>(pixel(rows[i], p, 0)) * (1.0f / 255.0f))
          << "sample " << rows[i] << " pixel " << p;
    }
  }
  buffer.read({3}, true, 3);  // fewer than the capacity
  EXPECT_EQ(buffer.size(), 1);
  EXPECT_EQ(buffer.images().cols(), 1);
  EXPECT_EQ(buffer.labels()[0], 0);
}

TEST_F(ImageDataTest, BlocksCoverEverySampleOnce) {
  const std::vector<std::int64_t> rows = block_rows(11, comm);
  std::int64_t count = static_cast<std::int64_t>(rows.size());
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    sum += rows[i];
    if (i > 0) {
      EXPECT_EQ(rows[i], rows[i - 1] + 1);  // contiguous
    }
  }
  EXPECT_EQ(comm.sum(count), 11);
  EXPECT_EQ(comm.sum(sum), 55);
  EXPECT_LE(comm.max(count) - comm.min(count), 1);  // balanced
}

TEST_F(ImageDataTest, CountsTheClassesOverTheRanks) {
  const io::InputFile file(path, comm);
  const TrainingData data = describe_training_data(file);
  EXPECT_EQ(count_classes(file, data.train_labels, comm), 3);
}

TEST_F(ImageDataTest, ARowThatIsNotASquareIsOneRowOfPixels) {
  const std::string rows = directory + "/rows.h5";
  {
    io::OutputFile out(rows, comm);
    const std::vector<double> values(3 * 6, 0.5);
    out.write_array("/images", {3, 6}, values.data());
    out.commit();
  }
  const io::InputFile file(rows, comm);
  const ImageDataset images = describe_images(file, "/images");
  EXPECT_EQ(images.sample.to_string(), "1x6x1");
  EXPECT_EQ(images.scale, 1.0f);  // not uint8: used as stored
}

TEST_F(ImageDataTest, RefusesBadValuesNamingTheSample) {
  const std::string bad = directory + "/bad.h5";
  {
    io::OutputFile out(bad, comm);
    std::vector<double> images(4 * 9, 0.25);
    images[2 * 9 + 5] = std::numeric_limits<double>::quiet_NaN();
    images[3 * 9 + 1] = -1;
    out.write_array("/images", {4, 9}, images.data());
    const std::vector<double> labels = {0, 1, 2.5, 7};
    out.write_array("/labels", {4}, labels.data());
    const std::vector<double> flat = {1, 2, 3};
    out.write_array("/flat", {3}, flat.data());
    out.commit();
  }
  const io::InputFile file(bad, comm);
  const ImageDataset images = describe_images(file, "/images");
  const io::DatasetInfo labels = describe_labels(file, "/labels", images);
  SampleBuffer buffer(file, images, &labels, 4);
  EXPECT_EQ(input_error([&] { buffer.read({2}, false, 10); }),
            bad + ":/images: NaN or Inf in sample 2 (counting from 0)");
  EXPECT_EQ(input_error([&] { buffer.read({3}, true, 10); }),
            bad +
                ":/images: negative value in sample 3 (counting from 0); the NMF encoder "
                "needs images >= 0");
  EXPECT_EQ(input_error([&] { buffer.read({3}, false, 5); }),
            bad + ":/labels: label 7 in sample 3 (counting from 0) is out of range [0, 5)");
  EXPECT_EQ(input_error([&] { count_classes(file, labels, comm); }),
            bad + ":/labels: label 2.5 in sample 2 (counting from 0) is not an integer");
  EXPECT_EQ(input_error([&] { describe_images(file, "/flat"); }),
            bad + ":/flat: expected images N x d, N x H x W or N x H x W x C, found 3");
  EXPECT_EQ(input_error([&] { describe_labels(file, "/flat", images); }),
            bad + ":/flat: 3 labels for 4 images in /images");
}

TEST_F(ImageDataTest, RefusesTestImagesOfAnotherSize) {
  const std::string mixed = directory + "/mixed.h5";
  {
    io::OutputFile out(mixed, comm);
    testing_support::write_split(out, "train", 6, 4, 2, 0);
    testing_support::write_split(out, "test", 3, 3, 2, 0);
    out.commit();
  }
  const io::InputFile file(mixed, comm);
  EXPECT_EQ(input_error([&] { describe_training_data(file); }),
            mixed + ":/test/images: images of 3x3x1, but /train/images has 4x4x1");
}

}  // namespace
}  // namespace dnmf::nn
