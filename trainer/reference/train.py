"""
swarm's reference-class baseline: the model size and batch of the reference autoresearch (depth 8, width 512,
~50M parameters, ~0.5M tokens per optimizer step, sequence MAX_SEQ_LEN = 2048 on climbmix, vocabulary 8192),
for a CUDA box training on climbmix. Scored by val_bpb (lower is better); the one file agents edit.
The harness (data, tokenizer, budget, metric) is prepare.py, fixed. Run with PYTHONPATH=trainer.

Model: rotary embeddings, RMSNorm, QK-norm, ReLU^2 MLP, untied head, tanh logit soft-cap, value embeddings
(extra token tables added to the attention values of every other layer) and sliding-window attention (most
layers see the last SHORT_WINDOW tokens; every LONG_EVERY-th layer and the last see the whole context).
Attention: FlexAttention with a block mask when training on CUDA (compiled); SDPA with an explicit mask
otherwise, and always in eval mode, so that the model(x) the harness exports uses PyTorch operators only.
Optimizer: Muon (orthogonalised momentum) for 2-D hidden matrices, AdamW for the rest. bf16 + torch.compile on CUDA.
Contract: model(x) -> logits; model(x, y) -> mean loss; model(x, y, reduction='none') -> (B, T) nats.
"""

import time

T_START = time.time()

import math
import os
import sys
from contextlib import nullcontext

import torch
import torch.nn as nn
import torch.nn.functional as F

from prepare import (MAX_SEQ_LEN, budget_description, evaluate_bpb, get_device, get_tokenizer,
                     make_dataloader, peak_flops, training_progress)

# ---------------------------------------------------------------------------
# Hyperparameters (plain literals, one per line)
# ---------------------------------------------------------------------------

DEPTH = 8  # number of transformer blocks
MODEL_DIM = 512  # residual stream width (rounded to a multiple of HEAD_DIM)
HEAD_DIM = 128  # width of one attention head
MLP_RATIO = 4  # MLP hidden width = MLP_RATIO * MODEL_DIM
SHORT_WINDOW = 1024  # tokens a sliding-window layer attends to (itself included)
LONG_EVERY = 4  # every LONG_EVERY-th layer, and the last, attends to the whole context
DEVICE_BATCH_SIZE = 64  # sequences per forward/backward pass
TOTAL_BATCH_SIZE = 524288  # tokens per optimizer step (gradient accumulation fills the rest)
MATRIX_LR = 0.04  # Muon learning rate for hidden matrices
EMBEDDING_LR = 0.6  # AdamW learning rate for the token embedding
VALUE_EMBEDDING_LR = 0.6  # AdamW learning rate for the value embeddings
UNEMBEDDING_LR = 0.004  # AdamW learning rate for the output head
SCALAR_LR = 0.02  # AdamW learning rate for per-layer scalars
WEIGHT_DECAY = 0.0  # decoupled weight decay on hidden matrices
ADAM_BETA1 = 0.8  # AdamW beta1
ADAM_BETA2 = 0.95  # AdamW beta2
MUON_MOMENTUM = 0.95  # Muon momentum (Nesterov)
NS_STEPS = 5  # Newton-Schulz iterations in Muon
WARMUP_RATIO = 0.0  # fraction of the budget spent warming the LR up
WARMDOWN_RATIO = 0.5  # fraction of the budget spent decaying the LR at the end
FINAL_LR_FRAC = 0.0  # LR multiplier reached at the end of the warmdown
ROPE_BASE = 10000.0  # rotary embedding base
LOGIT_SOFTCAP = 15.0  # logits = cap * tanh(logits / cap)
EVAL_BATCH_SIZE = 16  # sequences per evaluation batch (does not change val_bpb)
UNTIMED_STEPS_CUDA = 10  # first steps not counted against the budget on CUDA (torch.compile)

# ---------------------------------------------------------------------------
# Setup
# ---------------------------------------------------------------------------

SEED = int(os.environ.get("SWARM_SEED") or 42)
torch.manual_seed(SEED)
DEVICE = get_device()
device = torch.device(DEVICE)
if DEVICE == "cuda":
    torch.cuda.manual_seed(SEED)
    torch.backends.cuda.matmul.allow_tf32 = True
    torch.backends.cudnn.allow_tf32 = True
autocast = torch.autocast("cuda", dtype=torch.bfloat16) if DEVICE == "cuda" else nullcontext()
sync = torch.cuda.synchronize if DEVICE == "cuda" else (torch.mps.synchronize if DEVICE == "mps" else (lambda: None))

tokenizer = get_tokenizer()
VOCAB_SIZE = tokenizer.get_vocab_size()
SEQ_LEN = MAX_SEQ_LEN
depth = max(1, int(DEPTH))
head_dim = max(2, int(HEAD_DIM) // 2 * 2)
n_head = max(1, round(MODEL_DIM / head_dim))
model_dim = n_head * head_dim
batch_size = max(1, int(DEVICE_BATCH_SIZE))
grad_accum = max(1, int(TOTAL_BATCH_SIZE) // (batch_size * SEQ_LEN))
tokens_per_step = grad_accum * batch_size * SEQ_LEN
# tokens each layer attends to; a window as long as the context is full causal attention
long_every, short_window = max(1, int(LONG_EVERY)), min(SEQ_LEN, max(1, int(SHORT_WINDOW)))
windows = [SEQ_LEN if (i + 1) % long_every == 0 or i == depth - 1 else short_window for i in range(depth)]
value_embed_layers = [i for i in range(depth) if (depth - 1 - i) % 2 == 0]  # every other layer, the last included

# ---------------------------------------------------------------------------
# Model
# ---------------------------------------------------------------------------


def rms_norm(x):
    return F.rms_norm(x, (x.size(-1),))


def rotary_tables(seq_len, dim, base):
    inv_freq = 1.0 / (base ** (torch.arange(0, dim, 2, dtype=torch.float32) / dim))
    angles = torch.outer(torch.arange(seq_len, dtype=torch.float32), inv_freq)
    return angles.cos()[None, :, None, :], angles.sin()[None, :, None, :]  # (1, T, 1, dim/2)


def apply_rotary(x, cos, sin):  # x: (B, T, H, D)
    x1, x2 = x.chunk(2, dim=-1)
    cos, sin = cos[:, :x.size(1)].to(x.dtype), sin[:, :x.size(1)].to(x.dtype)
    return torch.cat([x1 * cos - x2 * sin, x1 * sin + x2 * cos], dim=-1)


def window_mask(seq_len, window, device):
    """(T, T) bool, True where query i may attend to key j: j <= i and i - j < window."""
    i = torch.arange(seq_len, device=device)[:, None]
    j = torch.arange(seq_len, device=device)[None, :]
    return torch.logical_and(j <= i, i - j < window)


def flex_block_mask(seq_len, window, device):
    """The same mask as a FlexAttention block mask: blocks wholly outside the window are skipped."""
    from torch.nn.attention.flex_attention import create_block_mask
    in_window = lambda b, h, q, k: (k <= q) & (q - k < window)  # noqa: E731
    return create_block_mask(in_window, B=None, H=None, Q_LEN=seq_len, KV_LEN=seq_len, device=device)


class Attention(nn.Module):
    def __init__(self, dim, n_head, head_dim, window, value_embed):
        super().__init__()
        self.n_head, self.head_dim, self.window = n_head, head_dim, window
        self.q = nn.Linear(dim, n_head * head_dim, bias=False)
        self.k = nn.Linear(dim, n_head * head_dim, bias=False)
        self.v = nn.Linear(dim, n_head * head_dim, bias=False)
        self.proj = nn.Linear(n_head * head_dim, dim, bias=False)
        # how much of the value embedding each head mixes into its values (layers that have one)
        self.ve_lambda = nn.Parameter(torch.full((n_head,), 0.5)) if value_embed else None
        self.flex_mask = None  # set by use_flex_attention() on CUDA; used in training mode only

    def forward(self, x, cos, sin, ve):
        B, T, _ = x.shape
        q = self.q(x).view(B, T, self.n_head, self.head_dim)
        k = self.k(x).view(B, T, self.n_head, self.head_dim)
        v = self.v(x).view(B, T, self.n_head, self.head_dim)
        if ve is not None:
            v = v + (self.ve_lambda.view(1, 1, -1, 1) * ve.view(B, T, self.n_head, self.head_dim)).to(v.dtype)
        q, k = apply_rotary(rms_norm(q), cos, sin), apply_rotary(rms_norm(k), cos, sin)  # QK-norm
        q, k, v = (t.to(v.dtype).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D); norms may run in float32
        if self.training and self.flex_mask is not None:
            from torch.nn.attention.flex_attention import flex_attention
            y = flex_attention(q, k, v, block_mask=self.flex_mask)
        elif self.window >= T:
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=window_mask(T, self.window, x.device))
        return self.proj(y.transpose(1, 2).reshape(B, T, -1))


class MLP(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc = nn.Linear(dim, hidden, bias=False)
        self.proj = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.proj(F.relu(self.fc(x)).square())


class Block(nn.Module):
    def __init__(self, dim, n_head, head_dim, hidden, window, value_embed):
        super().__init__()
        self.attn = Attention(dim, n_head, head_dim, window, value_embed)
        self.mlp = MLP(dim, hidden)
        self.resid_lambda = nn.Parameter(torch.ones(()))  # scales the residual stream
        self.x0_lambda = nn.Parameter(torch.zeros(()))  # mixes the embedding back in

    def forward(self, x, x0, cos, sin, ve):
        x = self.resid_lambda * x + self.x0_lambda * x0
        x = x + self.attn(rms_norm(x), cos, sin, ve)
        return x + self.mlp(rms_norm(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, dim, depth, n_head, head_dim, hidden, seq_len, windows, value_embed_layers):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.value_embeds = nn.ModuleDict({str(i): nn.Embedding(vocab_size, n_head * head_dim) for i in value_embed_layers})
        self.blocks = nn.ModuleList([Block(dim, n_head, head_dim, hidden, windows[i], i in value_embed_layers)
                                     for i in range(depth)])
        self.head = nn.Linear(dim, vocab_size, bias=False)
        cos, sin = rotary_tables(seq_len, head_dim, ROPE_BASE)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        nn.init.normal_(self.embed.weight, std=1.0)
        for table in self.value_embeds.values():
            nn.init.normal_(table.weight, std=1.0)
        nn.init.zeros_(self.head.weight)  # initial loss = ln(vocab)
        for block in self.blocks:
            for lin in (block.attn.q, block.attn.k, block.attn.v, block.mlp.fc):
                bound = math.sqrt(3.0 / lin.in_features)
                nn.init.uniform_(lin.weight, -bound, bound)
            nn.init.zeros_(block.attn.proj.weight)  # every block starts as the identity
            nn.init.zeros_(block.mlp.proj.weight)

    def use_flex_attention(self, seq_len, device):
        """Training on CUDA: one FlexAttention block mask per window length, shared by its layers."""
        masks = {w: flex_block_mask(seq_len, w, device) for w in {b.attn.window for b in self.blocks}}
        for block in self.blocks:
            block.attn.flex_mask = masks[block.attn.window]

    def forward(self, idx, targets=None, reduction="mean"):
        x = x0 = rms_norm(self.embed(idx))
        for i, block in enumerate(self.blocks):
            ve = self.value_embeds[str(i)](idx) if block.attn.ve_lambda is not None else None
            x = block(x, x0, self.cos, self.sin, ve)
        logits = self.head(rms_norm(x)).float()
        logits = LOGIT_SOFTCAP * torch.tanh(logits / LOGIT_SOFTCAP)
        if targets is None:
            return logits
        loss = F.cross_entropy(logits.view(-1, logits.size(-1)), targets.reshape(-1), reduction=reduction)
        return loss.view(targets.shape) if reduction == "none" else loss


# ---------------------------------------------------------------------------
# Optimizer: Muon for hidden matrices, AdamW for everything else
# ---------------------------------------------------------------------------


def newton_schulz(G, steps):
    """Approximately orthogonalise G (replace its singular values by ~1), quintic iteration."""
    a, b, c = 3.4445, -4.7750, 2.0315
    X = G.bfloat16() if G.is_cuda else G.float()
    transposed = X.size(0) > X.size(1)
    if transposed:
        X = X.T
    X = X / (X.norm() + 1e-7)
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * A @ A) @ X
    return (X.T if transposed else X).to(G.dtype)


class Muon(torch.optim.Optimizer):
    def __init__(self, params, lr, momentum, weight_decay, ns_steps):
        super().__init__(params, dict(lr=lr, momentum=momentum, weight_decay=weight_decay, ns_steps=ns_steps))

    @torch.no_grad()
    def step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                buf = self.state[p].setdefault("momentum", torch.zeros_like(p))
                buf.lerp_(p.grad, 1 - group["momentum"])
                update = p.grad.lerp(buf, group["momentum"])  # Nesterov
                update = newton_schulz(update, group["ns_steps"])
                scale = max(1.0, p.size(0) / p.size(1)) ** 0.5
                p.mul_(1 - group["lr"] * group["weight_decay"])
                p.add_(update, alpha=-group["lr"] * scale)


model = GPT(VOCAB_SIZE, model_dim, depth, n_head, head_dim, int(MLP_RATIO * model_dim), SEQ_LEN, windows,
            value_embed_layers).to(device)
if DEVICE == "cuda":
    model.use_flex_attention(SEQ_LEN, device)
num_params = sum(p.numel() for p in model.parameters())
matrices = [p for p in model.blocks.parameters() if p.ndim == 2]
scalars = [p for p in model.blocks.parameters() if p.ndim < 2]
muon = Muon(matrices, lr=MATRIX_LR, momentum=MUON_MOMENTUM, weight_decay=WEIGHT_DECAY, ns_steps=NS_STEPS)
adam = torch.optim.AdamW([
    dict(params=[model.embed.weight], lr=EMBEDDING_LR),
    dict(params=list(model.value_embeds.parameters()), lr=VALUE_EMBEDDING_LR),
    dict(params=[model.head.weight], lr=UNEMBEDDING_LR),
    dict(params=scalars, lr=SCALAR_LR),
], betas=(ADAM_BETA1, ADAM_BETA2), eps=1e-10, weight_decay=0.0)
optimizers = [muon, adam]
for opt in optimizers:
    for group in opt.param_groups:
        group["initial_lr"] = group["lr"]


def lr_multiplier(progress):
    if WARMUP_RATIO > 0 and progress < WARMUP_RATIO:
        return (progress + 1e-8) / WARMUP_RATIO
    if WARMDOWN_RATIO > 0 and progress > 1.0 - WARMDOWN_RATIO:
        frac = min(1.0, (1.0 - progress) / WARMDOWN_RATIO)
        return FINAL_LR_FRAC + (1.0 - FINAL_LR_FRAC) * frac
    return 1.0


# FLOPs per token: 6 per weight (forward + backward; embedding lookups are free) plus attention scores and
# values over each layer's window.
lookups = model.embed.weight.numel() + sum(p.numel() for p in model.value_embeds.parameters())
flops_per_token = 6 * (num_params - lookups) + sum(12 * model_dim * w for w in windows)
train_model = torch.compile(model, dynamic=False) if DEVICE == "cuda" else model
print(f"device: {DEVICE} | params: {num_params / 1e6:.2f}M | depth {depth} dim {model_dim} heads {n_head} | "
      f"vocab {VOCAB_SIZE} | seq {SEQ_LEN} | windows {windows} | value embeds {value_embed_layers} | "
      f"batch {batch_size}x{grad_accum} = {tokens_per_step:,} tokens | budget {budget_description()} | seed {SEED}", flush=True)

# ---------------------------------------------------------------------------
# Training loop: stops when the budget is used up (summed step time, or tokens in tokens mode)
# ---------------------------------------------------------------------------

loader = make_dataloader(tokenizer, batch_size, SEQ_LEN, "train", device, seed=SEED)
# untimed warm-up steps: compilation on CUDA; lazy imports and allocator warm-up elsewhere
warmup_steps = UNTIMED_STEPS_CUDA if DEVICE == "cuda" else 1
training_time = 0.0
step = 0
lrm = lr_multiplier(0.0)
while True:
    sync()
    t0 = time.time()
    for _ in range(grad_accum):
        x, y, _ = next(loader)
        with autocast:
            loss = train_model(x, y)
        (loss / grad_accum).backward()
    for opt in optimizers:
        for group in opt.param_groups:
            group["lr"] = group["initial_lr"] * lrm
        opt.step()
    model.zero_grad(set_to_none=True)
    loss_value = loss.item()  # also waits for the step to finish
    sync()
    dt = time.time() - t0
    if step >= warmup_steps:
        training_time += dt
    if not math.isfinite(loss_value) or (step > 10 and loss_value > 100):
        print(f"FAIL: loss diverged ({loss_value:g}) at step {step}", flush=True)
        sys.exit(1)
    progress = training_progress(training_time, (step + 1) * tokens_per_step)  # in [0, 1]
    print(f"step {step:05d} | loss {loss_value:.6f} | lrm {lrm:.3f} | dt {dt * 1000:.0f}ms | "
          f"tok/s {int(tokens_per_step / dt):,} | elapsed {training_time:.1f}s | done {100 * progress:.0f}%", flush=True)
    step += 1
    if progress >= 1.0:
        break
    lrm = lr_multiplier(progress)

# ---------------------------------------------------------------------------
# Evaluation and summary (eval mode: SDPA attention, which is also what the harness exports)
# ---------------------------------------------------------------------------

with autocast:
    val_bpb = evaluate_bpb(train_model, tokenizer, EVAL_BATCH_SIZE, device)
peak_vram_mb = torch.cuda.max_memory_allocated() / 1024**2 if DEVICE == "cuda" else 0.0
counted_steps = max(1, step - warmup_steps)
flops_done = flops_per_token * tokens_per_step * counted_steps
mfu = 100 * flops_done / training_time / peak_flops(DEVICE) if training_time > 0 else 0.0
print("---")
print(f"val_bpb:          {val_bpb:.6f}")
print(f"training_seconds: {training_time:.1f}")
print(f"total_seconds:    {time.time() - T_START:.1f}")
print(f"peak_vram_mb:     {peak_vram_mb:.1f}")
print(f"mfu_percent:      {mfu:.2f}")
print(f"total_tokens_M:   {step * tokens_per_step / 1e6:.1f}")
print(f"num_steps:        {step}")
print(f"num_params_M:     {num_params / 1e6:.1f}")
print(f"depth:            {depth}")
