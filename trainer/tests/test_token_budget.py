"""The tokens budget mode (SWARM_BUDGET_TOKENS): exact step counts, the LR schedule on tokens, reproducibility."""
import math
import re
import subprocess
import sys

import pytest

import prepare
from conftest import TRAINER_DIR, child_env

TRAIN_PY = (TRAINER_DIR / "train.py").read_text()
STEP_RE = re.compile(r"^step (\d+) \| loss \S+ \| lrm ([\d.]+) \|", re.M)
TOKENS_PER_STEP = 2048  # the baseline's TOTAL_BATCH_SIZE (8 sequences x 256 tokens, no accumulation)


def run_tokens(run_dir, tokens, seed=None, seconds=0.01, timeout=240):
    """train.py in tokens mode; the time budget is tiny so that a run that follows time stops early."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "train.py").write_text(TRAIN_PY)
    env = child_env(SWARM_BUDGET_TOKENS=tokens, SWARM_BUDGET_SECONDS=seconds)
    if seed is not None:
        env["SWARM_SEED"] = str(seed)
    r = subprocess.run([sys.executable, "train.py"], cwd=run_dir, env=env, capture_output=True, text=True,
                       timeout=timeout)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    return r


def summary(stdout):
    block = stdout.split("\n---\n", 1)[1]
    return {k.strip(): v.strip() for k, v in (line.split(":", 1) for line in block.splitlines() if ":" in line)}


def const(name):
    return float(re.search(rf"^{name} = (\S+)", TRAIN_PY, re.M).group(1))


def test_baseline_batch_is_what_these_tests_assume():
    assert int(const("TOTAL_BATCH_SIZE")) == TOKENS_PER_STEP and int(const("DEVICE_BATCH_SIZE")) * prepare.MAX_SEQ_LEN == TOKENS_PER_STEP


def test_training_progress_follows_time_or_tokens(monkeypatch):
    monkeypatch.setattr(prepare, "TIME_BUDGET", 300.0)
    monkeypatch.setattr(prepare, "TOKEN_BUDGET", 0)
    assert prepare.training_progress(150.0, 10**12) == pytest.approx(0.5)
    assert prepare.training_progress(301.0, 0) == 1.0
    assert prepare.budget_description() == "300s"
    monkeypatch.setattr(prepare, "TOKEN_BUDGET", 1000)
    assert prepare.training_progress(10**6, 250) == pytest.approx(0.25)
    assert prepare.training_progress(0.0, 999) < 1.0
    assert prepare.training_progress(0.0, 1000) == 1.0
    assert prepare.budget_description() == "1,000 tokens"


def test_a_negative_token_budget_is_refused():
    r = subprocess.run([sys.executable, "-c", "import prepare"], env=child_env(SWARM_BUDGET_TOKENS=-5),
                       capture_output=True, text=True, timeout=120)
    assert r.returncode != 0 and "SWARM_BUDGET_TOKENS=-5 must be >= 0" in r.stderr


def test_tokens_mode_trains_exactly_the_steps_the_budget_needs(sotu, tmp_path):
    budget = 4 * TOKENS_PER_STEP + 1  # needs 5 steps; the 0.01 s time budget would stop after 2
    r = run_tokens(tmp_path / "run", budget)
    expected_steps = math.ceil(budget / TOKENS_PER_STEP)
    device_line = next(line for line in r.stdout.splitlines() if line.startswith("device:"))
    assert f"| budget {budget:,} tokens |" in device_line
    steps = STEP_RE.findall(r.stdout)
    assert [int(s) for s, _ in steps] == list(range(expected_steps))
    fields = summary(r.stdout)
    assert int(fields["num_steps"]) == expected_steps
    tokens = expected_steps * TOKENS_PER_STEP
    assert tokens >= budget and fields["total_tokens_M"] == f"{tokens / 1e6:.1f}"  # 1 decimal, as the reference
    # the LR schedule follows tokens: step s uses lr_multiplier(s * tokens_per_step / budget)
    warmup, warmdown, final = const("WARMUP_RATIO"), const("WARMDOWN_RATIO"), const("FINAL_LR_FRAC")
    assert warmup == 0.0, "the expected multipliers below assume no warm-up"
    for s, lrm in steps:
        progress = int(s) * TOKENS_PER_STEP / budget
        want = final + (1 - final) * min(1.0, (1 - progress) / warmdown) if progress > 1 - warmdown else 1.0
        assert float(lrm) == pytest.approx(want, abs=1e-3), (s, lrm, want)


@pytest.fixture(scope="module")
def seeded_runs(sotu, tmp_path_factory):
    budget = 2 * TOKENS_PER_STEP
    runs = {name: run_tokens(tmp_path_factory.mktemp(name), budget, seed=seed)
            for name, seed in (("a", 7), ("b", 7), ("c", 8))}
    return {name: float(summary(r.stdout)["val_bpb"]) for name, r in runs.items()}


def test_the_same_seed_gives_the_same_val_bpb_in_tokens_mode(seeded_runs):
    assert seeded_runs["a"] == seeded_runs["b"]


def test_another_seed_gives_another_val_bpb(seeded_runs):
    assert seeded_runs["a"] != seeded_runs["c"]
