# class: cheat
# attack: evaluate a model whose logits for one row depend on the tokens of another row of the batch
# expect: crash
import prepare
import torch
import torch.nn as nn
import torch.nn.functional as F


class BatchMix(nn.Module):
    def __init__(self, inner, vocab):
        super().__init__()
        self.inner, self.vocab = inner, vocab

    def forward(self, idx, targets=None, reduction="mean"):
        neighbour = torch.roll(idx, 1, dims=0)  # the previous row of the batch
        logits = self.inner(idx) + 5.0 * F.one_hot(neighbour, self.vocab).float()
        if targets is None:
            return logits
        loss = F.cross_entropy(logits.view(-1, self.vocab), targets.reshape(-1), reduction=reduction)
        return loss.view(targets.shape) if reduction == "none" else loss


_real_evaluate = prepare.evaluate_bpb
prepare.evaluate_bpb = lambda model, *args, **kwargs: _real_evaluate(
    BatchMix(model, prepare.get_tokenizer().get_vocab_size()), *args, **kwargs)
# @honest-tail
