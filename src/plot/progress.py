"""Draws swarm's progress picture, in the style of the reference's progress.png.

Usage: python progress.py OUT < spec.json   (the spec comes from src/plot/spec.ts)

Every finished experiment is a dot: kept ones green (a peer's colour in a swarm plot), discarded
ones grey and small; crashes have no val_bpb and are marked apart, as an x along the top edge.
The best-so-far is a step line. Prints one summary line. Exit codes: 3 no matplotlib, 4 the
output cannot be written.
"""
import json
import sys
from datetime import datetime

NO_MATPLOTLIB = 3
CANNOT_WRITE = 4

KEEP = "#2ca02c"
KEEP_EDGE = "#14501f"
DISCARD = "#9e9e9e"
CRASH = "#d62728"
BEST = "#1a7f37"
SWARM_BEST = "#222222"

# Axes-fraction heights: crashes sit in a band above the data, points above the y-range at its top.
CRASH_ROW = 0.965
DATA_TOP = 0.91


def main() -> int:
    out = sys.argv[1]
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as err:
        print(f"matplotlib missing: {err}", file=sys.stderr)
        return NO_MATPLOTLIB
    spec = json.load(sys.stdin)
    fig = draw(plt, spec)
    try:
        fig.savefig(out, dpi=150)
    except OSError as err:
        print(err.strerror or str(err), file=sys.stderr)
        return CANNOT_WRITE
    print(summary(spec))
    return 0


def draw(plt, spec):
    from matplotlib.lines import Line2D

    points = spec["points"]
    fig, ax = plt.subplots(figsize=(12, 6), layout="constrained")
    xs = {id(p): xval(spec, p["x"]) for p in points}
    lo, hi = y_range(spec)
    top = hi + (hi - lo) * (1 / DATA_TOP - 1)
    ax.set_ylim(lo, top)
    swarm = spec["swarm"]
    colours = plt.get_cmap("tab10")
    above = ax.get_xaxis_transform()  # x in data, y in axes fractions

    for s_index, series in enumerate(spec["series"]):
        mine = [p for p in points if p["series"] == s_index]
        peer = colours(s_index % 10) if swarm else KEEP
        size = 1.5 if series["self"] and swarm else 1.0
        z = 4 if series["self"] else 3
        discards = [p for p in mine if p["status"] == "discard"]
        kept = [p for p in mine if p["status"] == "keep"]
        crashes = [p for p in mine if p["status"] == "crash"]
        scatter(ax, discards, xs, hi, s=22 * size, color=peer if swarm else DISCARD, alpha=0.45 if swarm else 0.6, zorder=z - 1, linewidths=0)
        solid = [p for p in kept if not p["disputed"]]
        hollow = [p for p in kept if p["disputed"]]
        edge = "black" if swarm else KEEP_EDGE
        scatter(ax, solid, xs, hi, s=46 * size, color=peer, edgecolors=edge, linewidths=1.4 if series["self"] else 0.7, zorder=z + 1)
        scatter(ax, hollow, xs, hi, s=46 * size, facecolors="none", edgecolors=peer, linewidths=1.4, zorder=z + 1)
        if crashes:
            ax.scatter([xs[id(p)] for p in crashes], [CRASH_ROW] * len(crashes), transform=above, marker="x",
                       s=30 * size, color=peer if swarm else CRASH, linewidths=1.5, zorder=z, clip_on=False)

    if spec["best"]:
        bx = [xval(spec, v["x"]) for v in spec["best"]]
        by = [v["y"] for v in spec["best"]]
        ax.step(bx, by, where="post", color=SWARM_BEST if swarm else BEST, linewidth=2, alpha=0.85, zorder=2)

    for p in points:
        if p["annotated"] and p["y"] is not None and p["y"] <= hi:
            ax.annotate(p["label"], (xs[id(p)], p["y"]), xytext=(5, 5), textcoords="offset points", fontsize=7,
                        rotation=25, color=KEEP_EDGE, alpha=0.9, parse_math=False, annotation_clip=True)

    if beyond(spec, hi):
        ax.axhline(hi, color="#cccccc", linewidth=0.8, linestyle="--", zorder=1)  # triangles on it lie beyond
    ax.set_xlabel(spec["xLabel"], parse_math=False)
    ax.set_ylabel(spec["yLabel"], parse_math=False)
    ax.set_title(spec["title"], fontsize=13, loc="left", parse_math=False)
    ax.set_title(spec["subtitle"], fontsize=9, loc="right", color="#555555", parse_math=False)
    ax.grid(True, alpha=0.25)
    axis_format(ax, spec)

    handles = legend(spec, swarm, colours, hi, Line2D)
    ax.legend(handles=handles, loc="upper right", bbox_to_anchor=(1, DATA_TOP - 0.01), fontsize=8, framealpha=0.9)
    return fig


def scatter(ax, pts, xs, hi, **style):
    """Plots points; one above the y-range is drawn at its top as a triangle (the reference clipped them)."""
    inside = [p for p in pts if p["y"] <= hi]
    over = [p for p in pts if p["y"] > hi]
    if inside:
        ax.scatter([xs[id(p)] for p in inside], [p["y"] for p in inside], **style)
    if over:
        style.update(s=max(style.get("s", 20), 36), alpha=0.9)
        ax.scatter([xs[id(p)] for p in over], [hi] * len(over), marker="^", clip_on=False, **style)


def y_range(spec):
    """Shows every baseline and every improvement; runs far worse than a baseline do not squash it."""
    ys = [p["y"] for p in spec["points"] if p["y"] is not None]
    baselines = {}  # each peer's first keep
    for p in spec["points"]:
        if p["status"] == "keep" and p["y"] is not None:
            baselines.setdefault(p["series"], p["y"])
    lowest = min(ys)
    anchor = max(baselines.values()) if baselines else ys[0]
    gain = max(anchor - lowest, 1e-3 * abs(anchor), 1e-6)
    hi = max(y for y in ys if y <= anchor + gain)  # worse than baseline + total gain: a triangle at the top
    pad = (hi - lowest) * 0.08 if hi > lowest else gain * 0.5
    return lowest - pad, hi + pad


def xval(spec, x):
    if spec["xAxis"] == "time":
        return datetime.fromisoformat(x.replace("Z", "+00:00"))
    return x


def axis_format(ax, spec):
    from matplotlib import dates, ticker

    if spec["xAxis"] == "time":
        locator = dates.AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(dates.ConciseDateFormatter(locator))
    else:
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        xs = [p["x"] for p in spec["points"]]
        ax.set_xlim(min(xs) - 0.8, max(xs) + 0.8)


def beyond(spec, hi):
    return any(p["y"] is not None and p["y"] > hi for p in spec["points"])


def legend(spec, swarm, colours, hi, Line2D):
    dot = dict(marker="o", linestyle="none")
    handles = []
    if swarm:
        for i, s in enumerate(spec["series"]):
            handles.append(Line2D([], [], color=colours(i % 10), markersize=7, markeredgecolor="black", label=s["name"], **dot))
    handles.append(Line2D([], [], color=KEEP if not swarm else "#888888", markeredgecolor="black", markersize=7, label="kept", **dot))
    handles.append(Line2D([], [], color=DISCARD, markersize=5, label="discarded", **dot))
    if any(p["status"] == "crash" for p in spec["points"]):
        handles.append(Line2D([], [], color=CRASH if not swarm else "#888888", marker="x", linestyle="none", label="crashed (no val_bpb)"))
    if beyond(spec, hi):
        handles.append(Line2D([], [], color="#888888", marker="^", linestyle="none", label="worse, beyond the y-range"))
    if any(p["disputed"] for p in spec["points"]):
        handles.append(Line2D([], [], color="#888888", marker="o", markerfacecolor="none", linestyle="none", label="kept, disputed"))
    if spec["best"]:
        handles.append(Line2D([], [], color=SWARM_BEST if swarm else BEST, linewidth=2, label=spec["bestLabel"]))
    return handles


def summary(spec) -> str:
    points = spec["points"]
    kept = sum(p["status"] == "keep" for p in points)
    crashed = sum(p["status"] == "crash" for p in points)
    peers = len({p["series"] for p in points})
    best = f"best {spec['best'][-1]['y']:.6f}" if spec["best"] else "nothing kept yet"
    return (f"plotted {len(points)} experiment{'s' * (len(points) != 1)} ({kept} kept, {crashed} crash{'es' * (crashed != 1)}) "
            f"from {peers} peer{'s' * (peers != 1)}; {best}")


if __name__ == "__main__":
    sys.exit(main())
