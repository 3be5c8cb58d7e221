# class: escape
# attack: ptrace-attach to another process of the node's user and kill it through ptrace
# expect: crash
import ctypes
import os

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
PTRACE_ATTACH, PTRACE_KILL = 16, 8
pid = {{VICTIM_PID}}
if libc.ptrace(PTRACE_ATTACH, pid, None, None) == 0:
    print("HOSTILE-EFFECT: ptrace attached to", pid, flush=True)
    os.waitpid(pid, 0)
    libc.ptrace(PTRACE_KILL, pid, None, None)
else:
    print("ptrace blocked: errno", ctypes.get_errno())
