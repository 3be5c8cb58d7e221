"""Plots a spread benchmark (scripts/bench-spread.mjs --out FILE.json) as one PNG.

Usage: .venv/bin/python scripts/lib/plot-spread.py FILE.json OUT.png
Three panels, each figure beside the baseline measured in the same run: publish -> every node holds
it (N nodes against 2), RSS per node (against an idle bare libp2p node), late-join catch-up (against
reading and checking the same records from the local store).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def ms(x):
    return "n/a" if x is None else f"{x:.0f} ms"


def cdf(ax, values, label, color):
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return
    # Over all records: a record some node never got keeps the curve below 1.
    ys = [(i + 1) / len(values) for i in range(len(xs))]
    ax.step(xs, ys, where="post", label=label, color=color)


def main(src, out):
    r = json.load(open(src))
    s, m, late, load = r["spread"], r["memory"], r["lateJoin"], r["load"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))

    ax = axes[0]
    cdf(ax, r["samples"]["latencies"], f"{load['nodes']} nodes: p50 {ms(s['p50Ms'])}, p99 {ms(s['p99Ms'])}, {s['missing']} not everywhere", "tab:blue")
    cdf(ax, r["samples"]["baseline2"], f"2 nodes: p50 {ms(s['baseline2']['p50Ms'])}, p99 {ms(s['baseline2']['p99Ms'])}", "tab:gray")
    ax.axvline(1000, color="tab:red", linestyle="--", linewidth=1, label="goal: p99 < 1 s")
    ax.set_xscale("log")
    ax.set_xlabel("publish -> every other node holds it (ms)")
    ax.set_ylabel("share of records")
    ax.set_title(f"{load['published']} results, {load['ratePerSecond']}/s, from random nodes")
    ax.legend(fontsize=8, loc="lower right")

    ax = axes[1]
    rss = sorted(r["samples"]["rssMb"])
    ax.bar(range(len(rss)), rss, color="tab:blue", label=f"swarm node (median {m['rssP50Mb']:.0f} MB)")
    ax.axhline(m["bareNodeMb"], color="tab:gray", linestyle="-", label=f"idle bare libp2p node ({m['bareNodeMb']:.0f} MB)")
    ax.axhline(150, color="tab:red", linestyle="--", linewidth=1, label="goal: < 150 MB")
    ax.set_xlabel("node (sorted)")
    ax.set_ylabel("RSS (MB)")
    ax.set_title(f"RSS per node, each holding {load['lateJoinRecords']:,} records")
    ax.legend(fontsize=8, loc="lower right")

    ax = axes[2]
    bars = [late["catchUpMs"] / 1000, (late["localReadMs"] + late["localCheckMs"]) / 1000]
    peaks = [late["peakMb"], late["localPeakMb"]]
    labels = ["late joiner\n(sync from peers)", "same records from\nthe local store + check"]
    ax.bar(labels, bars, color=["tab:blue", "tab:gray"])
    for i, (b, p) in enumerate(zip(bars, peaks)):
        ax.text(i, b, f"{b:.1f} s\npeak RSS {p:.0f} MB", ha="center", va="bottom", fontsize=8)
    ax.set_ylabel("seconds")
    ax.set_ylim(0, max(bars) * 1.3)
    ax.set_title(f"catching up on {late['records']:,} records")

    date = r["date"][:16].replace("T", " ")
    mach = r["machine"]
    fig.suptitle(f"Spread (P3), {date} UTC, {mach['cpus']} cores, load {mach['loadBefore'][0]:.1f} before / {mach['loadAfter'][0]:.1f} after", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
