#pragma once
// The AnnData (.h5ad) layout, as anndata 0.8 writes and reads it: every group and dataset
// carries an `encoding-type` and an `encoding-version` attribute; the root is an "anndata"; obs
// and var are data frames indexed by their names (a "string-array"); obsm, varm, obsp, varp,
// layers and uns are "dict"s of "array"s (and of "numeric-scalar"s, "dict"s, in uns). Enough to
// write results that anndata.read_h5ad opens, and to read the names of an AnnData input.

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dnmf/io/input_file.hpp"
#include "dnmf/io/output_file.hpp"

namespace dnmf::io {

/// Collective: what anndata.read_h5ad needs besides the caller's arrays: the root's encoding,
/// obs and var indexed by `obs_names` and `var_names` (rank 0's; no columns), and the dicts
/// obsm, varm, obsp, varp, layers and uns (created where the caller wrote nothing).
void write_anndata_frame(OutputFile& out, const std::vector<std::string>& obs_names,
                         const std::vector<std::string>& var_names,
                         const std::vector<std::string>& written_groups);

/// Collective: tags each dataset written below a dict (obsm/X, uns/a/b, ...) as an "array", or
/// a "numeric-scalar" for one of no dimensions (the pairs: path, whether scalar), and every
/// group on their way below the root as a "dict". Returns those groups.
std::vector<std::string> tag_anndata_elements(
    OutputFile& out, const std::vector<std::pair<std::string, bool>>& datasets);

/// Not collective: the obs or var (`axis`) names of an AnnData file (the dataset its data frame's
/// `_index` attribute names); nullopt when `file` has no such data frame.
std::optional<std::vector<std::string>> read_anndata_names(const InputFile& file,
                                                           const std::string& axis);

}  // namespace dnmf::io
