#!/usr/bin/python3
"""The layering (core -> mpi -> io, nmf, nn -> the program) checked on the includes: the build's
link check (tests/CMakeLists.txt, layering_*) catches a call that runs upward, this catches an
include that does, also of a header-only template that links in any case.

Each source file belongs to the library whose add_library lists it in src/ (and src/nn/); a header
include/dnmf/L/X.hpp to the library of src/L/X.cpp, or, header-only, to the lowest library of its
folder that may include everything it includes. A file may include headers of its own library and
of the libraries it links, directly or through them (target_link_libraries). --dot prints the
library graph of the includes found, for DESIGN.md."""

import argparse
import os
import re
import sys


def cmake_libraries(cmake_file):
    """{target: [source paths relative to the project]} and {target: [dnmf_* it links]}."""
    text = re.sub(r"#[^\n]*", "", open(cmake_file).read())
    folder = os.path.dirname(cmake_file)
    sources, links = {}, {}
    for kind, name, body in re.findall(r"(add_library|add_executable)\((\w+)([^)]*)\)", text):
        sources[name] = [os.path.normpath(os.path.join(folder, f)) for f in body.split()
                         if f.endswith(".cpp")]
    for name, body in re.findall(r"target_link_libraries\((\w+)([^)]*)\)", text):
        links.setdefault(name, []).extend(re.findall(r"\bdnmf_\w+", body))
    return sources, links


def below(links, library):
    """Every library `library` may use: itself and what it links, transitively."""
    seen, todo = {library}, [library]
    while todo:
        for dependency in links.get(todo.pop(), []):
            if dependency not in seen:
                seen.add(dependency)
                todo.append(dependency)
    return seen


def includes(path):
    return re.findall(r'^\s*#\s*include\s+"([^"]+)"', open(path).read(), re.M)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--root", default=os.path.join(os.path.dirname(__file__), ".."))
    parser.add_argument("--dot", action="store_true", help="print the library graph and exit")
    options = parser.parse_args()
    os.chdir(options.root)

    sources, links = {}, {}
    for cmake_file in ("src/CMakeLists.txt", "src/nn/CMakeLists.txt"):
        s, l = cmake_libraries(cmake_file)
        sources.update(s)
        for name, deps in l.items():
            links.setdefault(name, []).extend(deps)
    owner = {path: library for library, paths in sources.items() for path in paths}
    allowed = {library: below(links, library) for library in sources}

    def header_path(include):
        for base in ("include", "src"):
            if os.path.exists(os.path.join(base, include)):
                return os.path.normpath(os.path.join(base, include))
        return None

    def library_of(path, visiting=()):
        if path in owner:
            return owner[path]
        if not path.startswith("include/dnmf/"):
            return owner.get(path.replace(".hpp", ".cpp"))  # src/cli/x.hpp and its .cpp
        layer, stem = path.split("/")[2], os.path.splitext(os.path.basename(path))[0]
        source = f"src/{layer}/{stem}.cpp"
        if source in owner:
            owner[path] = owner[source]
            return owner[path]
        # Header-only: the lowest library of the folder that may include all it includes.
        needed = {library_of(h, visiting + (path,)) for h in map(header_path, includes(path))
                  if h and h not in visiting}
        needed.discard(None)
        candidates = sorted({owner[s] for s in owner if s.startswith(f"src/{layer}/")},
                            key=lambda lib: len(allowed[lib]))
        for candidate in candidates:
            if needed <= allowed[candidate]:
                owner[path] = candidate
                return candidate
        owner[path] = candidates[0] if candidates else None
        return owner[path]

    files = [os.path.join(d, f) for top in ("src", "include") for d, _, fs in os.walk(top)
             for f in fs if f.endswith((".cpp", ".hpp"))]
    problems, edges = [], set()
    for path in sorted(os.path.normpath(f) for f in files):
        library = library_of(path)
        if library is None:
            if path.endswith(".cpp"):
                problems.append(f"{path}: in no library of src/CMakeLists.txt")
            continue
        for include in includes(path):
            target = header_path(include)
            if target is None:
                continue
            used = library_of(target)
            if used is None:
                continue
            if used != library:
                edges.add((library, used))
            if used not in allowed[library]:
                problems.append(f"{path} ({library}) includes {include} ({used}), which "
                                f"{library} does not link")
    if options.dot:
        print("digraph layers {")
        for a, b in sorted(edges):
            print(f"  {a} -> {b};")
        print("}")
        return 0
    for problem in problems:
        print(problem)
    print(f"{len(files)} files, {len(edges)} library edges, {len(problems)} upward includes")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
