#!/usr/bin/env python3
"""`make check-layering`: the module direction of docs/architecture.md, checked.

Every library under src/<module>/ has a rank; a module may include the headers of, and link
to, modules of a lower rank only (its own module aside). Modules of the same rank are
siblings and may not use each other (decode and capture, import and clickhouse, report and
probe). The check reads every `#include "module/..."` line under src/ and every
`target_link_libraries(flowscope_<module> ...)` in src/*/CMakeLists.txt, and fails with one
line per arrow against the direction. python/, tests/, bench/ and fuzz/ sit outside the chain.

A header whose opening comment says "Internal to flowscope_<module>" is that module's private
header: no other module may include it (its tests may).

Usage: scripts/check-layering.py [REPO_ROOT]
"""
import pathlib
import re
import sys

# core <- decode, capture <- session <- enrich <- store <- import <- query <- probe <- server <- cli
RANK = {
    "core": 0,
    "io": 1,
    "decode": 1,
    "capture": 1,
    "gen": 2,  # synthetic export over decode's encoders
    "session": 2,
    "enrich": 3,
    "store": 4,
    "import": 5,
    "clickhouse": 5,  # a store::Backend
    "query": 6,
    "report": 7,
    "probe": 7,
    "server": 8,
    "cli": 9,
}
# A library whose target name is not flowscope_<module>.
TARGET_MODULE = {"flowscope_tcpflow": "capture", "flowscope_cli_lib": "cli", "flowscope": "cli"}

INCLUDE = re.compile(r'^\s*#\s*include\s+"(([a-z_]+)/[^"]+)"')
INTERNAL = re.compile(r"Internal to (flowscope_[a-z_]+)")
LINK = re.compile(r"target_link_libraries\(\s*([A-Za-z0-9_]+)([^)]*)\)", re.S)


def module_of_target(name):
    if name in TARGET_MODULE:
        return TARGET_MODULE[name]
    if name.startswith("flowscope_"):
        return name[len("flowscope_"):]
    return None


def allowed(src, dst):
    return src == dst or RANK[dst] < RANK[src]


def main():
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
    src_dir = root / "src"
    errors = []
    modules = sorted(p.name for p in src_dir.iterdir() if p.is_dir())
    internal = {}  # "report/report_builder.h" -> "report"
    for header in sorted(src_dir.rglob("*.h")):
        head = "\n".join(header.read_text(errors="replace").splitlines()[:12])
        m = INTERNAL.search(head)
        if m:
            internal[str(header.relative_to(src_dir))] = module_of_target(m.group(1))
    for m in modules:
        if m not in RANK:
            errors.append(f"src/{m}/: a module without a rank; add it to RANK in "
                          f"scripts/check-layering.py and to docs/architecture.md")
    for path in sorted(src_dir.rglob("*")):
        if path.suffix not in (".h", ".cpp", ".def", ".inc") or not path.is_file():
            continue
        src = path.relative_to(src_dir).parts[0]
        if src not in RANK:
            continue
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            m = INCLUDE.match(line)
            if not m or m.group(2) not in RANK:
                continue
            dst = m.group(2)
            owner = internal.get(m.group(1))
            if owner is not None and owner != src:
                errors.append(f"{path.relative_to(root)}:{n}: {src} includes {m.group(1)}, "
                              f"internal to {owner}: use {owner}'s public headers")
            if not allowed(src, dst):
                errors.append(f"{path.relative_to(root)}:{n}: {src} includes {dst} "
                              f"(rank {RANK[src]} -> {RANK[dst]}): against the module direction")
    for cmake in sorted(src_dir.glob("*/CMakeLists.txt")) + sorted(src_dir.glob("*/*/CMakeLists.txt")):
        text = cmake.read_text()
        for m in LINK.finditer(text):
            src = module_of_target(m.group(1))
            if src not in RANK:
                continue
            for word in m.group(2).split():
                dst = module_of_target(word)
                if dst is None or dst not in RANK:
                    continue
                if not allowed(src, dst):
                    line = text[: m.start()].count("\n") + 1
                    errors.append(f"{cmake.relative_to(root)}:{line}: {m.group(1)} links {word} "
                                  f"(rank {RANK[src]} -> {RANK[dst]}): against the module "
                                  f"direction")
    for e in errors:
        print(e, file=sys.stderr)
    if errors:
        print(f"check-layering: {len(errors)} arrow(s) against the direction "
              f"(docs/architecture.md)", file=sys.stderr)
        return 1
    print(f"check-layering: {len(modules)} modules, every include and link points down; "
          f"{len(internal)} internal headers stay in their module")
    return 0


if __name__ == "__main__":
    sys.exit(main())
