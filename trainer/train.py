"""
swarm baseline: a small modern GPT trained for a fixed budget (seconds or tokens), scored by val_bpb (lower is better).
This is the one file agents edit. The harness (data, tokenizer, budget, metric) lives in
prepare.py and is fixed. Runs on CUDA (bf16 + torch.compile), Apple MPS and CPU (float32).

Model: rotary embeddings, RMSNorm, QK-norm, ReLU^2 MLP, untied head, tanh logit soft-cap.
Optimizer: Muon (orthogonalised momentum) for 2-D hidden matrices, AdamW for the rest.
Contract with the harness: model(x, y) -> mean loss; model(x, y, reduction='none') -> (B, T) nats.
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

DEPTH = 4  # number of transformer blocks
MODEL_DIM = 256  # residual stream width (rounded to a multiple of HEAD_DIM)
HEAD_DIM = 64  # width of one attention head
MLP_RATIO = 4  # MLP hidden width = MLP_RATIO * MODEL_DIM
DEVICE_BATCH_SIZE = 8  # sequences per forward/backward pass
TOTAL_BATCH_SIZE = 2048  # tokens per optimizer step (gradient accumulation fills the rest)
MATRIX_LR = 0.02  # Muon learning rate for hidden matrices
EMBEDDING_LR = 0.3  # AdamW learning rate for the token embedding
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


class Attention(nn.Module):
    def __init__(self, dim, n_head, head_dim):
        super().__init__()
        self.n_head, self.head_dim = n_head, head_dim
        self.qkv = nn.Linear(dim, 3 * n_head * head_dim, bias=False)
        self.proj = nn.Linear(n_head * head_dim, dim, bias=False)

    def forward(self, x, cos, sin):
        B, T, _ = x.shape
        q, k, v = self.qkv(x).view(B, T, 3, self.n_head, self.head_dim).unbind(2)
        q, k = apply_rotary(rms_norm(q), cos, sin), apply_rotary(rms_norm(k), cos, sin)  # QK-norm
        q, k = q.to(v.dtype), k.to(v.dtype)  # norms may run in float32 under autocast
        y = F.scaled_dot_product_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True)
        return self.proj(y.transpose(1, 2).reshape(B, T, -1))


class MLP(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc = nn.Linear(dim, hidden, bias=False)
        self.proj = nn.Linear(hidden, dim, bias=False)

    def forward(self, x):
        return self.proj(F.relu(self.fc(x)).square())


class Block(nn.Module):
    def __init__(self, dim, n_head, head_dim, hidden):
        super().__init__()
        self.attn = Attention(dim, n_head, head_dim)
        self.mlp = MLP(dim, hidden)
        self.resid_lambda = nn.Parameter(torch.ones(()))  # scales the residual stream
        self.x0_lambda = nn.Parameter(torch.zeros(()))  # mixes the embedding back in

    def forward(self, x, x0, cos, sin):
        x = self.resid_lambda * x + self.x0_lambda * x0
        x = x + self.attn(rms_norm(x), cos, sin)
        return x + self.mlp(rms_norm(x))


class GPT(nn.Module):
    def __init__(self, vocab_size, dim, depth, n_head, head_dim, hidden, seq_len):
        super().__init__()
        self.embed = nn.Embedding(vocab_size, dim)
        self.blocks = nn.ModuleList([Block(dim, n_head, head_dim, hidden) for _ in range(depth)])
        self.head = nn.Linear(dim, vocab_size, bias=False)
        cos, sin = rotary_tables(seq_len, head_dim, ROPE_BASE)
        self.register_buffer("cos", cos, persistent=False)
        self.register_buffer("sin", sin, persistent=False)
        self.reset_parameters()

    @torch.no_grad()
    def reset_parameters(self):
        nn.init.normal_(self.embed.weight, std=1.0)
        nn.init.zeros_(self.head.weight)  # initial loss = ln(vocab)
        for block in self.blocks:
            for lin in (block.attn.qkv, block.mlp.fc):
                bound = math.sqrt(3.0 / lin.in_features)
                nn.init.uniform_(lin.weight, -bound, bound)
            nn.init.zeros_(block.attn.proj.weight)  # every block starts as the identity
            nn.init.zeros_(block.mlp.proj.weight)

    def forward(self, idx, targets=None, reduction="mean"):
        x = x0 = rms_norm(self.embed(idx))
        for block in self.blocks:
            x = block(x, x0, self.cos, self.sin)
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


model = GPT(VOCAB_SIZE, model_dim, depth, n_head, head_dim, int(MLP_RATIO * model_dim), SEQ_LEN).to(device)
num_params = sum(p.numel() for p in model.parameters())
matrices = [p for p in model.blocks.parameters() if p.ndim == 2]
scalars = [p for p in model.blocks.parameters() if p.ndim < 2]
muon = Muon(matrices, lr=MATRIX_LR, momentum=MUON_MOMENTUM, weight_decay=WEIGHT_DECAY, ns_steps=NS_STEPS)
adam = torch.optim.AdamW([
    dict(params=[model.embed.weight], lr=EMBEDDING_LR),
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


# FLOPs per token: 6 per weight (forward + backward) plus attention scores and values.
non_embedding = num_params - model.embed.weight.numel()
flops_per_token = 6 * non_embedding + 12 * depth * model_dim * SEQ_LEN
train_model = torch.compile(model, dynamic=False) if DEVICE == "cuda" else model
print(f"device: {DEVICE} | params: {num_params / 1e6:.2f}M | depth {depth} dim {model_dim} heads {n_head} | "
      f"vocab {VOCAB_SIZE} | seq {SEQ_LEN} | batch {batch_size}x{grad_accum} = {tokens_per_step:,} tokens | "
      f"budget {budget_description()} | seed {SEED}", flush=True)

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
# Evaluation and summary
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
