/** A small train.py and history entries shaped like the real ones, for the agent's tests. */
import type { HistoryEntry } from '../../src/core/index.js';

export const TRAIN_PY = `"""Tiny GPT trainer (test fixture)."""
import torch
import torch.nn as nn

# ---- hyperparameters ----
DEPTH = 4  # layers
MODEL_DIM = 256
N_HEAD = 4
DEVICE_BATCH_SIZE = 8  # sequences per step
MATRIX_LR = 0.02
EMBEDDING_LR = 0.3
WEIGHT_DECAY = 0.0
WARMDOWN_RATIO = 0.5
ADAM_BETA2 = 0.95
ROPE_BASE = 10000
SEED = 42
TIME_BUDGET = 300


class MLP(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc = nn.Linear(dim, 4 * dim)
        self.proj = nn.Linear(4 * dim, dim)

    def forward(self, x):
        x = self.fc(x)
        x = torch.relu(x).square()
        x = self.proj(x)
        return x


class Head(nn.Module):
    def forward(self, x):
        x = self.fc(x)
        return x


def main():
    torch.manual_seed(SEED)
    model = build(DEPTH, MODEL_DIM, N_HEAD)
    val = train(model)
    print("---")
    print(f"val_bpb:          {val:.6f}")


if __name__ == "__main__":
    main()
`;

export const PROGRAM_MD = '# Goal\nLower val_bpb on the fixed budget. Be bold but careful with memory.\n';

/** A git-style diff of one constant line, as the workspace records it. */
export function constantDiff(name: string, from: string, to: string): string {
  return [
    'diff --git a/train.py b/train.py',
    '--- a/train.py',
    '+++ b/train.py',
    '@@ -9,3 +9,3 @@',
    ' DEVICE_BATCH_SIZE = 8  # sequences per step',
    `-${name} = ${from}`,
    `+${name} = ${to}`,
    ' EMBEDDING_LR = 0.3',
  ].join('\n');
}

export function entry(seq: number, status: HistoryEntry['status'], hypothesis: string, diff = '', val_bpb: number | null = null, reason: string | null = null): HistoryEntry {
  return { seq, status, hypothesis, diff, val_bpb, reason };
}

export const HISTORY: HistoryEntry[] = [
  entry(1, 'keep', 'baseline', '', 0.9979),
  entry(2, 'discard', 'double the matrix learning rate', constantDiff('MATRIX_LR', '0.02', '0.04'), 1.0021, 'val_bpb 1.002100 is not better than 0.997900'),
  entry(3, 'crash', 'swap relu^2 for gelu', '', null, 'NameError: name \'gelu\' is not defined'),
  entry(4, 'keep', 'one more layer', constantDiff('DEPTH', '4', '5'), 0.9921),
];

/** A reply that raises MATRIX_LR; applies to TRAIN_PY. */
export const GOOD_REPLY = `I think the matrix LR is too low.

HYPOTHESIS: raise MATRIX_LR to 0.03 for faster convergence in the short budget

<<<<<<< SEARCH
MATRIX_LR = 0.02
=======
MATRIX_LR = 0.03
>>>>>>> REPLACE
`;

/** A reply whose SEARCH text is not in TRAIN_PY. */
export const NO_APPLY_REPLY = `HYPOTHESIS: use GELU

<<<<<<< SEARCH
        x = torch.gelu(x)
=======
        x = torch.nn.functional.gelu(x)
>>>>>>> REPLACE
`;
