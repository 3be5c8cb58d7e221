"""
swarm's evaluation harness: the val_bpb of record, measured without running any of train.py.

    python trainer/evaluate.py EXPORT_DIR

A training run exports its model (prepare.export_model: torch.export's JSON graph, the raw bytes of
its weights and a JSON index of them). This process, which the node fences like a run, reads that
export as data: it refuses anything but PyTorch's own operators with static shapes, checks that the
model is causal and scores every row on its own, then scores the validation split in float64 the way
prepare.evaluate_bpb does. It prints one JSON line, {"val_bpb": ...}. A model it cannot evaluate
this way gets one line `refused: <reason>` and exit code 3.
"""

import io
import json
import math
import os
import re
import sys
import time

import torch
from torch.utils import _pytree as pytree

import prepare

REFUSED = 3
MAX_GRAPH_BYTES = 64 << 20
MAX_TENSORS = 100_000
DTYPES = {name: getattr(torch, name) for name in (
    "float32", "float16", "bfloat16", "float64", "int64", "int32", "int16", "int8", "uint8", "bool")}
IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
WEIGHT_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.]{0,299}")
# The operators a model may use: pure, deterministic ATen tensor operators (no file access such as
# from_file, no printing, no RNG, nothing that writes its inputs: a model must not keep state between
# calls). Anything else, custom and higher-order operators included, is refused.
PURE_OPS = frozenset("""
    _assert_tensor_metadata _log_softmax _softmax _to_copy _unsafe_view abs add addmm alias all amax amin any
    arange argmax argmin baddbmm bitwise_and bitwise_not bitwise_or bmm cat chunk clamp clamp_max clamp_min
    clone constant_pad_nd contiguous cos cosh cumsum detach div einsum elu embedding eq erf exp expand
    expand_as expm1 flatten flip floor floor_divide full full_like gather ge gelu gt hardtanh index
    index_select layer_norm le leaky_relu lerp lift_fresh_copy linalg_vector_norm linear log log1p
    log_softmax logical_and logical_not logical_or lt masked_fill matmul max maximum mean min minimum mm mul
    narrow native_layer_norm ne neg new_ones new_zeros norm ones ones_like outer permute pow reciprocal relu
    remainder repeat repeat_interleave reshape rms_norm roll rsqrt rsub scalar_tensor
    scaled_dot_product_attention select sigmoid sign silu sin sinh slice softmax softplus split
    split_with_sizes sqrt square squeeze stack sub sum t tanh topk transpose tril triu type_as unbind
    unflatten unsqueeze var view view_as where zeros zeros_like
    to copy fill index_put scatter scatter_add convolution conv1d conv2d avg_pool1d tile dot addcmul addcdiv
    group_norm native_group_norm _native_batch_norm_legit_no_training hardswish hardsigmoid mish glu exp2
    log2 round trunc ceil isnan isinf nan_to_num fmod sort cumprod logsumexp prod std _local_scalar_dense
""".split())
TARGET = re.compile(r"torch\.ops\.aten\.([a-z0-9_]+)\.([A-Za-z0-9_]+)|_operator\.getitem")
# Fields that make torch's deserializer evaluate text (sympy), build subgraphs or objects: never allowed.
FORBIDDEN_KEYS = frozenset({"as_expr", "expr_str", "as_sym_int", "as_sym_ints", "as_sym_float", "as_sym_floats",
                            "as_sym_bool", "as_sym_bools", "as_graph", "as_custom_obj", "as_operator"})
# Max |change| of a log-probability (nats) that counts as none: float32 kernels may reorder sums by
# ~1e-4 between calls; a leak this small is worth under 0.001 bpb, below any noise floor.
CAUSAL_TOL = 1e-3
INPUT_KINDS = {"parameter", "buffer", "tensor_constant", "user_input"}


class Refused(Exception):
    """The export is not a model this harness evaluates; the message says why."""


def load_index(export_dir):
    with open(os.path.join(export_dir, prepare.EXPORT_INDEX), encoding="utf-8") as f:
        index = json.load(f)
    batch = index.get("batch_size") if isinstance(index, dict) else None
    tensors = index.get("tensors") if isinstance(index, dict) else None
    if not isinstance(batch, int) or not 1 <= batch <= 4096 or not isinstance(tensors, list) or len(tensors) > MAX_TENSORS:
        raise Refused("weights index: expected {batch_size: 1..4096, tensors: [...]}")
    return batch, tensors


def load_tensors(export_dir, entries):
    """{group: {name: tensor}} from the raw weights file, every entry checked against the file."""
    path = os.path.join(export_dir, prepare.EXPORT_WEIGHTS)
    size, offset, groups = os.path.getsize(path), 0, {"state_dict": {}, "constants": {}}
    with open(path, "rb") as f:
        for e in entries:
            if not isinstance(e, dict) or e.get("group") not in groups or not WEIGHT_NAME.fullmatch(str(e.get("name"))):
                raise Refused(f"weights index: bad entry {str(e)[:120]}")
            dtype, shape = DTYPES.get(e.get("dtype")), e.get("shape")
            if dtype is None or not isinstance(shape, list) or not all(isinstance(d, int) and 0 <= d < 2**31 for d in shape):
                raise Refused(f"weights index: bad dtype or shape for {e['name']}")
            nbytes = math.prod(shape) * torch.empty((), dtype=dtype).element_size()
            if e.get("offset") != offset or e.get("nbytes") != nbytes or offset + nbytes > size:
                raise Refused(f"weights index: {e['name']} does not match the weights file")
            raw = bytearray(f.read(nbytes))
            flat = torch.frombuffer(raw, dtype=torch.uint8) if nbytes else torch.empty(0, dtype=torch.uint8)
            groups[e["group"]][e["name"]] = flat.view(dtype).reshape(shape)
            offset += nbytes
    if offset != size:
        raise Refused("weights file holds bytes that no index entry describes")
    return groups


def check_fields(value):
    """
    Every `name` becomes a Python identifier in generated code: only plain ones. No field anywhere may
    hold a symbolic expression, a subgraph or an object (torch would evaluate or build them).
    """
    if isinstance(value, dict):
        for k, v in value.items():
            if k in FORBIDDEN_KEYS:
                raise Refused(f"graph: field {k!r} is not allowed (static shapes, plain tensors only)")
            if k == "name" and not (isinstance(v, str) and IDENT.fullmatch(v)):
                raise Refused(f"graph: name {str(v)[:60]!r} is not a plain identifier")
            check_fields(v)
    elif isinstance(value, list):
        for v in value:
            check_fields(v)


def check_operator(target):
    """A node's operator: one of PURE_OPS, resolved to a real ATen overload that writes none of its inputs."""
    m = TARGET.fullmatch(target) if isinstance(target, str) else None
    if m is None or (m.group(1) is not None and m.group(1) not in PURE_OPS):
        raise Refused(f"graph: operator {str(target)[:80]!r} is not one of the pure ATen operators a model may use")
    if m.group(1) is None:
        return  # _operator.getitem: indexing the tuple an operator returned
    op = getattr(getattr(torch.ops.aten, m.group(1)), m.group(2), None)
    if not isinstance(op, torch._ops.OpOverload) or op._schema.is_mutable:
        raise Refused(f"graph: operator {target!r} is unknown or writes its inputs (a model keeps no state)")


def sanitize_graph(raw, weights, batch):
    """The graph JSON reduced to what evaluation needs, or Refused. Never trusts what it may drop."""
    if len(raw) > MAX_GRAPH_BYTES:
        raise Refused(f"graph: larger than {MAX_GRAPH_BYTES >> 20} MiB")
    doc = json.loads(raw)
    gm = doc.get("graph_module") if isinstance(doc, dict) else None
    graph = gm.get("graph") if isinstance(gm, dict) else None
    if not isinstance(graph, dict) or doc.get("range_constraints") not in ({}, None):
        raise Refused("graph: not a static-shape torch.export graph")
    for key in ("sym_int_values", "sym_bool_values", "sym_float_values", "custom_obj_values"):
        if graph.get(key):
            raise Refused(f"graph: {key} is not allowed (static shapes and tensors only)")
    for node in graph.get("nodes", []):
        check_operator(node.get("target"))
        node["metadata"] = {}  # stack traces and module paths: text that must not reach code generation
    check_fields(doc)
    parameters = check_signature(gm.get("signature"), weights)
    example = torch.zeros((batch, prepare.MAX_SEQ_LEN), dtype=torch.long)
    root = {"fqn": "", "signature": {"inputs": [], "outputs": [], "forward_arg_names": ["x"],
                                     "in_spec": pytree.treespec_dumps(pytree.tree_structure(((example,), {}))),
                                     "out_spec": pytree.treespec_dumps(pytree.tree_structure(example))}}
    gm.update(metadata={}, module_call_graph=[root])
    doc.update(guards_code=[], range_constraints={})
    return json.dumps(doc).encode(), parameters


def check_signature(sig, weights):
    """
    One user input (the tokens), one user output (the logits), weights that the index holds.
    Returns the names of the parameters (torch rebuilds them as nn.Parameter).
    """
    inputs, outputs = (sig or {}).get("input_specs"), (sig or {}).get("output_specs")
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise Refused("graph: no signature")
    kinds = [next(iter(s), None) if isinstance(s, dict) and len(s) == 1 else None for s in inputs]
    if any(k not in INPUT_KINDS for k in kinds) or kinds.count("user_input") != 1:
        raise Refused("graph: inputs must be weights plus exactly one tensor of tokens")
    known = {**weights["state_dict"], **weights["constants"]}
    for kind, spec in zip(kinds, inputs):
        target = spec[kind].get("parameter_name") or spec[kind].get("buffer_name") or spec[kind].get("tensor_constant_name")
        if kind != "user_input" and target not in known:
            raise Refused(f"graph: {kind} {str(target)[:60]!r} is not in the weights")
    if len(outputs) != 1 or set(outputs[0]) != {"user_output"}:
        raise Refused("graph: the model must return one tensor (the logits) and mutate no buffer")
    return {spec["parameter"]["parameter_name"] for kind, spec in zip(kinds, inputs) if kind == "parameter"}


def load_model(export_dir, device):
    from torch._export.serde.serialize import SerializedArtifact, deserialize
    batch, entries = load_index(export_dir)
    weights = load_tensors(export_dir, entries)
    with open(os.path.join(export_dir, prepare.EXPORT_GRAPH), "rb") as f:
        graph, parameters = sanitize_graph(f.read(MAX_GRAPH_BYTES + 1), weights, batch)
    state = weights["state_dict"]
    for name in parameters:
        state[name] = torch.nn.Parameter(state[name], requires_grad=state[name].is_floating_point())

    def saved(obj):  # torch's own format, written here from tensors this process built
        buf = io.BytesIO()
        torch.save(obj, buf)
        return buf.getvalue()

    example = ((torch.zeros((batch, prepare.MAX_SEQ_LEN), dtype=torch.long),), {})
    artifact = SerializedArtifact(graph, saved(state), saved(weights["constants"]), saved(example))
    try:
        program = deserialize(artifact)
    except Exception as e:  # a malformed graph: whatever torch's deserializer says is the reason
        raise Refused(f"graph: cannot be loaded ({type(e).__name__}: {str(e)[:200]})") from e
    return program.module().to(device), batch


def log_probs(model, x):
    logits = model(x)
    if not isinstance(logits, torch.Tensor) or logits.dim() != 3 or tuple(logits.shape[:2]) != tuple(x.shape):
        raise Refused(f"model(x) must return logits of shape (B, T, vocab), got {getattr(logits, 'shape', type(logits))}")
    return torch.log_softmax(logits.double(), dim=-1)


MIN_CHECKED_BATCHES = 16  # every batch up to this many; beyond, a secret random quarter (at least this many)


@torch.no_grad()
def score(model, tok, batch, device):
    """
    (nats, bytes, targets, checked batches) over the first EVAL_TOKENS validation targets, in float64.
    The scored passes are themselves checked: for a secret choice of batches a second pass replaces, in
    each row, every token from a secret random position on (half the rows entirely), and no
    log-probability before that position may move. So a model that peeks at later tokens, reads other
    rows of the batch, is not deterministic or behaves differently when checked is refused; there is no
    separate check pass, with other rows or other numerics, for it to recognise.
    """
    rows = prepare.get_val_rows(tok)
    n, T = rows.size(0), rows.size(1) - 1
    weight = (torch.arange(n * T) < prepare.EVAL_TOKENS).view(n, T)
    token_bytes = tok.token_bytes.to(torch.int64)
    gen = torch.Generator().manual_seed(int.from_bytes(os.urandom(8), "little"))
    n_batches = math.ceil(n / batch)
    share = 1.0 if n_batches <= MIN_CHECKED_BATCHES else max(0.25, MIN_CHECKED_BATCHES / n_batches)
    nats, nbytes, checked = 0.0, 0, 0
    for i in range(0, n, batch):
        chunk, w = rows[i:i + batch], weight[i:i + batch]
        real = len(chunk)
        if real < batch:  # the export has a static batch size: pad with copies that count for nothing
            chunk = torch.cat([chunk, chunk[:1].expand(batch - real, -1)])
            w = torch.cat([w, torch.zeros(batch - real, T, dtype=torch.bool)])
        x, y = chunk[:, :-1].to(device), chunk[:, 1:]
        lp = log_probs(model, x)
        if torch.rand((), generator=gen).item() < share:
            check_pass(model, x, lp, gen, tok.n_ordinary)
            checked += 1
        lp = lp.cpu()
        if lp.size(-1) != tok.vocab_size:
            raise Refused(f"logits have {lp.size(-1)} entries per token; the vocabulary has {tok.vocab_size}")
        b = token_bytes[y] * w
        picked = -lp.gather(-1, y.unsqueeze(-1)).squeeze(-1)
        nats += torch.where(b > 0, picked, torch.zeros_like(picked)).sum().item()
        nbytes += int(b.sum().item())
    return nats, nbytes, int(weight.sum().item()), checked


def check_pass(model, x, base, gen, n_ordinary):
    """Replaces each row's tokens from a secret position on (position 0 for half the rows); earlier log-probabilities must not move."""
    B, T = x.shape
    cuts = torch.where(torch.rand(B, 1, generator=gen) < 0.5, 0, torch.randint(1, T, (B, 1), generator=gen))
    later = (torch.arange(T)[None, :] >= cuts).to(x.device)
    noise = torch.randint(0, n_ordinary, x.shape, generator=gen).to(x.device)
    moved = (log_probs(model, torch.where(later, noise, x)) - base).abs()
    delta = torch.where((~later)[:, :, None], moved, torch.zeros_like(moved)).max().item()
    if not delta <= CAUSAL_TOL:
        raise Refused(f"not causal: log-probabilities moved by {delta:.3g} when only later tokens, or other rows "
                      f"of the batch, changed (a model must score each row from its own earlier tokens)")


def main(argv):
    if len(argv) != 1:
        print("usage: python evaluate.py EXPORT_DIR", file=sys.stderr)
        return 2
    t0 = time.time()
    device = prepare.get_device()
    # The export's own dtypes (its graph asserts them, so no autocast); TF32 matmuls on CUDA for speed.
    # Checked and scored passes run under the same numerics: there is nothing for a model to detect.
    torch.backends.cuda.matmul.allow_tf32 = True
    tok = prepare.get_tokenizer()
    try:
        model, batch = load_model(argv[0], device)
        t1 = time.time()
        nats, nbytes, targets, checks = score(model, tok, batch, device)
    except FileNotFoundError as e:
        print(f"refused: no exported model ({os.path.basename(e.filename or '')} missing): train.py must call "
              f"prepare.evaluate_bpb(model, ...) so the harness can evaluate it", flush=True)
        return REFUSED
    except (Refused, json.JSONDecodeError, UnicodeDecodeError) as e:
        print(f"refused: {e}", flush=True)
        return REFUSED
    val_bpb = nats / (math.log(2) * nbytes)
    if not math.isfinite(val_bpb):
        print("refused: the model's val_bpb is not finite", flush=True)
        return REFUSED
    print(json.dumps({"val_bpb": val_bpb, "nats": nats, "bytes": nbytes, "targets": targets, "batch_size": batch,
                      "checked_batches": checks, "device": device, "load_seconds": round(t1 - t0, 3),
                      "eval_seconds": round(time.time() - t1, 3)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
