"""`python -m bench [NAME ...]` runs benchmarks; with no name, lists them."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import bench


def main(argv: list[str]) -> int:
    names = sorted(
        m.name for m in pkgutil.iter_modules(bench.__path__) if m.name.startswith("bench_")
    )
    if not argv or argv[0] in ("-h", "--help", "list"):
        print("benchmarks:", ", ".join(n.removeprefix("bench_") for n in names))
        print("usage: ./run bench NAME [--devices N] ...")
        return 0
    name = "bench_" + argv[0].removeprefix("bench_")
    if name not in names:
        print(f"no benchmark {argv[0]!r}; choose from {', '.join(names)}", file=sys.stderr)
        return 2
    module = importlib.import_module(f"bench.{name}")
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
