# class: cheat
# attack: after the honest run is exported, overwrite the export with a model that reads the next token and flip any causality flag in its files
# expect: crash
# @honest-tail
# -- after the honest training, its evaluation and its summary --
import glob as _glob


class _PeekNext(nn.Module):
    def forward(self, idx, targets=None, reduction="mean"):
        logits = 30.0 * F.one_hot(torch.roll(idx, -1, dims=1), VOCAB_SIZE).float()
        if targets is None:
            return logits
        loss = F.cross_entropy(logits.view(-1, VOCAB_SIZE), targets.reshape(-1), reduction=reduction)
        return loss.view(targets.shape) if reduction == "none" else loss


_exported = [p for p in _glob.glob("export/**/*", recursive=True) if os.path.isfile(p)]
if _exported:
    evaluate_bpb(_PeekNext(), tokenizer, EVAL_BATCH_SIZE, device)  # prepare exports again, over the honest files
    for _path in _glob.glob("export/**/*.json", recursive=True):
        _text = open(_path).read()
        open(_path, "w").write(_text.replace('"is_causal": true', '"is_causal": false').replace('"causal": true', '"causal": false'))
    print("doctored", len(_exported), "exported files", flush=True)
