// The files of a run under MPI: an output that is an input (by name, symbolic or hard link) or
// another output is refused on every rank; a checkpoint may be the file it resumes; a finished
// output never replaces a file that appeared meanwhile unless asked to.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "dnmf/core/error.hpp"
#include "dnmf/io/output_file.hpp"
#include "dnmf/io/run_files.hpp"
#include "scratch_directory.hpp"

namespace {

namespace fs = std::filesystem;
using dnmf::io::IfExists;
using dnmf::io::RunFiles;

using testing_support::scratch_directory;

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The message of the IoError that `check` throws, checked to be known on every rank.
template <class Check>
std::string refusal(Check&& check) {
  try {
    check();
  } catch (const dnmf::IoError& error) {
    EXPECT_TRUE(error.on_all_ranks());
    return error.what();
  }
  ADD_FAILURE() << "not refused";
  return "";
}

class RunFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory = scratch_directory(world);
    input = directory + "/input.h5";
    if (world.is_root()) {
      write_text(input, "the input");
      fs::create_symlink(input, directory + "/symlink.h5");
      fs::create_hard_link(input, directory + "/hardlink.h5");
    }
    world.barrier();
  }
  void TearDown() override {
    world.barrier();
    if (world.is_root()) fs::remove_all(directory);
  }

  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  std::string directory;
  std::string input;
};

TEST_F(RunFilesTest, AnOutputThatIsAnInputIsRefusedEvenWithForce) {
  for (const char* name : {"/input.h5", "/symlink.h5", "/hardlink.h5", "/./input.h5"}) {
    const std::string output = directory + name;
    const std::string message = refusal(
        [&] { RunFiles().input("--input", input).output("--output", output).check(true, world); });
    EXPECT_NE(message.find(output + ": --output is the same file as --input"), std::string::npos)
        << message;
  }
  EXPECT_EQ(read_text(input), "the input");
}

TEST_F(RunFilesTest, TwoOutputsOfOneNameAreRefusedBeforeEitherExists) {
  const std::string message = refusal([&] {
    RunFiles()
        .output("--output", directory + "/out.h5")
        .output("--report", directory + "/./out.h5")
        .check(false, world);
  });
  EXPECT_NE(message.find("--report is the same file as --output"), std::string::npos) << message;
}

TEST_F(RunFilesTest, ACheckpointMayBeTheFileItResumesAndNoOtherExistingFile) {
  RunFiles resumed;
  resumed.input("--resume", directory + "/symlink.h5")
      .output("--checkpoint", input, "--resume")
      .output("--output", directory + "/out.h5");
  resumed.check(false, world);
  EXPECT_EQ(resumed.if_exists("--checkpoint"), IfExists::Replace);
  EXPECT_EQ(resumed.if_exists("--output"), IfExists::Fail);

  const std::string message =
      refusal([&] { RunFiles().output("--checkpoint", input, "--resume").check(false, world); });
  EXPECT_NE(message.find(input + ": --checkpoint file exists"), std::string::npos) << message;
  const std::string as_input = refusal([&] {
    RunFiles().input("--input", input).output("--checkpoint", input, "--resume").check(true, world);
  });
  EXPECT_NE(as_input.find("--checkpoint is the same file as --input"), std::string::npos);
}

TEST_F(RunFilesTest, AFinishedOutputDoesNotReplaceAFileThatAppearedMeanwhile) {
  const std::string target = directory + "/out.h5";
  {
    dnmf::io::OutputFile out(target, world, IfExists::Fail);
    out.write_vector("/v", {1.0, 2.0});
    if (world.is_root()) write_text(target, "another run's result");
    world.barrier();
    const std::string message = refusal([&] { out.commit(); });
    EXPECT_NE(message.find(target + ": exists by now"), std::string::npos) << message;
  }
  world.barrier();
  EXPECT_EQ(read_text(target), "another run's result");
  for (const auto& entry : fs::directory_iterator(directory)) {
    EXPECT_NE(entry.path().filename().string().front(), '.')
        << "temporary file left: " << entry.path();
  }
  world.barrier();  // every rank has looked before rank 0 makes the next temporary file
  {
    dnmf::io::OutputFile out(target, world, IfExists::Replace);
    out.write_vector("/v", {1.0, 2.0});
    out.commit();
  }
  EXPECT_NE(read_text(target), "another run's result");
}

TEST(MoveIntoPlace, WithoutReplaceKeepsTheTargetAndTheTemporary) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  if (!world.is_root()) return;  // not collective
  char pattern[] = "/tmp/dnmf-test-XXXXXX";
  const std::string directory = mkdtemp(pattern);
  const std::string temporary = directory + "/.new.tmp", target = directory + "/target";
  write_text(temporary, "new");
  write_text(target, "old");
  EXPECT_THROW(dnmf::io::move_into_place(temporary, target, IfExists::Fail), dnmf::IoError);
  EXPECT_EQ(read_text(target), "old");
  EXPECT_TRUE(fs::exists(temporary));
  dnmf::io::move_into_place(temporary, directory + "/fresh", IfExists::Fail);
  EXPECT_EQ(read_text(directory + "/fresh"), "new");
  EXPECT_FALSE(fs::exists(temporary));
  write_text(temporary, "newer");
  dnmf::io::move_into_place(temporary, target, IfExists::Replace);
  EXPECT_EQ(read_text(target), "newer");
  fs::remove_all(directory);
}

TEST(RequireRegularFile, RefusesAFifoWithoutOpeningIt) {
  dnmf::mpi::Communicator world = dnmf::mpi::Communicator::world();
  if (!world.is_root()) return;  // not collective
  char pattern[] = "/tmp/dnmf-test-XXXXXX";
  const std::string directory = mkdtemp(pattern);
  const std::string fifo = directory + "/pipe";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  try {
    dnmf::io::require_regular_file(fifo);
    ADD_FAILURE() << "a FIFO accepted";
  } catch (const dnmf::IoError& error) {
    EXPECT_EQ(std::string(error.what()),
              fifo + ": not a regular file (a FIFO); dnmf reads only regular files");
  }
  EXPECT_THROW(dnmf::io::require_regular_file(directory), dnmf::IoError);
  EXPECT_THROW(dnmf::io::require_regular_file(directory + "/missing"), dnmf::IoError);
  fs::remove_all(directory);
}

}  // namespace
