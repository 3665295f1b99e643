#pragma once
// Options with a fixed set of values (--algorithm, --loss, --model, --optimizer, ...): an enum
// and a table of its names, parsed once where text enters dnmf (the command line, a file's
// attribute), with one message format for every such option: "WHAT: 'TEXT' is not one of a, b".

#include <cstddef>
#include <string>

#include "dnmf/core/error.hpp"

namespace dnmf {

template <class Enum>
struct NamedValue {
  Enum value;
  const char* name;
};

/// The name of `value` in `names` (every enumerator has one: a missing one is a bug).
template <class Enum, std::size_t N>
std::string name_of(Enum value, const NamedValue<Enum> (&names)[N]) {
  for (const NamedValue<Enum>& named : names) {
    if (named.value == value) return named.name;
  }
  throw Error(ErrorKind::Internal, "an enumerator without a name");
}

/// The value named `text`; otherwise throws an error of `kind` (UsageError for an option,
/// InputError for a file's content) saying "WHAT: 'TEXT' is not one of a, b, c".
template <class Enum, std::size_t N>
Enum parse_named(const std::string& what, const std::string& text,
                 const NamedValue<Enum> (&names)[N], ErrorKind kind = ErrorKind::Usage) {
  std::string valid;
  for (const NamedValue<Enum>& named : names) {
    if (text == named.name) return named.value;
    valid += (valid.empty() ? "" : ", ") + std::string(named.name);
  }
  throw_error(kind, what + ": '" + text + "' is not one of " + valid);
}

}  // namespace dnmf
