"""train.py end to end on CPU: progress lines, the summary block, divergence, the hyperparameter format."""
import math
import re
import subprocess
import sys

import pytest

from conftest import TRAINER_DIR, child_env, parse_summary

PROGRESS_RE = re.compile(r"^step (\d+) \| loss (\S+) \|.* elapsed ([\d.]+)s \| done (\d+)%$")
SUMMARY_KEYS = ["val_bpb", "training_seconds", "total_seconds", "peak_vram_mb", "mfu_percent",
                "total_tokens_M", "num_steps", "num_params_M", "depth"]
TRAIN_PY = (TRAINER_DIR / "train.py").read_text()


def run_train(run_dir, source=TRAIN_PY, budget=3, timeout=240):
    """Runs a copy of train.py from its own run folder (cwd), as the node's runner does."""
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "train.py").write_text(source)
    return subprocess.run([sys.executable, "train.py"], cwd=run_dir, env=child_env(SWARM_BUDGET_SECONDS=budget),
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def baseline_run(sotu, tmp_path_factory):
    return run_train(tmp_path_factory.mktemp("run"))


def test_train_runs_and_prints_the_summary(baseline_run):
    r = baseline_run
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    lines = r.stdout.splitlines()
    steps = [PROGRESS_RE.match(line) for line in lines if line.startswith("step ")]
    assert steps and all(steps), [line for line in lines if line.startswith("step ")]
    assert [int(m.group(1)) for m in steps] == list(range(len(steps)))
    assert all(math.isfinite(float(m.group(2))) for m in steps)
    # the share of the budget done (what the node shows as progress) rises to 100 % at the last step
    done = [int(m.group(4)) for m in steps]
    assert done == sorted(done) and done[-1] == 100, done
    # the summary block: '---' then the reference keys, in order, values aligned at column 18
    start = lines.index("---")
    block = lines[start + 1:start + 1 + len(SUMMARY_KEYS)]
    assert [line.split(":")[0] for line in block] == SUMMARY_KEYS
    assert all(len(line) - len(line.split()[-1]) == 18 for line in block), block
    fields = {k: v.strip() for k, v in (line.split(":", 1) for line in block)}
    parse_summary(r.stdout)  # every value in the reference's format (total_tokens_M with 1 decimal, ...)
    val_bpb = float(fields["val_bpb"])
    assert math.isfinite(val_bpb) and 0.5 < val_bpb < 4.0  # uniform over 2048 ids would be ~3.0
    assert int(fields["num_steps"]) >= 1 and int(fields["num_steps"]) == len(steps)
    depth = int(re.search(r"^DEPTH = (\d+)", TRAIN_PY, re.M).group(1))
    assert int(fields["depth"]) == depth
    assert float(fields["peak_vram_mb"]) == 0.0
    assert float(fields["training_seconds"]) >= 3.0 - 1e-9 or int(fields["num_steps"]) == 1
    assert float(fields["total_seconds"]) >= float(fields["training_seconds"])
    assert float(fields["num_params_M"]) > 0


def test_diverged_loss_prints_fail_and_exits_nonzero(sotu, tmp_path):
    source, n = re.subn(r"^EMBEDDING_LR = .*$", 'EMBEDDING_LR = float("nan")  # forces a NaN', TRAIN_PY, flags=re.M)
    assert n == 1
    r = run_train(tmp_path / "nan", source, budget=60)
    assert r.returncode != 0
    assert re.search(r"^FAIL: loss diverged \(nan\) at step \d+$", r.stdout, re.M), r.stdout[-2000:] + r.stderr[-2000:]
    assert "\n---\n" not in r.stdout


@pytest.mark.parametrize("path", ["train.py", "reference/train.py"])
def test_hyperparameters_are_plain_literals(path):
    """The offline mutator rewrites `NAME = number  # comment` lines; keep them simple (both baselines)."""
    source = (TRAINER_DIR / path).read_text()
    assert len(source.splitlines()) < 700
    header = source.split("# Setup")[0]
    consts = re.findall(r"^([A-Z][A-Z0-9_]*) = (.*?)(?:  # .*)?$", header, re.M)
    names = [name for name, _ in consts]
    for required in ("DEPTH", "MODEL_DIM", "HEAD_DIM", "DEVICE_BATCH_SIZE", "TOTAL_BATCH_SIZE", "MATRIX_LR",
                     "EMBEDDING_LR", "UNEMBEDDING_LR", "SCALAR_LR", "WEIGHT_DECAY", "WARMUP_RATIO",
                     "WARMDOWN_RATIO", "ROPE_BASE"):
        assert required in names
    for name, value in consts:
        if name == "T_START":
            continue
        assert re.fullmatch(r"-?\d+(\.\d+)?(e-?\d+)?", value), (name, value)
