"""evaluate_bpb against a hand computation, with multi-byte characters split across tokens."""
import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import prepare

# A toy vocabulary: raw bytes per id. "é" (2 bytes), "€" (3 bytes) and "😀" (4 bytes) are each split
# across two tokens, so no partial token decodes to a valid str on its own. Id 7 is a special (BOS).
RAW = [b"a", "é".encode()[:1], "é".encode()[1:], "€".encode()[:2], "€".encode()[2:],
       "😀".encode()[:2], "😀".encode()[2:], b""]
BOS = 7
TOKEN_BYTES = torch.tensor([len(b) for b in RAW], dtype=torch.int32)
V = len(RAW)

ROWS = torch.tensor([
    [BOS, 0, 1, 2, 0, 3, 4, 0, 5],       # BOS a é a € a 😀(first half)
    [6, 0, BOS, 1, 2, 5, 6, 3, 4],       # (second half) a BOS é 😀 €
    [0, 0, 3, 4, 5, 6, 1, 2, BOS],       # a a € 😀 é BOS
])


class TableModel(nn.Module):
    """Bigram model with fixed logits: the logits for the next token are TABLE[current token]."""

    def __init__(self):
        super().__init__()
        self.table = nn.Parameter(torch.randn(V, V, generator=torch.Generator().manual_seed(0)) * 2)

    def forward(self, x, y, reduction="mean"):
        loss = F.cross_entropy(self.table[x].view(-1, V), y.reshape(-1), reduction=reduction)
        return loss.view(y.shape) if reduction == "none" else loss


def hand_bpb(model, rows, byte_len, count_special_nats=False):
    """Σ nats / (ln 2 · Σ bytes) over targets whose byte length is > 0, one token at a time in Python."""
    table = model.table.detach().double()
    nats, nbytes = 0.0, 0
    for row in (rows.tolist() if torch.is_tensor(rows) else rows):
        for cur, nxt in zip(row[:-1], row[1:]):
            if byte_len(nxt) == 0 and not count_special_nats:
                continue
            logits = table[cur].tolist()
            nats += math.log(sum(math.exp(v) for v in logits)) - logits[nxt]
            nbytes += byte_len(nxt)
    return nats / (math.log(2) * nbytes)


def raw_len(i):
    return len(RAW[i])


def decoded_len(i):  # the reference bug: decode each token to str and count the UTF-8 bytes of that
    return 0 if i == BOS else len(RAW[i].decode("utf-8", errors="replace").encode("utf-8"))


@pytest.mark.parametrize("batch_size", [1, 2, 3, 4])
def test_evaluate_bpb_matches_hand_computation(batch_size):
    model = TableModel()
    expected = hand_bpb(model, ROWS, raw_len)
    got = prepare.evaluate_bpb(model, TOKEN_BYTES, batch_size, "cpu", val_rows=ROWS)
    assert got == pytest.approx(expected, rel=1e-6, abs=1e-6)
    assert model.training  # mode restored


def test_raw_bytes_differ_from_decode_count():
    model = TableModel()
    got = prepare.evaluate_bpb(model, TOKEN_BYTES, 2, "cpu", val_rows=ROWS)
    buggy = hand_bpb(model, ROWS, decoded_len)
    assert abs(got - buggy) > 1e-3
    # each split character counts its true length (2, 3, 4 bytes), not 3 bytes per U+FFFD half
    targets = ROWS[:, 1:].reshape(-1).tolist()
    assert int(TOKEN_BYTES[targets].sum()) == sum(len(RAW[i]) for i in targets) == 30
    assert sum(decoded_len(i) for i in targets) > 30  # 62: each partial token decodes to 1-2 U+FFFD


def test_specials_are_excluded_from_both_sums():
    model = TableModel()
    got = prepare.evaluate_bpb(model, TOKEN_BYTES, 3, "cpu", val_rows=ROWS)
    assert int((ROWS[:, 1:] == BOS).sum()) == 2  # two BOS targets in the toy rows
    with_bos_nats = hand_bpb(model, ROWS, raw_len, count_special_nats=True)
    with_bos_bytes = hand_bpb(model, ROWS, lambda i: 1 if i == BOS else raw_len(i), count_special_nats=True)
    assert got < with_bos_nats and abs(got - with_bos_bytes) > 1e-3
    # a row made only of specials contributes nothing
    padded = torch.cat([ROWS, torch.full((1, ROWS.size(1)), BOS)])
    assert prepare.evaluate_bpb(model, TOKEN_BYTES, 2, "cpu", val_rows=padded) == pytest.approx(got, rel=1e-9)


def test_n_tokens_counts_only_the_first_targets():
    model = TableModel()
    got = prepare.evaluate_bpb(model, TOKEN_BYTES, 2, "cpu", val_rows=ROWS, n_tokens=11)
    # the first 11 targets in row-major order: all 8 of row 0, then 3 of row 1
    expected = hand_bpb(model, [ROWS[0].tolist(), ROWS[1, :4].tolist()], raw_len)
    assert got == pytest.approx(expected, rel=1e-6)


def test_evaluate_bpb_on_sotu_is_deterministic_and_batch_independent(sotu):
    class Unigram(nn.Module):
        def __init__(self):
            super().__init__()
            self.logits = nn.Parameter(torch.randn(sotu.vocab_size, generator=torch.Generator().manual_seed(1)))

        def forward(self, x, y, reduction="mean"):
            logits = self.logits.expand(*y.shape, -1).reshape(-1, sotu.vocab_size)
            return F.cross_entropy(logits, y.reshape(-1), reduction=reduction).view(y.shape)

    m = Unigram()
    a = prepare.evaluate_bpb(m, sotu, 16, "cpu")
    b = prepare.evaluate_bpb(m, sotu, 7, "cpu")
    assert math.isfinite(a) and a == pytest.approx(b, rel=1e-9)
    # a uniform model scores log2(V) bits per scored token; checks the byte sum on real data
    with torch.no_grad():
        m.logits.zero_()
    rows = prepare.get_val_rows(sotu)
    nb = sotu.token_bytes[rows[:, 1:]]
    expected = math.log2(sotu.vocab_size) * int((nb > 0).sum()) / int(nb.sum())
    assert prepare.evaluate_bpb(m, sotu.token_bytes, 16, "cpu", val_rows=rows) == pytest.approx(expected, rel=1e-6)
