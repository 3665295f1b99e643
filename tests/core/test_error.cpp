// core/error: throw_error and throw_agreed_error raise the class of each kind, with the message
// unchanged, the exit code of its kind (2 for usage, 1 otherwise) and on_all_ranks set only for
// an agreed error.

#include <gtest/gtest.h>

#include <string>
#include <typeinfo>

#include "dnmf/core/error.hpp"

namespace {

using dnmf::ErrorKind;

/// The dynamic class a kind must be thrown as.
template <class E>
bool is_class(const dnmf::Error& error) {
  return typeid(error) == typeid(E);
}

bool has_class_of(ErrorKind kind, const dnmf::Error& error) {
  switch (kind) {
    case ErrorKind::Usage: return is_class<dnmf::UsageError>(error);
    case ErrorKind::Input: return is_class<dnmf::InputError>(error);
    case ErrorKind::Io: return is_class<dnmf::IoError>(error);
    case ErrorKind::Mpi: return is_class<dnmf::MpiError>(error);
    case ErrorKind::Internal: return is_class<dnmf::Error>(error);
  }
  return false;
}

constexpr ErrorKind kKinds[] = {ErrorKind::Usage, ErrorKind::Input, ErrorKind::Io, ErrorKind::Mpi,
                                ErrorKind::Internal};

TEST(Error, ThrowErrorRaisesTheClassOfEachKindNotAgreed) {
  for (const ErrorKind kind : kKinds) {
    const std::string message = "problem " + std::to_string(static_cast<int>(kind));
    try {
      dnmf::throw_error(kind, message);
      FAIL() << "no error";
    } catch (const dnmf::Error& error) {
      EXPECT_EQ(error.kind(), kind);
      EXPECT_TRUE(has_class_of(kind, error)) << typeid(error).name();
      EXPECT_EQ(std::string(error.what()), message);
      EXPECT_EQ(error.exit_code(), kind == ErrorKind::Usage ? 2 : 1);
      EXPECT_FALSE(error.on_all_ranks());
    }
  }
}

TEST(Error, ThrowAgreedErrorRaisesTheSameClassMarkedOnAllRanks) {
  for (const ErrorKind kind : kKinds) {
    try {
      dnmf::throw_agreed_error(kind, "agreed");
      FAIL() << "no error";
    } catch (const dnmf::Error& error) {
      EXPECT_EQ(error.kind(), kind);
      EXPECT_TRUE(has_class_of(kind, error)) << typeid(error).name();
      EXPECT_EQ(std::string(error.what()), "agreed");
      EXPECT_EQ(error.exit_code(), kind == ErrorKind::Usage ? 2 : 1);
      EXPECT_TRUE(error.on_all_ranks());
    }
  }
}

TEST(Error, AnUnknownKindValueBecomesAnInternalError) {
  try {
    dnmf::throw_error(static_cast<ErrorKind>(17), "odd");
    FAIL() << "no error";
  } catch (const dnmf::Error& error) {
    EXPECT_EQ(error.kind(), ErrorKind::Internal);
    EXPECT_EQ(std::string(error.what()), "odd");
  }
}

TEST(Error, TheErrorClassesCarryTheirKindAndAreRuntimeErrors) {
  EXPECT_EQ(dnmf::UsageError("u").kind(), ErrorKind::Usage);
  EXPECT_EQ(dnmf::InputError("i").kind(), ErrorKind::Input);
  EXPECT_EQ(dnmf::IoError("o").kind(), ErrorKind::Io);
  EXPECT_EQ(dnmf::MpiError("m").kind(), ErrorKind::Mpi);
  dnmf::IoError error("disk full");
  EXPECT_FALSE(error.on_all_ranks());
  error.set_on_all_ranks();
  EXPECT_TRUE(error.on_all_ranks());
  EXPECT_THROW(throw dnmf::InputError("x"), std::runtime_error);
}

}  // namespace
