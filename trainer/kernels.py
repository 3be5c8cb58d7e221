"""
swarm's stand-in for the `kernels` package (Hugging Face's hub kernel loader), so that a train.py
written for the reference autoresearch runs under swarm's harness unchanged:

    from kernels import get_kernel
    fa3 = get_kernel("varunneal/flash-attention-3").flash_attn_interface
    y = fa3.flash_attn_func(q, k, v, causal=True, window_size=(left, 0))   # q, k, v: (B, T, H, D)

The real package downloads compiled attention kernels from a hub at run time. A swarm run has no
network (it trains in a sandbox) and must not run code fetched by a peer's train.py, so get_kernel
accepts any repository name, downloads nothing, prints one note to stderr, and returns an object whose
flash_attn_func computes the same attention with PyTorch's scaled_dot_product_attention (a sliding
window becomes a boolean mask). Results match flash attention up to floating-point rounding; speed
is SDPA's (its memory-efficient kernel on CUDA once a mask is given, its math kernel on CPU).
Because it sits on PYTHONPATH beside prepare.py, it shadows an installed `kernels` package in a run.
"""

import sys
from types import SimpleNamespace

import torch
import torch.nn.functional as F

_noted = set()


def window_mask(q_len, k_len, causal, window_size, device):
    """
    Boolean (q_len, k_len) mask, True where query i may attend to key j, or None when every pair may.
    As in flash attention, queries align with the last keys (query i sits at key position
    i + k_len - q_len) and window_size=(left, right) keeps keys j with pos - left <= j <= pos + right;
    -1 means unlimited on that side, and causal sets right to 0.
    """
    left, right = (int(w) for w in window_size)
    if causal:
        right = 0
    if left < 0 and right < 0:
        return None
    pos = torch.arange(q_len, device=device)[:, None] + (k_len - q_len)
    key = torch.arange(k_len, device=device)[None, :]
    allowed = torch.ones(q_len, k_len, dtype=torch.bool, device=device)
    if left >= 0:
        allowed = torch.logical_and(allowed, key >= pos - left)
    if right >= 0:
        allowed = torch.logical_and(allowed, key <= pos + right)
    return allowed


def flash_attn_func(q, k, v, softmax_scale=None, causal=False, window_size=(-1, -1), **unsupported):
    """
    flash-attention's flash_attn_func on PyTorch SDPA. q: (B, Tq, H, D); k, v: (B, Tk, Hkv, D) with H a
    multiple of Hkv (grouped-query attention). Returns (B, Tq, H, D). Dropout, softcap, ALiBi and the
    other options of the real kernel are refused rather than silently ignored.
    """
    if any(value not in (None, 0, 0.0, False) for value in unsupported.values()):
        raise NotImplementedError(f"swarm's flash_attn_func fallback does not support {sorted(unsupported)}; "
                                  f"it offers softmax_scale, causal and window_size")
    q_len, k_len = q.size(1), k.size(1)
    qt, kt, vt = q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)  # SDPA wants (B, H, T, D)
    gqa = qt.size(1) != kt.size(1)
    left = int(window_size[0])
    no_window = left < 0 or left >= k_len - 1  # the reference passes (seq_len, 0) for full attention
    if causal and q_len == k_len and no_window:  # SDPA's own causal path (top-left aligned, which equals bottom-right when Tq == Tk)
        y = F.scaled_dot_product_attention(qt, kt, vt, is_causal=True, scale=softmax_scale, enable_gqa=gqa)
    else:
        mask = window_mask(q_len, k_len, causal, window_size, q.device)
        y = F.scaled_dot_product_attention(qt, kt, vt, attn_mask=mask, scale=softmax_scale, enable_gqa=gqa)
    return y.transpose(1, 2)


def get_kernel(repo_id, *args, **kwargs):
    """Any hub repository name: the SDPA fallback above (nothing is downloaded)."""
    if repo_id not in _noted:
        _noted.add(repo_id)
        print(f"kernels: {repo_id} is not downloaded in a swarm run; flash_attn_func runs on PyTorch SDPA "
              f"(trainer/kernels.py)", file=sys.stderr, flush=True)
    interface = SimpleNamespace(flash_attn_func=flash_attn_func)
    return SimpleNamespace(flash_attn_interface=interface, flash_attn_func=flash_attn_func)
