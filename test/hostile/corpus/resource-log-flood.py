# class: resource
# attack: flood stdout with 200 MB so the node's run log fills its disk
# expect: crash
# limit: log
import sys

line = "x" * 1023 + "\n"
for _ in range({{LOG_BYTES}} // len(line)):
    sys.stdout.write(line)
sys.stdout.flush()
print("FAIL: nothing stopped the flood", flush=True)
raise SystemExit(1)
