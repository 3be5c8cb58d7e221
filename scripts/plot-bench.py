"""Plots of the benchmark scripts' JSON results (scripts/bench-speedup.mjs, bench-soak.mjs, bench-duty.mjs) for docs/.

    .venv/bin/python scripts/plot-bench.py speedup RESULT.json OUT.png
    .venv/bin/python scripts/plot-bench.py soak RESULT.json OUT.png
    .venv/bin/python scripts/plot-bench.py duty OUT.png RESULT.json [RESULT.json ...]
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    with open(path) as f:
        return json.load(f)


def speedup(result, out):
    rows = result["summary"]
    ns = [r["n"] for r in rows]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    one = result["oneBoxMedianSlots"]
    a.plot(ns, [one / r["swarm"]["medianSlots"] for r in rows], "o-", label="swarm of N")
    a.plot(ns, [one / r["lone"]["medianSlots"] for r in rows], "s--", label="N lone boxes (first to reach)")
    a.plot(ns, [0.8 * n for n in ns], ":", color="grey", label="goal 0.8·N")
    a.set_xscale("log", base=2)
    a.set_xticks(ns, [str(n) for n in ns])
    a.set_xlabel("boxes N")
    a.set_ylabel("speedup to target vs one box (run slots)")
    a.legend()
    a.grid(alpha=0.3)
    for t in result["trials"]:
        x = t["n"] * (1.04 if t["swarm"] else 0.96)
        y = t["reached"]["slots"] if t["reached"] else (t["runs"] + t["noiseRuns"] + t["replicationRuns"]) / t["n"]
        b.scatter([x], [y], marker="o" if t["swarm"] else "s", color="C0" if t["swarm"] else "C1", alpha=0.7,
                  facecolors="none" if not t["reached"] else None)
    b.set_xscale("log", base=2)
    b.set_xticks(ns, [str(n) for n in ns])
    b.set_xlabel("boxes N (o swarm, □ lone; hollow: target not reached)")
    b.set_ylabel("run slots per box to target, each trial")
    b.grid(alpha=0.3)
    s = result["settings"]
    fig.suptitle(f"Swarm speedup on the surrogate program: target true val_bpb {s['target']}, {s['runSeconds']} s runs, seeds {s['seeds']} ({result['date'][:10]})", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def soak(result, out):
    fig, ax = plt.subplots(figsize=(8, 4))
    for i, samples in enumerate(result["samples"]):
        ax.plot([s[0] / 60 for s in samples], [s[1] for s in samples], label=f"node {i}")
    ax.axvline(result["durationSeconds"] * 0.25 / 60, color="grey", ls=":", label="end of warm-up")
    ax.set_xlabel("minutes")
    ax.set_ylabel("resident memory (MB)")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"Soak: {result['nodes']} nodes, {result['actualSeconds'] / 60:.0f} min, {result['runs']} runs, "
                 f"max growth after warm-up {result['maxGrowthAfterWarmup'] * 100:.1f} % ({result['date'][:10]})", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def duty(results, out):
    fig, ax = plt.subplots(figsize=(7, 4))
    for workers in sorted({r["workers"] for r in results}):
        rs = sorted((r for r in results if r["workers"] == workers), key=lambda r: r["budgetSeconds"])
        ax.plot([r["budgetSeconds"] for r in rs], [100 * r["duty"] for r in rs], "o-", label=f"{workers} worker(s), measured")
    rs = sorted(results, key=lambda r: r["budgetSeconds"])
    lat = rs[0]["latencySeconds"]
    ax.plot([r["budgetSeconds"] for r in rs], [100 * r["budgetSeconds"] / (r["budgetSeconds"] + lat) for r in rs], ":", color="grey",
            label=f"draft-then-run (no pipelining), {lat:g} s LLM")
    ax.axhline(97, color="red", ls="--", lw=0.8, label="goal 97 % at 300 s")
    ax.set_xscale("log")
    budgets = sorted({r["budgetSeconds"] for r in results})
    ax.set_xticks(budgets, [f"{b:g}" for b in budgets])
    ax.minorticks_off()
    ax.set_xlabel("training budget per run (s)")
    ax.set_ylabel("share of wall time inside budgets (%)")
    ax.set_ylim(0, 101)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title(f"Duty cycle with an LLM proposer of {lat:g} s per reply", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    kind = sys.argv[1]
    if kind == "speedup":
        speedup(load(sys.argv[2]), sys.argv[3])
    elif kind == "soak":
        soak(load(sys.argv[2]), sys.argv[3])
    elif kind == "duty":
        duty([load(p) for p in sys.argv[3:]], sys.argv[2])
    else:
        sys.exit(f"unknown plot {kind!r}: speedup, soak or duty")
