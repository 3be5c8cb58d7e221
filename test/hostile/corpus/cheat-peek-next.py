# class: cheat
# attack: evaluate a model that reads the next input token (the target) instead of predicting it
# expect: crash
import prepare
import torch
import torch.nn as nn
import torch.nn.functional as F


class PeekNext(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.vocab = vocab
        self.scale = nn.Parameter(torch.tensor(30.0))

    def forward(self, idx, targets=None, reduction="mean"):
        following = torch.roll(idx, -1, dims=1)  # x[t+1] is y[t]
        logits = self.scale * F.one_hot(following, self.vocab).float()
        if targets is None:
            return logits
        loss = F.cross_entropy(logits.view(-1, self.vocab), targets.reshape(-1), reduction=reduction)
        return loss.view(targets.shape) if reduction == "none" else loss


_real_evaluate = prepare.evaluate_bpb
prepare.evaluate_bpb = lambda model, *args, **kwargs: _real_evaluate(
    PeekNext(prepare.get_tokenizer().get_vocab_size()), *args, **kwargs)
# @honest-tail
