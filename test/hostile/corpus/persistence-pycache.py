# class: persistence
# attack: plant a compiled prepare.pyc (matching the source's mtime and size) in the checkout, so every later import of prepare runs it
# expect: crash
import importlib.util
import marshal
import os
import sys

src = "{{TRAINER}}/prepare.py"
st = os.stat(src)
code = compile(open(src).read() + "\nPLANTED_BY_A_RUN = True\n", src, "exec")
pyc = os.path.join("{{TRAINER}}", "__pycache__", "prepare.%s.pyc" % sys.implementation.cache_tag)
data = (importlib.util.MAGIC_NUMBER + (0).to_bytes(4, "little") + int(st.st_mtime).to_bytes(4, "little")
        + (st.st_size & 0xFFFFFFFF).to_bytes(4, "little") + marshal.dumps(code))
try:
    os.makedirs(os.path.dirname(pyc), exist_ok=True)
    with open(pyc, "wb") as f:
        f.write(data)
    print("done: planted", pyc, flush=True)
except OSError as e:
    print("blocked:", e)
