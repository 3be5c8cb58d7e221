"""Shared fixtures: trainer/ on sys.path, a private cache dir, the sotu cache built once per session."""
import atexit
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

TRAINER_DIR = Path(__file__).resolve().parents[1]
REPO_ROOT = TRAINER_DIR.parent
sys.path.insert(0, str(TRAINER_DIR))

# Tests never read or write the user's cache and ignore a caller's program settings.
for _key in ("SWARM_DATASET", "SWARM_TOKENIZER", "SWARM_BUDGET_SECONDS", "SWARM_BUDGET_TOKENS", "SWARM_DEVICE", "SWARM_SEED",
             "SWARM_CLIMBMIX_URL", "SWARM_CLIMBMIX_SHARDS", "SWARM_DOWNLOAD_RETRIES", "SWARM_DOWNLOAD_BACKOFF"):
    os.environ.pop(_key, None)
_SESSION_CACHE = tempfile.mkdtemp(prefix="swarm-test-cache-")
atexit.register(shutil.rmtree, _SESSION_CACHE, True)
os.environ["SWARM_CACHE_DIR"] = _SESSION_CACHE

import prepare  # noqa: E402


@pytest.fixture(scope="session")
def cache_dir():
    return _SESSION_CACHE


@pytest.fixture(scope="session")
def sotu(cache_dir):
    """The sotu tokenizer (BPE when rustbpe + tiktoken are installed), built once into the session cache."""
    return prepare.prepare("sotu", cache_dir, verbose=False)


def child_env(**extra):
    """Environment for a subprocess running trainer scripts on CPU against the session cache."""
    env = dict(os.environ)
    env.update({"PYTHONPATH": str(TRAINER_DIR), "SWARM_DEVICE": "cpu", "SWARM_CACHE_DIR": _SESSION_CACHE,
                "PYTHONUNBUFFERED": "1"})
    env.update({k: str(v) for k, v in extra.items()})
    return env


# The reference's summary block: key, value format (decimals exactly as it prints them).
SUMMARY_FORMAT = [("val_bpb", r"\d+\.\d{6}"), ("training_seconds", r"\d+\.\d"), ("total_seconds", r"\d+\.\d"),
                  ("peak_vram_mb", r"\d+\.\d"), ("mfu_percent", r"\d+\.\d{2}"), ("total_tokens_M", r"\d+\.\d"),
                  ("num_steps", r"\d+"), ("num_params_M", r"\d+\.\d"), ("depth", r"\d+")]


def run_train_py(source, run_dir, **env):
    """Runs `source` as train.py in its own run folder, as the node does; asserts it exits 0."""
    (run_dir / "train.py").write_text(source)
    r = subprocess.run([sys.executable, "train.py"], cwd=run_dir, env=child_env(**env), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return r


def parse_summary(stdout):
    """The summary block's fields, checked key for key and format for format against the reference's."""
    lines = stdout.splitlines()
    start = len(lines) - 1 - lines[::-1].index("---")
    block = lines[start + 1:start + 1 + len(SUMMARY_FORMAT)]
    assert [line.split(":")[0] for line in block] == [k for k, _ in SUMMARY_FORMAT], block
    fields = {}
    for line, (key, fmt) in zip(block, SUMMARY_FORMAT):
        assert line[:18] == f"{key + ':':<18}", line  # values start at column 18
        assert re.fullmatch(fmt, line[18:]), line
        fields[key] = float(line[18:])
    return fields
