// io/anndata_file at any rank count, with the OutputFile calls it rests on (groups, object
// attributes, string datasets): a frame written with names and tagged arrays reads back through
// InputFile as AnnData lays it out (encodings of the root, the data frames, their string-array
// index, the dicts, arrays and scalars; the empty column-order), the names come back through
// read_anndata_names, and a file without data frames has none. Fixed-length strings (older
// writers) read too.

#include <gtest/gtest.h>
#include <hdf5.h>

#include <string>
#include <vector>

#include "dnmf/io/anndata_file.hpp"
#include "dnmf/mpi/communicator.hpp"
#include "scratch_directory.hpp"

namespace {

using dnmf::mpi::Communicator;

TEST(AnnDataFile, AFrameReadsBackAsAnnDataLaysItOut) {
  Communicator world = Communicator::world();
  const std::string path = testing_support::scratch_directory(world) + "/programs.h5ad";
  const std::vector<std::string> cells = {"AAAC-1", "AAAG-1", "ÄÖ-2"};
  const std::vector<std::string> genes = {"CD3E", "MS4A1"};
  {
    dnmf::io::OutputFile out(path, world);
    const double loadings[4] = {1, 2, 3, 4};
    const double k = 2;
    out.write_array("/varm/nmf_loadings", {2, 2}, loadings);
    out.write_array("/uns/sweep/chosen_k", {}, &k);
    const auto groups = dnmf::io::tag_anndata_elements(
        out, {{"/varm/nmf_loadings", false}, {"/uns/sweep/chosen_k", true}});
    EXPECT_EQ(groups, (std::vector<std::string>{"/uns", "/uns/sweep", "/varm"}));
    dnmf::io::write_anndata_frame(out, cells, genes, groups);
    out.commit();
  }
  const dnmf::io::InputFile file(path, world);
  const auto encoding = [&](const std::string& object) {
    return file.object_string_attribute(object, "encoding-type").value_or("none") + " " +
           file.object_string_attribute(object, "encoding-version").value_or("none");
  };
  EXPECT_EQ(encoding("/"), "anndata 0.1.0");
  EXPECT_EQ(encoding("/obs"), "dataframe 0.2.0");
  EXPECT_EQ(encoding("/var/_index"), "string-array 0.2.0");
  for (const char* dict : {"/obsm", "/varm", "/obsp", "/varp", "/layers", "/uns", "/uns/sweep"}) {
    EXPECT_EQ(encoding(dict), "dict 0.1.0") << dict;
  }
  EXPECT_EQ(encoding("/varm/nmf_loadings"), "array 0.2.0");
  EXPECT_EQ(encoding("/uns/sweep/chosen_k"), "numeric-scalar 0.2.0");
  EXPECT_EQ(file.object_string_attribute("/obs", "_index"), "_index");
  EXPECT_EQ(file.object_number_attribute("/var", "column-order"), std::vector<double>{});
  EXPECT_EQ(dnmf::io::read_anndata_names(file, "obs"), cells);
  EXPECT_EQ(dnmf::io::read_anndata_names(file, "var"), genes);
  EXPECT_EQ(dnmf::io::read_anndata_names(file, "raw"), std::nullopt);
}

TEST(AnnDataFile, FixedLengthNamesReadToo) {
  Communicator world = Communicator::world();
  const std::string path = testing_support::scratch_directory(world) + "/old.h5ad";
  if (world.is_root()) {
    const hid_t file = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t group = H5Gcreate2(file, "obs", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const hid_t text = H5Tcopy(H5T_C_S1);
    H5Tset_size(text, 5);
    const hsize_t two = 2;
    const hid_t space = H5Screate_simple(1, &two, nullptr);
    const hid_t names =
        H5Dcreate2(group, "index", text, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    const char values[10] = {'c', 'e', 'l', 'l', 'A', 'b', '\0', '\0', '\0', '\0'};
    H5Dwrite(names, text, H5S_ALL, H5S_ALL, H5P_DEFAULT, values);
    const hid_t scalar = H5Screate(H5S_SCALAR);
    const hid_t attribute_type = H5Tcopy(H5T_C_S1);
    H5Tset_size(attribute_type, 5);
    const hid_t attribute =
        H5Acreate2(group, "_index", attribute_type, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(attribute, attribute_type, "index");
    for (const hid_t id : {attribute}) H5Aclose(id);
    for (const hid_t id : {scalar, space}) H5Sclose(id);
    for (const hid_t id : {text, attribute_type}) H5Tclose(id);
    H5Dclose(names);
    H5Gclose(group);
    H5Fclose(file);
  }
  world.barrier();
  const dnmf::io::InputFile file(path, world);
  EXPECT_EQ(dnmf::io::read_anndata_names(file, "obs"), (std::vector<std::string>{"cellA", "b"}));
}

}  // namespace
