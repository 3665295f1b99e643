#pragma once
// An optimizer steps a network's flat parameter buffer along its flat gradient buffer, then
// restores the parameters' constraints (the NMF basis back to >= 0: projected gradient).
// Its state is flat buffers too, exposed by name so a model file can save and restore it.

#include <cstdint>
#include <vector>

#include "dnmf/nn/network.hpp"

namespace dnmf::nn {

template <typename Scalar>
class Optimizer {
 public:
  virtual ~Optimizer() = default;

  /// One step with gradient gradient_scale * network.gradients() (e.g. 1 / global batch size
  /// when the gradients are sums over the batch), then network.project_parameters().
  /// Throws InputError if the network has a different parameter count than at construction.
  void step(Network<Scalar>& network, Scalar gradient_scale = Scalar(1));
  /// The same update for the parameters [begin, begin + gradients.size()) alone, along
  /// `gradients` (theirs, held anywhere), with their part of the state; counts the step but does
  /// not project. A data-parallel trainer's ranks each step their shard of the parameters this
  /// way, gather the parameters and project them (Rajbhandari et al. 2020, "ZeRO", stage 1):
  /// every parameter gets the update step() gives it. Throws InputError on a range outside the
  /// parameters.
  void step_shard(Network<Scalar>& network, Index begin, FlatMap<Scalar> gradients,
                  Scalar gradient_scale);

  /// Steps taken so far; saved beside the state to resume a run.
  std::int64_t step_count() const { return step_count_; }
  void set_step_count(std::int64_t steps) { step_count_ = steps; }
  /// The state arrays by name ("adam/m", ...), viewing the optimizer's flat buffer.
  virtual std::vector<NamedArray<Scalar>> named_state() = 0;

 protected:
  explicit Optimizer(Index parameter_count) : parameter_count_(parameter_count) {}
  /// Updates `parameters`, the ones from index `begin` on, in place along their `gradients`
  /// (as many), with the state of those parameters; step_count() already counts this step.
  virtual void update(FlatMap<Scalar> parameters, FlatMap<Scalar> gradients, Index begin,
                      Scalar gradient_scale) = 0;
  Index parameter_count() const { return parameter_count_; }

 private:
  Index parameter_count_;
  std::int64_t step_count_ = 0;
};

}  // namespace dnmf::nn
