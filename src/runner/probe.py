"""
The node's hardware probe: one line of JSON describing the accelerator a run trains on.

Usage: python -I probe.py   (run by the node, src/runner/probe.ts, outside any run and any harness)

Kept apart from every harness so that a trainer folder of any shape (ours, or a foreign prepare.py
without a `hardware` subcommand) starts the same way. The device rule is the harness's own:
SWARM_DEVICE when set, else cuda > mps > cpu, as the run itself will choose.
"""
import json
import os
import platform
import sys


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def ram_gb():
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024 / 2**30
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 0.0


def device(torch):
    forced = (os.environ.get("SWARM_DEVICE") or "").strip().lower()
    if forced:
        if forced not in ("cuda", "mps", "cpu"):
            raise SystemExit(f"error: SWARM_DEVICE={forced!r} must be cuda, mps or cpu")
        return forced
    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    return "mps" if mps is not None and mps.is_available() else "cpu"


def main():
    import torch  # a trainer cannot run without it: its absence is the node's setup error, said by the node

    dev = device(torch)
    if dev == "cuda":
        props = torch.cuda.get_device_properties(0)
        name, count, mem = props.name, torch.cuda.device_count(), props.total_memory / 2**30
    elif dev == "mps":
        name, count, mem = cpu_name(), 1, ram_gb()  # unified memory
    else:
        name, count, mem = cpu_name(), os.cpu_count() or 1, ram_gb()
    print(json.dumps({"device": dev, "name": name, "count": count, "memoryGb": round(mem, 1),
                      "torch": torch.__version__, "cuda": torch.version.cuda, "python": platform.python_version()}),
          flush=True)


if __name__ == "__main__":
    sys.exit(main())
