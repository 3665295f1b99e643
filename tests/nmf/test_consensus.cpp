// nmf/consensus against naive loops on small data: unit rows, distances (to the rounding of the
// product form), the local density, k-means' fixed point (each row labelled with its nearest
// center, each center the mean of its rows, the inertia their sum) and its determinism, the
// silhouette from its definition; and the whole consensus on data with a known answer:
// permuted, rescaled copies of one set of components give those components back, an outlier
// is dropped, and a threshold that keeps too few is an InputError.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <set>
#include <vector>

#include "dnmf/core/error.hpp"
#include "dnmf/core/random.hpp"
#include "dnmf/nmf/consensus.hpp"

namespace {

using dnmf::Index;
using dnmf::Matrix;
using dnmf::RowMatrix;
namespace nmf = dnmf::nmf;

constexpr double kUnit = std::numeric_limits<double>::epsilon() / 2;

RowMatrix uniform_rows(Index rows, Index cols, std::uint64_t seed) {
  RowMatrix X(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j)
      X(i, j) = dnmf::counter_uniform(seed, dnmf::RandomStream::W, static_cast<std::uint64_t>(i),
                                      static_cast<std::uint64_t>(j));
  return X;
}

double naive_squared_distance(const RowMatrix& X, Index i, Index j) {
  double sum = 0;
  for (Index c = 0; c < X.cols(); ++c) sum += (X(i, c) - X(j, c)) * (X(i, c) - X(j, c));
  return sum;
}

/// Three tight blobs around well separated centers: rows 0-9, 10-19, 20-29.
RowMatrix blobs() {
  RowMatrix X(30, 4);
  for (Index i = 0; i < 30; ++i) {
    for (Index j = 0; j < 4; ++j) {
      const double center = (j == i / 10) ? 10.0 : 0.0;
      X(i, j) = center + 0.1 * dnmf::counter_uniform(3, dnmf::RandomStream::H,
                                                     static_cast<std::uint64_t>(i),
                                                     static_cast<std::uint64_t>(j));
    }
  }
  return X;
}

TEST(Consensus, UnitRowsHaveNormOneAndZeroRowsStayZero) {
  RowMatrix X = uniform_rows(5, 7, 1);
  X.row(2).setZero();
  const RowMatrix unit = nmf::unit_rows(X);
  for (Index i = 0; i < 5; ++i) {
    if (i == 2) {
      EXPECT_EQ(unit.row(i).norm(), 0.0);
      continue;
    }
    EXPECT_NEAR(unit.row(i).norm(), 1.0, 8 * kUnit * 7);
    for (Index j = 0; j < 7; ++j) {
      EXPECT_NEAR(unit(i, j) * X.row(i).norm(), X(i, j), 16 * kUnit * 7 * X(i, j));
    }
  }
}

TEST(Consensus, SquaredDistancesAreTheNaiveOnesToRounding) {
  const RowMatrix X = uniform_rows(12, 9, 2);
  const Matrix d = nmf::squared_distances(X);
  for (Index i = 0; i < 12; ++i) {
    EXPECT_EQ(d(i, i), 0.0);
    for (Index j = 0; j < 12; ++j) {
      // |x|² + |y|² - 2 x·y: each term to γ_n of its size, then two additions.
      const double scale = X.row(i).squaredNorm() + X.row(j).squaredNorm();
      EXPECT_NEAR(d(i, j), i == j ? 0.0 : naive_squared_distance(X, i, j), 4 * 11 * kUnit * scale)
          << i << " " << j;
      EXPECT_EQ(d(i, j), d(j, i));
    }
  }
}

TEST(Consensus, LocalDensityIsTheMeanDistanceToTheNearestNeighbours) {
  const RowMatrix X = uniform_rows(10, 5, 4);
  Matrix d(10, 10);
  for (Index i = 0; i < 10; ++i)
    for (Index j = 0; j < 10; ++j) d(i, j) = naive_squared_distance(X, i, j);
  for (const Index neighbours : {1, 3, 9}) {
    const std::vector<double> density = nmf::local_density(d, neighbours);
    for (Index i = 0; i < 10; ++i) {
      std::vector<double> others;
      for (Index j = 0; j < 10; ++j)
        if (j != i) others.push_back(std::sqrt(d(i, j)));
      std::sort(others.begin(), others.end());
      const double expected =
          std::accumulate(others.begin(), others.begin() + neighbours, 0.0) / neighbours;
      EXPECT_NEAR(density[static_cast<std::size_t>(i)], expected, 16 * kUnit * expected);
    }
  }
}

TEST(Consensus, KMeansFindsSeparatedBlobs) {
  const nmf::Clustering c = nmf::kmeans(blobs(), 3, 7, 5, 100);
  for (Index blob = 0; blob < 3; ++blob) {
    std::set<int> labels;
    for (Index i = blob * 10; i < blob * 10 + 10; ++i)
      labels.insert(c.label[static_cast<std::size_t>(i)]);
    EXPECT_EQ(labels.size(), 1u) << "blob " << blob << " is one cluster";
  }
  EXPECT_NE(c.label[0], c.label[10]);
  EXPECT_NE(c.label[10], c.label[20]);
  EXPECT_NE(c.label[0], c.label[20]);
}

TEST(Consensus, KMeansEndsAtLloydsFixedPoint) {
  const RowMatrix X = uniform_rows(40, 6, 5);
  const Index k = 4;
  const nmf::Clustering c = nmf::kmeans(X, k, 11, 3, 500);
  double inertia = 0;
  for (Index i = 0; i < 40; ++i) {
    const int own = c.label[static_cast<std::size_t>(i)];
    ASSERT_GE(own, 0);
    ASSERT_LT(own, k);
    double own_distance = 0;
    for (Index j = 0; j < 6; ++j)
      own_distance += (X(i, j) - c.centers(own, j)) * (X(i, j) - c.centers(own, j));
    inertia += own_distance;
    for (Index other = 0; other < k; ++other) {
      double distance = 0;
      for (Index j = 0; j < 6; ++j)
        distance += (X(i, j) - c.centers(other, j)) * (X(i, j) - c.centers(other, j));
      EXPECT_LE(own_distance, distance + 64 * kUnit * 6) << "row " << i << " nearest its center";
    }
  }
  for (Index cluster = 0; cluster < k; ++cluster) {
    Eigen::RowVectorXd mean = Eigen::RowVectorXd::Zero(6);
    int size = 0;
    for (Index i = 0; i < 40; ++i) {
      if (c.label[static_cast<std::size_t>(i)] == cluster) {
        mean += X.row(i);
        ++size;
      }
    }
    ASSERT_GT(size, 0) << "no empty cluster";
    mean /= size;
    for (Index j = 0; j < 6; ++j) EXPECT_NEAR(c.centers(cluster, j), mean(j), 64 * kUnit);
  }
  EXPECT_NEAR(c.inertia, inertia, 1e3 * kUnit * inertia);
}

TEST(Consensus, KMeansIsDeterministicAndRestartsOnlyImprove) {
  const RowMatrix X = uniform_rows(50, 3, 6);
  const nmf::Clustering once = nmf::kmeans(X, 5, 9, 1, 300);
  const nmf::Clustering again = nmf::kmeans(X, 5, 9, 1, 300);
  EXPECT_EQ(once.label, again.label);
  const nmf::Clustering best = nmf::kmeans(X, 5, 9, 8, 300);
  EXPECT_LE(best.inertia, once.inertia);
}

TEST(Consensus, SilhouetteIsItsDefinition) {
  const RowMatrix X = uniform_rows(15, 4, 8);
  Matrix d(15, 15);
  for (Index i = 0; i < 15; ++i)
    for (Index j = 0; j < 15; ++j) d(i, j) = naive_squared_distance(X, i, j);
  std::vector<int> label(15);
  for (Index i = 0; i < 15; ++i) label[static_cast<std::size_t>(i)] = static_cast<int>(i % 3);
  label[14] = 3;  // a cluster of one: s = 0
  double total = 0;
  for (Index i = 0; i < 15; ++i) {
    const int own = label[static_cast<std::size_t>(i)];
    std::vector<double> sum(4, 0.0);
    std::vector<int> size(4, 0);
    for (Index j = 0; j < 15; ++j) {
      ++size[static_cast<std::size_t>(label[static_cast<std::size_t>(j)])];
      if (j != i)
        sum[static_cast<std::size_t>(label[static_cast<std::size_t>(j)])] += std::sqrt(d(i, j));
    }
    if (size[static_cast<std::size_t>(own)] == 1) continue;
    const double a = sum[static_cast<std::size_t>(own)] / (size[static_cast<std::size_t>(own)] - 1);
    double b = std::numeric_limits<double>::infinity();
    for (int c = 0; c < 4; ++c)
      if (c != own)
        b = std::min(b, sum[static_cast<std::size_t>(c)] / size[static_cast<std::size_t>(c)]);
    total += (b - a) / std::max(a, b);
  }
  EXPECT_NEAR(nmf::silhouette(d, label, 4), total / 15, 1e-14);
  EXPECT_EQ(nmf::silhouette(d, label, 1), 0.0);
}

TEST(Consensus, PermutedRescaledReplicatesGiveTheirComponentsBack) {
  const Index k = 4, n = 30, replicates = 6;
  const RowMatrix truth = uniform_rows(k, n, 12);
  RowMatrix pooled(replicates * k + 1, n);
  for (Index r = 0; r < replicates; ++r) {
    for (Index c = 0; c < k; ++c) {
      const Index source = (c + r) % k;  // another order in every replicate
      pooled.row(r * k + c) = (1.0 + static_cast<double>(r + c)) * truth.row(source);
    }
  }
  pooled.row(replicates * k) = uniform_rows(1, n, 99);  // an outlier, far from every cluster
  nmf::ConsensusOptions options;
  options.rank = k;
  options.neighbours = replicates / 3;
  options.density_threshold = 0.05;
  const nmf::Consensus result = nmf::consensus(pooled, options);
  EXPECT_EQ(result.kept, replicates * k);
  EXPECT_EQ(result.cluster.back(), -1) << "the outlier is dropped";
  EXPECT_GT(result.density.back(), 0.05);
  const RowMatrix unit = nmf::unit_rows(truth);
  std::set<Index> matched;
  for (Index c = 0; c < k; ++c) {
    Index best = 0;
    (unit.rowwise() - result.components.row(c)).rowwise().norm().minCoeff(&best);
    EXPECT_LT((unit.row(best) - result.components.row(c)).norm(), 64 * kUnit * n) << c;
    matched.insert(best);
  }
  EXPECT_EQ(matched.size(), static_cast<std::size_t>(k)) << "each component found once";
  // Numbered by their first member: the first replicate's components, in its order.
  for (Index c = 0; c < k; ++c) {
    EXPECT_EQ(result.cluster[static_cast<std::size_t>(c)], c);
    EXPECT_LT((unit.row(c) - result.components.row(c)).norm(), 64 * kUnit * n) << c;
  }
  // Every cluster's members are copies of one component: a = 0, so s = 1 (to rounding).
  EXPECT_NEAR(result.silhouette, 1.0, 1e-6);
}

TEST(Consensus, EachComponentIsTheMedianOfItsClusterMembers) {
  // Blobs of 10 (even: the mean of the middle two) and a blob of 9 (odd: the middle one).
  const RowMatrix X = blobs().topRows(29);
  nmf::ConsensusOptions options;
  options.rank = 3;
  options.neighbours = 3;
  options.density_threshold = 2.0;  // unit rows are at most 2 apart: keep every one
  const nmf::Consensus result = nmf::consensus(X, options);
  ASSERT_EQ(result.kept, 29);
  const RowMatrix unit = nmf::unit_rows(X);
  for (int c = 0; c < 3; ++c) {
    for (Index j = 0; j < X.cols(); ++j) {
      std::vector<double> values;
      for (Index i = 0; i < 29; ++i)
        if (result.cluster[static_cast<std::size_t>(i)] == c) values.push_back(unit(i, j));
      std::sort(values.begin(), values.end());
      const std::size_t m = values.size();
      const double median = m % 2 ? values[m / 2] : 0.5 * (values[m / 2 - 1] + values[m / 2]);
      EXPECT_EQ(result.components(c, j), median) << "cluster " << c << ", column " << j;
    }
  }
}

TEST(Consensus, AThresholdKeepingFewerThanKIsAnInputError) {
  nmf::ConsensusOptions options;
  options.rank = 3;
  options.neighbours = 2;
  options.density_threshold = 0.0;
  EXPECT_THROW(nmf::consensus(uniform_rows(12, 5, 13), options), dnmf::InputError);
}

TEST(Consensus, KeepAllBelowKClustersEveryComponentAndSaysSo) {
  const RowMatrix pooled = uniform_rows(12, 5, 13);
  nmf::ConsensusOptions options;
  options.rank = 3;
  options.neighbours = 2;
  options.density_threshold = 0.0;  // keeps none
  options.keep_all_below_k = true;
  const nmf::Consensus all = nmf::consensus(pooled, options);
  EXPECT_FALSE(all.filtered);
  EXPECT_EQ(all.kept, 12);
  EXPECT_EQ(std::count(all.cluster.begin(), all.cluster.end(), -1), 0);
  // The same as a threshold that drops nothing (unit rows are at most 2 apart).
  options.density_threshold = 2.0;
  options.keep_all_below_k = false;
  const nmf::Consensus unfiltered = nmf::consensus(pooled, options);
  EXPECT_TRUE(unfiltered.filtered);
  EXPECT_EQ(all.cluster, unfiltered.cluster);
  EXPECT_EQ(all.components, unfiltered.components);
  EXPECT_EQ(all.silhouette, unfiltered.silhouette);
}

}  // namespace
