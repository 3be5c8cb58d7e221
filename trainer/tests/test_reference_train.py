"""trainer/reference/train.py (the reference-class baseline for CUDA + climbmix): its full size, its two
attention paths, and a few steps on CPU with its constants shrunk, exported and evaluated by the harness."""
import json
import re
import subprocess
import sys
import warnings

import pytest
import torch
import torch.nn.attention.flex_attention as flex_module

from conftest import TRAINER_DIR, child_env, parse_summary, run_train_py

SOURCE = (TRAINER_DIR / "reference" / "train.py").read_text()
SHRUNK = {"DEPTH": "3", "MODEL_DIM": "64", "HEAD_DIM": "32", "SHORT_WINDOW": "64", "DEVICE_BATCH_SIZE": "2",
          "TOTAL_BATCH_SIZE": "1024", "EVAL_BATCH_SIZE": "16"}  # sotu: seq 256, so 2 micro-batches per step


def with_constants(source, values):
    for name, value in values.items():
        source, n = re.subn(rf"^{name} = \S+", f"{name} = {value}", source, flags=re.M)
        assert n == 1, name
    return source


def model_section(source):
    """The definitions up to the optimizer, executed on their own (no training): constants, setup, model."""
    namespace = {"__name__": "reference_train_model"}
    exec(compile(source.split("# Optimizer: Muon")[0], "reference/train.py", "exec"), namespace)
    return namespace


def test_the_full_size_is_the_references(sotu):
    ns = model_section(SOURCE)
    assert (ns["DEPTH"], ns["MODEL_DIM"], ns["TOTAL_BATCH_SIZE"]) == (8, 512, 524288)
    windows = [2048 if w == ns["SEQ_LEN"] else w for w in ns["windows"]]  # as on climbmix (seq 2048)
    model = ns["GPT"](8192, ns["model_dim"], ns["depth"], ns["n_head"], ns["head_dim"], 4 * ns["model_dim"], 2048,
                      windows, ns["value_embed_layers"])
    params = sum(p.numel() for p in model.parameters())
    assert round(params / 1e6, 1) == 50.3, params  # the reference's num_params_M
    assert ns["value_embed_layers"] == [1, 3, 5, 7]


def test_flex_attention_and_sdpa_paths_agree(sotu, monkeypatch):
    ns = model_section(with_constants(SOURCE, SHRUNK))
    assert ns["windows"] == [64, 64, 256] and ns["value_embed_layers"] == [0, 2]
    torch.manual_seed(0)
    model = ns["GPT"](ns["VOCAB_SIZE"], 64, 3, 2, 32, 256, 256, ns["windows"], ns["value_embed_layers"])
    for p in model.parameters():  # the zero-initialised projections would hide the attention entirely
        torch.nn.init.normal_(p, std=0.3)
    x = torch.randint(0, ns["VOCAB_SIZE"], (2, 256))
    model.eval()
    sdpa = model(x)
    model.use_flex_attention(256, "cpu")
    model.train()
    calls = []
    real = flex_module.flex_attention
    monkeypatch.setattr(flex_module, "flex_attention", lambda *a, **k: calls.append(k["block_mask"]) or real(*a, **k))
    with torch.no_grad(), warnings.catch_warnings():  # eager FlexAttention (no backward on CPU, no fused kernel)
        warnings.simplefilter("ignore")
        flex = model(x)
    assert len(calls) == 3 and calls[0] is calls[1] and calls[1] is not calls[2]  # one block mask per window
    torch.testing.assert_close(flex, sdpa, rtol=1e-4, atol=1e-4)
    # the window is real: a token 64 places back changes nothing in a first-layer-only model
    one = ns["GPT"](ns["VOCAB_SIZE"], 64, 1, 2, 32, 256, 256, [64], []).eval()
    for p in one.parameters():
        torch.nn.init.normal_(p, std=0.3)
    y = x.clone()
    y[:, 100] = (y[:, 100] + 1) % ns["VOCAB_SIZE"]
    moved = (one(x) - one(y)).abs().amax(dim=(0, 2))
    assert moved[:100].max() == 0 and moved[100:164].min() > 0 and moved[164:].max() < 1e-5


@pytest.fixture(scope="module")
def shrunk_run(sotu, tmp_path_factory):
    """A few steps on CPU, tokens mode (2 steps of 1,024 tokens), under the node's variables."""
    run_dir = tmp_path_factory.mktemp("reference")
    r = run_train_py(with_constants(SOURCE, SHRUNK), run_dir, SWARM_BUDGET_TOKENS=2048, SWARM_BUDGET_SECONDS=0.01,
                     SWARM_EXPORT_DIR=run_dir / "export")
    return r, run_dir


def test_shrunk_reference_trains_and_prints_the_summary(shrunk_run):
    r, _ = shrunk_run
    fields = parse_summary(r.stdout)
    assert fields["num_steps"] == 2 and fields["depth"] == 3 and fields["peak_vram_mb"] == 0.0
    assert 0.5 < fields["val_bpb"] < 4.0
    assert "| windows [64, 64, 256] | value embeds [0, 2] | batch 2x2 = 1,024 tokens |" in r.stdout
    assert [int(p) for p in re.findall(r"^step \d+ \|.*\| done (\d+)%$", r.stdout, re.M)] == [50, 100]
    assert re.search(r"^harness: 2048 training tokens drawn$", r.stdout, re.M)


def test_shrunk_reference_export_passes_the_harness_evaluation(shrunk_run):
    _, run_dir = shrunk_run
    r = subprocess.run([sys.executable, str(TRAINER_DIR / "evaluate.py"), str(run_dir / "export")], cwd=run_dir,
                       env=child_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    result = json.loads(r.stdout.splitlines()[-1])
    assert 0.5 < result["val_bpb"] < 4.0 and result["batch_size"] == 16


@pytest.mark.skipif(not torch.cuda.is_available(), reason="the CUDA path (FlexAttention compiled, bf16) needs a GPU")
@pytest.mark.parametrize("size", ["shrunk", "full"])
def test_cuda_path_trains_and_its_export_passes(sotu, tmp_path, size):
    """On a GPU: FlexAttention under torch.compile and bf16 trains (2 steps), and the eval-mode export passes."""
    source = with_constants(SOURCE, SHRUNK) if size == "shrunk" else SOURCE
    tokens = 2048 if size == "shrunk" else 2 * 524288
    (tmp_path / "train.py").write_text(source)
    env = child_env(SWARM_DEVICE="cuda", SWARM_BUDGET_TOKENS=tokens, SWARM_EXPORT_DIR=tmp_path / "export")
    r = subprocess.run([sys.executable, "train.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    fields = parse_summary(r.stdout)
    assert fields["num_steps"] == 2 and fields["peak_vram_mb"] > 0 and 0.5 < fields["val_bpb"] < 8
    r = subprocess.run([sys.executable, str(TRAINER_DIR / "evaluate.py"), str(tmp_path / "export")], cwd=tmp_path,
                       env=child_env(SWARM_DEVICE="cuda"), capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
