#!/usr/bin/env bash
# Runs clang-tidy (the checks of .clang-tidy) over every translation unit of src/, in parallel,
# with the flags the build compiles it with (build/compile_commands.json). Headers of
# include/dnmf and src are checked as the translation units include them (HeaderFilterRegex);
# the tests are not checked. Any finding fails (WarningsAsErrors). The suite runs this as the
# ctest `tidy`. Usage: scripts/tidy.sh [BUILD_DIR [clang-tidy options]], BUILD_DIR by default
# build, e.g. scripts/tidy.sh build --enable-check-profile to see what each check costs.
set -euo pipefail
cd "$(dirname "$0")/.."
source_dir=$(pwd)
build_dir=$(cd "${1:-build}" && pwd)
shift || true

if [ ! -f "$build_dir/compile_commands.json" ]; then
  echo "no $build_dir/compile_commands.json: configure first (scripts/build.sh)" >&2
  exit 1
fi
clang_tidy=${CLANG_TIDY:-clang-tidy}
command -v "$clang_tidy" >/dev/null || {
  echo "$clang_tidy not found: scripts/install-deps.sh installs it" >&2
  exit 1
}

# The program's own compile commands only: one per file of src/ (the tests compile
# src/cli/instruction_set_check.cpp once more, for another -march).
database_dir="$build_dir/tidy"
mkdir -p "$database_dir"
python3 - "$build_dir" "$source_dir" "$database_dir" <<'EOF'
import json, os, shlex, sys
build_dir, source_dir, database_dir = sys.argv[1:]
program_dir = os.path.join(build_dir, "src")
src = os.path.join(source_dir, "src") + os.sep
with open(os.path.join(build_dir, "compile_commands.json")) as f:
    commands = json.load(f)
ours = []
for c in commands:
    if not c["file"].startswith(src) or not (c["directory"] + os.sep).startswith(program_dir + os.sep):
        continue
    # GCC's -include of its AVX-512 warning workaround: clang has no such warning (and errors on
    # the unknown warning group), so the header is left out.
    arguments = shlex.split(c["command"])
    for i in range(len(arguments) - 1):
        if arguments[i] == "-include" and arguments[i + 1].endswith("gcc_avx512_warning_workaround.hpp"):
            del arguments[i:i + 2]
            break
    # The start-up instruction-set check is written for GCC's __builtin_cpu_supports, some of
    # whose feature names (f16c, lzcnt, movbe: x86-64-v3) clang 14 rejects: it is checked as
    # compiled for x86-64-v2, where those lines drop out (function sizes still count them).
    if c["file"].endswith("/cli/instruction_set_check.cpp"):
        arguments.append("-march=x86-64-v2")
    ours.append({"directory": c["directory"], "file": c["file"], "arguments": arguments})
with open(os.path.join(database_dir, "compile_commands.json"), "w") as f:
    json.dump(ours, f, indent=1)
with open(os.path.join(database_dir, "files"), "w") as f:
    f.writelines(c["file"] + "\n" for c in ours)
EOF

# Each file's findings printed together once it is done (not interleaved with the others').
export clang_tidy database_dir
# The machine's cores, whatever OMP_NUM_THREADS says (GNU nproc honours it; the suite sets it to 1).
xargs -P "$(env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc)" -I '{}' sh -c '
  file=$1
  shift
  if ! out=$("$clang_tidy" -p "$database_dir" --quiet "$@" "$file" 2>&1); then
    printf "%s\n" "$out"
    exit 1
  fi' sh '{}' "$@" <"$database_dir/files"
echo "clang-tidy: no findings in $(wc -l <"$database_dir/files") translation units of src/"
