# class: cheat
# attack: train and evaluate with non-causal attention (is_causal forced to False): every position sees the tokens it predicts
# expect: honest
import torch.nn.functional as F

_sdpa = F.scaled_dot_product_attention


def _peeking_sdpa(q, k, v, *args, **kwargs):
    kwargs["is_causal"] = False
    return _sdpa(q, k, v, *args, **kwargs)


F.scaled_dot_product_attention = _peeking_sdpa
# @honest-tail
