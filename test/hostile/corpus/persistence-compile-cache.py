# class: persistence
# attack: plant files in the cache's compiler caches (TorchInductor/Triton kernels are loaded and run by later runs)
# expect: crash
import os

for path in ("{{CACHE}}/inductor/planted/kernel.py", "{{CACHE}}/triton/planted/kernel.py", "{{CACHE}}/sitecustomize.py"):
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("PLANTED = True\n")
        print("done: planted", path, flush=True)
    except OSError as e:
        print("blocked:", e)
