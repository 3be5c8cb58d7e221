# class: cheat
# attack: print the summary block with val_bpb 0.3 without training at all
# expect: crash
import os

tokens = int(os.environ.get("SWARM_BUDGET_TOKENS") or 0)
print("---")
print("val_bpb:          0.300000")
print("training_seconds: 1.0")
print("total_seconds:    2.0")
print("peak_vram_mb:     0.0")
print("mfu_percent:      1.00")
print(f"total_tokens_M:   {tokens / 1e6:.6f}")
print("num_steps:        1")
print("num_params_M:     4.2")
print("depth:            4")
