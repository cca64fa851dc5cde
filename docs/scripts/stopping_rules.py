#!/usr/bin/python3
# Replays early-stopping rules on the validation histories that finished runs recorded in
# their metrics.json, for docs/results.md ("Choosing the stopping rule"). Training does not
# depend on the stopping rule (same seed, same steps), so a rule that would have stopped no
# later than the run did is replayed exactly: the epoch it stops at, the epoch whose weights it
# restores (as autoint's trainer picks them) and that epoch's validation AUC. Test metrics of
# a replayed rule are not known (only the restored epoch's weights would tell).
# Usage: docs/scripts/stopping_rules.py RUN_OR_GRID_DIR...
import json
import pathlib
import sys

RULES = [  # (monitor, patience, epoch cap)
    ("logloss", 2, 20),  # the paper configs' rule before commit b4eb771
    ("logloss", 5, 30),
    ("auc", 2, 30),
    ("auc", 3, 30),
    ("auc", 5, 30),  # the rule now in the published configs
]


def score(entry, monitor):
    """The monitored score, oriented so that lower is better (as the trainer does)."""
    return -entry["validation_auc"] if monitor == "auc" else entry["validation_logloss"]


def replay(history, monitor, patience, cap):
    """(stop epoch, restored epoch), or None when the rule needs epochs the run did not train."""
    best, waited = float("inf"), 0
    for entry in history:
        epoch = entry["epoch"]
        if score(entry, monitor) < best:
            best, waited = score(entry, monitor), 0
        else:
            waited += 1
        if waited >= patience or epoch == cap:
            kept = [e for e in history if e["epoch"] <= epoch]
            restored = max(e["epoch"] for e in kept if score(e, monitor) == best)
            return epoch, restored
    return None


def runs(path):
    path = pathlib.Path(path)
    if (path / "metrics.json").exists():
        yield path
    else:
        yield from sorted(p.parent for p in path.glob("*/metrics.json"))


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: stopping_rules.py RUN_OR_GRID_DIR...")
    header = ["run", "epochs run"] + [f"{m}, patience {p}, cap {c}" for m, p, c in RULES]
    print("| " + " | ".join(header) + " |")
    print("|" + " --- |" * len(header))
    for arg in sys.argv[1:]:
        for run in runs(arg):
            history = json.loads((run / "metrics.json").read_text())["run"]["history"]
            cells = [f"{run.parent.name}/{run.name}", str(len(history))]
            for rule in RULES:
                result = replay(history, *rule)
                if result is None:
                    cells.append("beyond the run")
                    continue
                stop, restored = result
                auc = history[restored - 1]["validation_auc"]
                cells.append(f"stops {stop}, restores {restored} (val. AUC {auc:.4f})")
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
