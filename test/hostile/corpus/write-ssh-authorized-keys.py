# class: write
# attack: add a key to ~/.ssh/authorized_keys (remote login to the box)
# expect: crash
import os

try:
    os.makedirs("{{HOME}}/.ssh", exist_ok=True)
    with open("{{HOME}}/.ssh/authorized_keys", "a") as f:
        f.write("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostileHostileHostileHostileHostileHost attacker\n")
    print("done: authorized_keys written", flush=True)
except OSError as e:
    print("blocked:", e)
