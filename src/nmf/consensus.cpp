#include "dnmf/nmf/consensus.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "dnmf/core/error.hpp"
#include "dnmf/core/random.hpp"

namespace dnmf::nmf {
namespace {

/// Squared distances of every row of X to every row of C (rows x k), from one product.
Matrix distances_to(const RowMatrix& X, const RowMatrix& C) {
  const Vector x_squares = X.rowwise().squaredNorm();
  const Vector c_squares = C.rowwise().squaredNorm();
  Matrix d = -2.0 * (X * C.transpose());
  d.colwise() += x_squares;
  d.rowwise() += c_squares.transpose();
  return d.cwiseMax(0.0);
}

/// k-means++: the first center a uniform row, each next one a row drawn with probability
/// proportional to its squared distance to the nearest center so far.
RowMatrix plus_plus_start(const RowMatrix& X, Index k, std::uint64_t seed, int restart) {
  const Index rows = X.rows();
  std::uint64_t draw = 0;
  const auto uniform = [&] {
    return counter_uniform(seed, RandomStream::KMeans, static_cast<std::uint64_t>(restart), draw++);
  };
  RowMatrix centers(k, X.cols());
  const auto first = std::min<Index>(rows - 1, static_cast<Index>(uniform() * rows));
  centers.row(0) = X.row(first);
  Vector nearest = distances_to(X, centers.topRows(1)).col(0);
  for (Index c = 1; c < k; ++c) {
    const double total = nearest.sum();
    Index chosen = std::min<Index>(rows - 1, static_cast<Index>(uniform() * rows));
    if (total > 0) {
      const double target = uniform() * total;
      double cumulative = 0;
      for (chosen = 0; chosen < rows - 1; ++chosen) {
        cumulative += nearest(chosen);
        if (cumulative > target) break;
      }
    }
    centers.row(c) = X.row(chosen);
    nearest = nearest.cwiseMin(distances_to(X, centers.row(c)).col(0));
  }
  return centers;
}

/// Lloyd's iterations from `centers` until no label changes.
Clustering lloyd(const RowMatrix& X, RowMatrix centers, int max_iterations) {
  const Index rows = X.rows();
  const Index k = centers.rows();
  Clustering result;
  result.label.assign(static_cast<std::size_t>(rows), -1);
  for (int iteration = 0; iteration < max_iterations; ++iteration) {
    const Matrix d = distances_to(X, centers);
    bool changed = false;
    std::vector<Index> sizes(static_cast<std::size_t>(k), 0);
    for (Index i = 0; i < rows; ++i) {
      Index best = 0;
      d.row(i).minCoeff(&best);  // the first of equal minima: the lower index
      changed |= result.label[static_cast<std::size_t>(i)] != best;
      result.label[static_cast<std::size_t>(i)] = static_cast<int>(best);
      ++sizes[static_cast<std::size_t>(best)];
    }
    for (Index c = 0; c < k; ++c) {
      if (sizes[static_cast<std::size_t>(c)] > 0) continue;
      // An empty cluster takes the row farthest from its own center.
      Index farthest = 0;
      double distance = -1;
      for (Index i = 0; i < rows; ++i) {
        const auto own = static_cast<std::size_t>(i);
        if (sizes[static_cast<std::size_t>(result.label[own])] > 1 &&
            d(i, result.label[own]) > distance) {
          distance = d(i, result.label[own]);
          farthest = i;
        }
      }
      --sizes[static_cast<std::size_t>(result.label[static_cast<std::size_t>(farthest)])];
      result.label[static_cast<std::size_t>(farthest)] = static_cast<int>(c);
      sizes[static_cast<std::size_t>(c)] = 1;
      changed = true;
    }
    centers.setZero();
    for (Index i = 0; i < rows; ++i)
      centers.row(result.label[static_cast<std::size_t>(i)]) += X.row(i);
    for (Index c = 0; c < k; ++c)
      centers.row(c) /= static_cast<double>(sizes[static_cast<std::size_t>(c)]);
    if (!changed) break;
  }
  const Matrix d = distances_to(X, centers);
  for (Index i = 0; i < rows; ++i)
    result.inertia += d(i, result.label[static_cast<std::size_t>(i)]);
  result.centers = std::move(centers);
  return result;
}

/// The elementwise median of `rows` of X (numpy's: the mean of the middle two for an even count).
void median_of_rows(const RowMatrix& X, const std::vector<Index>& rows, Eigen::Ref<Vector> median) {
  std::vector<double> column(rows.size());
  const std::size_t half = rows.size() / 2;
  for (Index j = 0; j < X.cols(); ++j) {
    for (std::size_t r = 0; r < rows.size(); ++r) column[r] = X(rows[r], j);
    std::nth_element(column.begin(), column.begin() + static_cast<std::ptrdiff_t>(half),
                     column.end());
    double value = column[half];
    if (rows.size() % 2 == 0) {
      value = 0.5 * (value + *std::max_element(column.begin(),
                                               column.begin() + static_cast<std::ptrdiff_t>(half)));
    }
    median(j) = value;
  }
}

}  // namespace

RowMatrix unit_rows(const RowMatrix& components) {
  RowMatrix unit = components;
  for (Index i = 0; i < unit.rows(); ++i) {
    const double norm = unit.row(i).norm();
    if (norm > 0) unit.row(i) /= norm;
  }
  return unit;
}

Matrix squared_distances(const RowMatrix& X) {
  Matrix d = distances_to(X, X);
  d.diagonal().setZero();
  return d;
}

std::vector<double> local_density(const Matrix& squared_distance, Index neighbours) {
  const Index rows = squared_distance.rows();
  const auto count =
      static_cast<std::size_t>(std::clamp<Index>(neighbours, 1, std::max<Index>(rows - 1, 1)));
  std::vector<double> density(static_cast<std::size_t>(rows), 0.0);
  std::vector<double> others;
  for (Index i = 0; i < rows; ++i) {
    others.clear();
    for (Index j = 0; j < rows; ++j) {
      if (j != i) others.push_back(std::sqrt(squared_distance(i, j)));
    }
    if (others.empty()) continue;
    const std::size_t n = std::min(count, others.size());
    std::partial_sort(others.begin(), others.begin() + static_cast<std::ptrdiff_t>(n),
                      others.end());
    double sum = 0;
    for (std::size_t r = 0; r < n; ++r) sum += others[r];
    density[static_cast<std::size_t>(i)] = sum / static_cast<double>(n);
  }
  return density;
}

Clustering kmeans(const RowMatrix& X, Index k, std::uint64_t seed, int restarts,
                  int max_iterations) {
  if (k < 1 || k > X.rows()) {
    throw Error(ErrorKind::Internal,
                "kmeans: k = " + std::to_string(k) + " for " + std::to_string(X.rows()) + " rows");
  }
  Clustering best;
  best.inertia = std::numeric_limits<double>::infinity();
  for (int restart = 0; restart < std::max(1, restarts); ++restart) {
    Clustering run = lloyd(X, plus_plus_start(X, k, seed, restart), max_iterations);
    if (run.inertia < best.inertia) best = std::move(run);
  }
  return best;
}

double silhouette(const Matrix& squared_distance, const std::vector<int>& label, Index k) {
  if (k < 2) return 0;
  const Index rows = squared_distance.rows();
  std::vector<double> sums(static_cast<std::size_t>(k));
  std::vector<Index> sizes(static_cast<std::size_t>(k), 0);
  for (const int l : label) ++sizes[static_cast<std::size_t>(l)];
  double total = 0;
  for (Index i = 0; i < rows; ++i) {
    const auto own = static_cast<std::size_t>(label[static_cast<std::size_t>(i)]);
    if (sizes[own] < 2) continue;  // s(i) = 0 alone in its cluster
    std::fill(sums.begin(), sums.end(), 0.0);
    for (Index j = 0; j < rows; ++j) {
      if (j != i)
        sums[static_cast<std::size_t>(label[static_cast<std::size_t>(j)])] +=
            std::sqrt(squared_distance(i, j));
    }
    const double a = sums[own] / static_cast<double>(sizes[own] - 1);
    double b = std::numeric_limits<double>::infinity();
    for (std::size_t c = 0; c < sums.size(); ++c) {
      if (c != own && sizes[c] > 0) b = std::min(b, sums[c] / static_cast<double>(sizes[c]));
    }
    const double largest = std::max(a, b);
    if (largest > 0 && std::isfinite(b)) total += (b - a) / largest;
  }
  return rows > 0 ? total / static_cast<double>(rows) : 0;
}

Consensus consensus(const RowMatrix& pooled, const ConsensusOptions& options) {
  const RowMatrix unit = unit_rows(pooled);
  const Matrix distance = squared_distances(unit);
  Consensus result;
  result.density = local_density(distance, options.neighbours);
  std::vector<Index> kept;
  for (Index i = 0; i < unit.rows(); ++i) {
    if (result.density[static_cast<std::size_t>(i)] <= options.density_threshold) kept.push_back(i);
  }
  if (static_cast<Index>(kept.size()) < options.rank && options.keep_all_below_k) {
    result.filtered = false;
    kept.resize(static_cast<std::size_t>(unit.rows()));
    for (Index i = 0; i < unit.rows(); ++i) kept[static_cast<std::size_t>(i)] = i;
  }
  result.kept = static_cast<Index>(kept.size());
  if (result.kept < options.rank) {
    throw InputError("the density threshold " + std::to_string(options.density_threshold) +
                     " keeps " + std::to_string(result.kept) + " of " +
                     std::to_string(unit.rows()) + " components, fewer than k = " +
                     std::to_string(options.rank) + " (raise --density-threshold)");
  }
  RowMatrix X(result.kept, unit.cols());
  Matrix kept_distance(result.kept, result.kept);
  for (Index r = 0; r < result.kept; ++r) {
    X.row(r) = unit.row(kept[static_cast<std::size_t>(r)]);
    for (Index s = 0; s < result.kept; ++s) {
      kept_distance(r, s) =
          distance(kept[static_cast<std::size_t>(r)], kept[static_cast<std::size_t>(s)]);
    }
  }
  Clustering clustering =
      kmeans(X, options.rank, options.seed, options.restarts, options.max_iterations);
  // Clusters numbered in the order of their first member (the first replicate's components,
  // mostly): the same numbering whatever order k-means found them in, so that rounding-level
  // differences in the pooled components (another process layout) give the same consensus.
  std::vector<int> renumbered(static_cast<std::size_t>(options.rank), -1);
  int next = 0;
  for (int& label : clustering.label) {
    int& number = renumbered[static_cast<std::size_t>(label)];
    if (number < 0) number = next++;
    label = number;
  }
  result.cluster.assign(static_cast<std::size_t>(unit.rows()), -1);
  std::vector<std::vector<Index>> members(static_cast<std::size_t>(options.rank));
  for (Index r = 0; r < result.kept; ++r) {
    const int label = clustering.label[static_cast<std::size_t>(r)];
    result.cluster[static_cast<std::size_t>(kept[static_cast<std::size_t>(r)])] = label;
    members[static_cast<std::size_t>(label)].push_back(r);
  }
  result.components.resize(options.rank, unit.cols());
  for (Index c = 0; c < options.rank; ++c) {
    Vector median(unit.cols());
    median_of_rows(X, members[static_cast<std::size_t>(c)], median);
    result.components.row(c) = median.transpose();
  }
  result.silhouette = silhouette(kept_distance, clustering.label, options.rank);
  return result;
}

}  // namespace dnmf::nmf
