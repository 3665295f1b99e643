#pragma once
// Consensus of many replicates' components, as cNMF does it (Kotliar et al., "Identifying gene
// expression programs of cell-type identity and cellular activity with single-cell RNA-Seq",
// eLife 8:e43803, 2019): the R replicates' k components each (rows of their H), normalized to
// unit L2 norm and pooled; outliers dropped by local density (the mean distance to their
// nearest neighbours); the rest clustered into k groups by k-means (k-means++ starts, Arthur &
// Vassilvitskii 2007, then Lloyd's iterations); each cluster's elementwise median is a
// consensus component, and the silhouette of the clustering (Rousseeuw 1987) says how stable
// the components are across replicates. Serial and deterministic: the same pooled components
// and seed give the same result on any rank.

#include <cstdint>
#include <vector>

#include "dnmf/core/matrix.hpp"

namespace dnmf::nmf {

struct ConsensusOptions {
  Index rank = 0;                  ///< k, the clusters
  Index neighbours = 1;            ///< for the local density: cNMF's 0.3 R; the sweep uses R / 3
  double density_threshold = 0.5;  ///< drop components whose density is above it
  /// When the threshold keeps fewer than k components: keep them all (Consensus::filtered
  /// false) instead of refusing (the sweep, where one k must not end the others).
  bool keep_all_below_k = false;
  std::uint64_t seed = 1;    ///< of k-means++
  int restarts = 10;         ///< k-means runs from independent starts; the best is kept
  int max_iterations = 300;  ///< Lloyd's iterations per run
};

struct Consensus {
  RowMatrix components;         ///< k x n: each cluster's elementwise median, in its row
                                ///< (clusters numbered in the order of their first member)
  std::vector<double> density;  ///< of every pooled component
  std::vector<int> cluster;     ///< of every pooled component; -1 where dropped
  Index kept = 0;               ///< components at or below the density threshold
  bool filtered = true;         ///< false: keep_all_below_k kept every component
  double silhouette = 0;        ///< mean silhouette of the kept components' clustering
};

/// Each row scaled to unit L2 norm (a zero row stays zero).
RowMatrix unit_rows(const RowMatrix& components);

/// Squared Euclidean distances between the rows of X (symmetric, zero diagonal).
Matrix squared_distances(const RowMatrix& X);

/// For each row: the mean Euclidean distance to its `neighbours` nearest other rows.
std::vector<double> local_density(const Matrix& squared_distance, Index neighbours);

struct Clustering {
  std::vector<int> label;  ///< of each row, in [0, k)
  RowMatrix centers;       ///< k x n, the mean of each cluster's rows
  double inertia = 0;      ///< Σ squared distance of each row to its center
};

/// k-means of the rows of X: `restarts` runs from k-means++ starts drawn from `seed`, each of
/// Lloyd's iterations until no label changes (or `max_iterations`); the run of least inertia.
/// Ties go to the lower cluster index; a cluster left empty restarts from the row farthest
/// from its center. Needs k <= rows.
Clustering kmeans(const RowMatrix& X, Index k, std::uint64_t seed, int restarts,
                  int max_iterations);

/// Mean silhouette s(i) = (b - a) / max(a, b) over the rows (a: mean distance to the others of
/// its cluster, b: the least mean distance to another cluster's rows; 0 for a row alone in its
/// cluster); 0 with fewer than two clusters.
double silhouette(const Matrix& squared_distance, const std::vector<int>& label, Index k);

/// The whole consensus of `pooled` (R k x n, one component a row). Throws InputError when the
/// density threshold keeps fewer than k components (unless options.keep_all_below_k).
Consensus consensus(const RowMatrix& pooled, const ConsensusOptions& options);

}  // namespace dnmf::nmf
