#!/usr/bin/env python3
"""How far a numerics fingerprint moves under changes that keep the arithmetic equivalent, and
under the deliberate changes of AUTOINT_TEST_NUMERICS_CHANGE: the measurement behind the
tolerance of `docs/scripts/results.sh --check` (docs/results.md, "How these tables are made").

    docs/scripts/fingerprint_noise.py CONFIG...

Environment: AUTOINT_ML1M_DIR (default ../shared/data/ml-1m), AUTOINT_BUILD_DIR (default
build/release). Prints, for each config and change, the largest relative difference over the
fingerprint's figures (the config hash left out) and where it is.
"""
import json
import os
import subprocess
import sys

DATA = os.environ.get("AUTOINT_ML1M_DIR", "../shared/data/ml-1m")
TRAIN = os.path.join(os.environ.get("AUTOINT_BUILD_DIR", "build/release"), "apps", "autoint-train")
ENV = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
ENV.pop("AUTOINT_TEST_NUMERICS_CHANGE", None)


def fingerprint(config, sets=(), env=None):
    args = [TRAIN, "--config", config, "--set", f"data.dir={DATA}", "--set", "train.threads=1",
            "--set", "train.progress=none"]
    for s in sets:
        args += ["--set", s]
    run = subprocess.run(args + ["--fingerprint"], env=dict(ENV, **(env or {})), check=True,
                         capture_output=True, text=True)
    return json.loads(run.stdout)


def leaves(x, path=""):
    if isinstance(x, dict):
        for k, v in x.items():
            if k != "config_fnv1a64":
                yield from leaves(v, f"{path}.{k}")
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from leaves(v, f"{path}[{i}]")
    else:
        yield path, x


def difference(a, b):
    a, b = dict(leaves(a)), dict(leaves(b))
    worst, where, exact = 0.0, "-", 0
    for k, x in a.items():
        y = b.get(k)
        if isinstance(x, float) and isinstance(y, float):
            r = abs(x - y) / max(abs(x), abs(y), 1e-300)
            if r > worst:
                worst, where = r, k.lstrip(".")
        elif x != y:
            exact += 1
    return f"{worst:.2g} (at {where}); {exact} integer or id figures differ"


CHANGES = [
    ("none (a rerun)", (), None),
    ("OPENBLAS_NUM_THREADS=2", (), {"OPENBLAS_NUM_THREADS": "2", "OMP_NUM_THREADS": "2"}),
    ("eval.batch_size=1000", ("eval.batch_size=1000",), None),
    ("model.attention_kernel=plain", ("model.attention_kernel=plain",), None),
    ("one initial weight + 1e-3", (), {"AUTOINT_TEST_NUMERICS_CHANGE": "initial_weight"}),
    ("one step more per epoch", (), {"AUTOINT_TEST_NUMERICS_CHANGE": "extra_step"}),
]

for config in sys.argv[1:]:
    base = fingerprint(config)
    print(config)
    for label, sets, env in CHANGES:
        print(f"  {label:30} {difference(base, fingerprint(config, sets, env))}")
