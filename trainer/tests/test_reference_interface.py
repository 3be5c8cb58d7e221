"""The reference autoresearch's prepare.py interface on swarm's harness, the kernels fallback, and a
reference-style train.py (test/fixtures/reference-style) run end to end and evaluated by the harness."""
import json
import math
import re
import subprocess
import sys

import pytest
import torch

import kernels
import prepare
from conftest import REPO_ROOT, TRAINER_DIR, child_env, parse_summary, run_train_py

FIXTURE = REPO_ROOT / "test" / "fixtures" / "reference-style"
def test_the_reference_names_are_exported():
    assert prepare.MAX_SEQ_LEN == 256 and prepare.TIME_BUDGET == 300.0  # sotu, no SWARM_BUDGET_SECONDS


def test_tokenizer_from_directory(sotu):
    tok = prepare.Tokenizer.from_directory()
    assert (tok.kind, tok.vocab_size, tok.data_dir) == (sotu.kind, sotu.vocab_size, sotu.data_dir)
    assert tok.encode("Fellow-Citizens") == sotu.encode("Fellow-Citizens")
    assert prepare.Tokenizer.from_directory(sotu.data_dir).get_vocab_size() == sotu.vocab_size


def test_loader_epoch_counts_passes_over_the_split(sotu):
    n = len(prepare.load_tokens(sotu, "dev"))
    B, T = 16, 256
    loader = prepare.make_dataloader(sotu, B, T, "dev", "cpu", seed=3)
    epochs = [next(loader)[2] for _ in range(n // (B * T) * 2 + 3)]
    assert epochs == [(i + 1) * B * T // n + 1 for i in range(len(epochs))]
    assert epochs[0] == 1 and epochs[-1] == 3


def test_loader_defaults_to_the_harness_device(sotu, monkeypatch):
    monkeypatch.setattr(prepare, "get_device", lambda: "meta")
    x, y, epoch = next(prepare.make_dataloader(sotu, 2, 16, "train"))
    assert x.device.type == y.device.type == "meta" and epoch == 1


def test_train_tokens_drawn_counts_the_train_split_only(sotu):
    before = prepare._train_tokens_drawn
    train, dev = prepare.make_dataloader(sotu, 3, 32, "train", "cpu"), prepare.make_dataloader(sotu, 5, 32, "dev", "cpu")
    for _ in range(4):
        next(train), next(dev)
    assert prepare._train_tokens_drawn - before == 4 * 3 * 32


class DeviceCheck(torch.nn.Module):
    """A uniform model that fails unless its inputs are on its own parameter's device."""
    def __init__(self, vocab):
        super().__init__()
        self.vocab, self.w = vocab, torch.nn.Parameter(torch.zeros(()))

    def forward(self, x, y=None, reduction="mean"):
        assert x.device == self.w.device and y.device == self.w.device
        return torch.full(y.shape, math.log(self.vocab), device=x.device) + self.w


def test_evaluate_bpb_runs_on_the_models_device(sotu, monkeypatch):
    model = DeviceCheck(sotu.vocab_size)
    rows = prepare.get_val_rows(sotu, T=32, n_tokens=64)
    got = prepare.evaluate_bpb(model, sotu, 2, val_rows=rows)  # no device: the model's (cpu here)
    assert got == pytest.approx(prepare.evaluate_bpb(model, sotu, 2, "cpu", val_rows=rows))
    with pytest.raises(AssertionError):  # a wrong device reaches the model: the check above can fail
        prepare.evaluate_bpb(model, sotu, 2, "meta", val_rows=rows)


def slow_attention(q, k, v, left):
    """Causal attention with a window of `left` earlier keys (-1: all), one query at a time."""
    B, T, H, D = q.shape
    out = torch.empty_like(q)
    for i in range(T):
        lo = 0 if left < 0 else max(0, i - left)
        kk, vv = k[:, lo:i + 1], v[:, lo:i + 1]  # (B, n, Hkv, D)
        kk, vv = kk.repeat_interleave(H // k.size(2), 2), vv.repeat_interleave(H // k.size(2), 2)
        w = torch.einsum("bhd,bnhd->bhn", q[:, i], kk) / math.sqrt(D)
        out[:, i] = torch.einsum("bhn,bnhd->bhd", w.softmax(-1), vv)
    return out


@pytest.mark.parametrize("left", [-1, 0, 3, 11, 100])
@pytest.mark.parametrize("kv_heads", [4, 2])
def test_kernel_fallback_is_windowed_causal_attention(left, kv_heads, capsys):
    gen = torch.Generator().manual_seed(left + 10 * kv_heads)
    q = torch.randn(2, 12, 4, 8, generator=gen, dtype=torch.float64)
    k, v = (torch.randn(2, 12, kv_heads, 8, generator=gen, dtype=torch.float64) for _ in range(2))
    fa3 = kernels.get_kernel(f"some/repo-{left}-{kv_heads}").flash_attn_interface
    y = fa3.flash_attn_func(q, k, v, causal=True, window_size=(left, 0))
    assert y.shape == q.shape
    torch.testing.assert_close(y, slow_attention(q, k, v, left))
    assert capsys.readouterr().err.count(f"some/repo-{left}-{kv_heads} is not downloaded") == 1


def test_kernel_fallback_refuses_what_it_does_not_do():
    q = torch.randn(1, 4, 2, 8)
    with pytest.raises(NotImplementedError, match="dropout_p"):
        kernels.flash_attn_func(q, q, q, causal=True, dropout_p=0.1)
    assert kernels.window_mask(3, 5, True, (1, 0), "cpu").tolist() == [  # queries align with the last keys
        [False, True, True, False, False], [False, False, True, True, False], [False, False, False, True, True]]


@pytest.fixture(scope="module")
def fixture_run(sotu, tmp_path_factory):
    """The reference-style train.py from its own run folder, as the node runs it (time mode, 2 s)."""
    run_dir = tmp_path_factory.mktemp("reference-style")
    r = run_train_py((FIXTURE / "train.py").read_text(), run_dir, SWARM_BUDGET_SECONDS=2, SWARM_EXPORT_DIR=run_dir / "export")
    return r, run_dir


def test_reference_style_train_py_runs_against_our_prepare(fixture_run):
    r, _ = fixture_run
    fields = parse_summary(r.stdout)
    assert fields["depth"] == 2 and fields["num_steps"] >= 11 and fields["training_seconds"] >= 2.0
    assert 0.5 < fields["val_bpb"] < 4.0 and fields["peak_vram_mb"] == 0.0
    assert "kernels: kernels-community/flash-attn3 is not downloaded" in r.stderr
    progress = [p for p in r.stdout.splitlines() if p.startswith("step ")]  # text mode turns \r into \n
    assert progress and "| epoch: 1 |" in progress[-1]
    # what the loader yielded: every trained batch plus the one fetched ahead (4 x 256 tokens each)
    drawn = int(re.search(r"^harness: (\d+) training tokens drawn$", r.stdout, re.M).group(1))
    assert drawn == (int(fields["num_steps"]) + 1) * 4 * 256


def test_reference_style_export_passes_the_harness_evaluation(fixture_run):
    _, run_dir = fixture_run
    r = subprocess.run([sys.executable, str(TRAINER_DIR / "evaluate.py"), str(run_dir / "export")], cwd=run_dir,
                       env=child_env(), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert 0.5 < json.loads(r.stdout.splitlines()[-1])["val_bpb"] < 4.0
