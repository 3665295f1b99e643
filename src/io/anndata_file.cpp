#include "dnmf/io/anndata_file.hpp"

#include <algorithm>
#include <set>

namespace dnmf::io {
namespace {

void set_encoding(OutputFile& out, const std::string& object, const std::string& type,
                  const std::string& version) {
  out.set_attribute(object, "encoding-type", type);
  out.set_attribute(object, "encoding-version", version);
}

}  // namespace

std::vector<std::string> tag_anndata_elements(
    OutputFile& out, const std::vector<std::pair<std::string, bool>>& datasets) {
  std::set<std::string> groups;
  for (const auto& [path, scalar] : datasets) {
    set_encoding(out, path, scalar ? "numeric-scalar" : "array", "0.2.0");
    for (std::size_t slash = path.rfind('/'); slash != 0 && slash != std::string::npos;
         slash = path.rfind('/', slash - 1)) {
      groups.insert(path.substr(0, slash));
    }
  }
  for (const std::string& group : groups) set_encoding(out, group, "dict", "0.1.0");
  return {groups.begin(), groups.end()};
}

void write_anndata_frame(OutputFile& out, const std::vector<std::string>& obs_names,
                         const std::vector<std::string>& var_names,
                         const std::vector<std::string>& written_groups) {
  set_encoding(out, "/", "anndata", "0.1.0");
  const std::pair<const char*, const std::vector<std::string>*> frames[] = {{"/obs", &obs_names},
                                                                            {"/var", &var_names}};
  for (const auto& [frame, names] : frames) {
    out.write_strings(std::string(frame) + "/_index", *names);
    set_encoding(out, std::string(frame) + "/_index", "string-array", "0.2.0");
    set_encoding(out, frame, "dataframe", "0.2.0");
    out.set_attribute(frame, "_index", "_index");
    out.set_attribute(frame, "column-order", std::vector<double>{});
  }
  for (const char* dict : {"/obsm", "/varm", "/obsp", "/varp", "/layers", "/uns"}) {
    if (std::find(written_groups.begin(), written_groups.end(), dict) != written_groups.end()) {
      continue;
    }
    out.create_group(dict);
    set_encoding(out, dict, "dict", "0.1.0");
  }
}

std::optional<std::vector<std::string>> read_anndata_names(const InputFile& file,
                                                           const std::string& axis) {
  const std::string frame = "/" + axis;
  if (!file.is_group(frame)) return std::nullopt;
  const std::optional<std::string> index = file.object_string_attribute(frame, "_index");
  if (!index) return std::nullopt;
  return file.read_strings(frame + "/" + *index);
}

}  // namespace dnmf::io
