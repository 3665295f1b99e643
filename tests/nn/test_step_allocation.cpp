// The data-parallel step loop allocates nothing once the trainer is built: forward, loss,
// backward, the gradient collectives, the gathered dense layer's weight gradient and the
// optimizer step, for full and short local batches and with a frozen basis, on one kernel
// thread and with the layers' loops split over two (allocations counted
// by tests/nn/allocation_counter.cpp, in a program of its own; the BLAS library's own are counted
// apart). The trainer runs on MPI_COMM_SELF on every rank, because Open MPI itself allocates now
// and then at more ranks. Run by hand on MPI_COMM_WORLD (hidden 64, so that dense1 stays
// gathered at 4 ranks): 0 allocations in 8 runs each at 2 and 3 ranks (shared memory); at 4
// ranks on 2 cores, 1 allocation in 4 of 8 runs, inside Open MPI. (MPI_Allgather of the batch
// counts allocated 4 at 3 ranks, its Bruck algorithm's buffer: the counts now go round the ring.)

#include <gtest/gtest.h>

#include <iostream>
#include <string>
#include <vector>

#include "../kernel_threads.hpp"
#include "allocation_counter.hpp"
#include "dnmf/nn/adam.hpp"
#include "dnmf/nn/architectures.hpp"
#include "dnmf/nn/data_parallel.hpp"

namespace dnmf::nn {
namespace {

class DataParallelStep : public ::testing::TestWithParam<int> {};

TEST_P(DataParallelStep, AllocatesNothing) {
  const test::ScopedKernelThreads threads(GetParam());
  mpi::Communicator comm = mpi::Communicator::self();
  ArchitectureOptions options;
  options.architecture = Architecture::NmfCnn;
  options.input = {10, 10, 1};
  options.classes = 3;
  options.filters = 4;
  options.hidden = 16;  // dense1 (69 x 16) is wide against the batch: gathered
  options.nmf_rank = 5;
  options.nmf_iterations = 3;
  constexpr Index kLocalBatch = 8;
  Network<float> network = make_network<float>(options, 51);
  Adam<float> adam(network.parameter_count(), {});
  DataParallelTrainer<float> trainer(network, adam, comm, kLocalBatch);
  trainer.freeze("nmf/H");
  ASSERT_EQ(trainer.gathered_layers(), std::vector<std::string>{"dense1"});
  const Matrix<float> images = Matrix<float>::Constant(options.input.size(), kLocalBatch, 0.5f);
  const Eigen::VectorXi labels = Eigen::VectorXi::Zero(kLocalBatch);
  const auto step = [&](Index batch) {
    trainer.step(BatchView<float>(images.data(), images.rows(), batch), labels.head(batch), batch);
  };
  step(kLocalBatch);  // BLAS and MPI may set up their own buffers on their first calls, the
                      // pool its threads on its first loop
  step(3);

  test::set_allocation_counting(true);
  step(kLocalBatch);
  step(3);  // a short last batch reuses the same buffers
  step(0);  // a rank with nothing in a global batch still joins the allreduce
  step(kLocalBatch);
  test::set_allocation_counting(false);
  EXPECT_EQ(test::allocations_counted(), 0u);
  // Not an expectation: whether the BLAS library allocates depends on the kernel it picked.
  std::cout << "allocations inside the BLAS library: " << test::blas_allocations_counted() << '\n';
}

INSTANTIATE_TEST_SUITE_P(KernelThreads, DataParallelStep, ::testing::Values(1, 2));

}  // namespace
}  // namespace dnmf::nn
