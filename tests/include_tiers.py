#!/usr/bin/env python3
"""The library's tiers (README.md, "Layout"): a header or source of libautoint may include
autoint headers of its own tier and of the tiers before it in TIERS, never of a later one.
Exits 1 listing every include that goes the wrong way.

    tests/include_tiers.py [SOURCE_DIR]
"""
import glob
import os
import re
import sys

# Earliest first. A folder's sub-folder is its own tier when listed (data/table after data).
TIERS = [
    ["util", "device.h", "device.cpp", "error.h", "field_kind.h", "version.h"],
    ["data"],
    ["data/table"],
    ["nn"],
    ["config"],
    ["movielens"],
    ["eval"],
    ["train"],
    ["report"],
    ["experiment"],
    ["recommend"],
    ["serve", "bench"],
]
RANK = {name: i for i, names in enumerate(TIERS) for name in names}


def tier_of(relative):
    """The tier of a path relative to include/autoint/ or src/ (the longest listed prefix)."""
    best = None
    for name in RANK:
        if relative == name or relative.startswith(name + "/"):
            if best is None or len(name) > len(best):
                best = name
    return best


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    lib = os.path.join(root, "libautoint")
    files = []
    for base in ("include/autoint", "src"):
        top = os.path.join(lib, base)
        for path in glob.glob(os.path.join(top, "**", "*.*"), recursive=True):
            if path.endswith((".h", ".cpp")):
                files.append((path, os.path.relpath(path, top)))
    wrong = []
    for path, relative in files:
        if relative == "autoint.h":  # the umbrella header includes everything
            continue
        own = tier_of(relative)
        if own is None:
            wrong.append(f"{path}: in no tier of tests/include_tiers.py")
            continue
        text = open(path, encoding="utf-8").read()
        for included in re.findall(r'#include "autoint/([^"]+)"', text):
            other = tier_of(included)
            if other is None:
                wrong.append(f"{path}: includes autoint/{included}, which is in no tier")
            elif RANK[other] > RANK[own]:
                wrong.append(f"{path} ({own}) includes autoint/{included} ({other}), a later tier")
    for line in wrong:
        print(line)
    if wrong:
        return 1
    print(f"include_tiers: {len(files)} files, every include within its tier or an earlier one")
    return 0


if __name__ == "__main__":
    sys.exit(main())
