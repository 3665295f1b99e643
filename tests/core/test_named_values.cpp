// core/named_values: every option with a fixed set of values parses through one table, with
// one message format and the error kind of where the text came from.

#include <gtest/gtest.h>

#include <string>

#include "dnmf/core/error.hpp"
#include "dnmf/core/named_values.hpp"

namespace {

enum class Colour { Red, Green, Blue };
constexpr dnmf::NamedValue<Colour> kColours[] = {
    {Colour::Red, "red"}, {Colour::Green, "green"}, {Colour::Blue, "blue"}};

TEST(NamedValues, EveryNameParsesToItsValueAndBack) {
  for (const auto& named : kColours) {
    EXPECT_EQ(dnmf::parse_named("--colour", named.name, kColours), named.value);
    EXPECT_EQ(dnmf::name_of(named.value, kColours), named.name);
  }
}

TEST(NamedValues, AnUnknownNameIsAUsageErrorListingTheValidOnes) {
  try {
    dnmf::parse_named("--colour", "Red", kColours);
    FAIL() << "no error";
  } catch (const dnmf::UsageError& error) {
    EXPECT_STREQ(error.what(), "--colour: 'Red' is not one of red, green, blue");
    EXPECT_FALSE(error.on_all_ranks());
  }
}

TEST(NamedValues, TextFromAFileIsAnInputErrorInTheSameFormat) {
  try {
    dnmf::parse_named("m.h5: attribute colour", "", kColours, dnmf::ErrorKind::Input);
    FAIL() << "no error";
  } catch (const dnmf::InputError& error) {
    EXPECT_STREQ(error.what(), "m.h5: attribute colour: '' is not one of red, green, blue");
  }
}

TEST(NamedValues, AnEnumeratorWithoutANameIsAnInternalError) {
  constexpr dnmf::NamedValue<Colour> partial[] = {{Colour::Red, "red"}};
  try {
    dnmf::name_of(Colour::Blue, partial);
    FAIL() << "no error";
  } catch (const dnmf::Error& error) {
    EXPECT_EQ(error.kind(), dnmf::ErrorKind::Internal);
  }
}

}  // namespace
