#!/usr/bin/env bash
# Installs everything swarm needs on a fresh machine: the Node packages, the compiled CLI,
# and a Python virtual environment (.venv) with PyTorch, numpy, tiktoken, rustbpe, pyseccomp and
# matplotlib. With --test, also what the test suite needs beyond that: Debian's chromium for the
# dashboard's browser test (as root), and iproute2 + nftables for the NAT test. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

FOR_TESTS=0
for arg in "$@"; do
  case "$arg" in
    --test) FOR_TESTS=1 ;;
    *) echo "usage: bash scripts/setup.sh [--test]" >&2; exit 2 ;;
  esac
done

PYTHON="${PYTHON:-python3}"

say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

if [ ! -d node_modules ] || [ package.json -nt node_modules ] || [ package-lock.json -nt node_modules ]; then
  say "installing Node packages"
  npm ci --no-audit --no-fund --loglevel=error
fi
say "compiling the TypeScript node"
npm run --silent build

if [ ! -x .venv/bin/python ]; then
  say "creating .venv (sees system packages, so a box's own CUDA PyTorch is reused)"
  "$PYTHON" -m venv --system-site-packages .venv
fi
VPY=.venv/bin/python
if ! "$VPY" -c 'import torch' >/dev/null 2>&1; then
  # 2.13.0 is the pinned build; on a machine without CUDA wheels it is the CPU build.
  say "installing PyTorch"
  "$VPY" -m pip install --quiet --disable-pip-version-check "torch==2.13.0"
fi
missing=$("$VPY" - <<'PY'
import importlib.util
need = {"numpy": "numpy", "tiktoken": "tiktoken", "rustbpe": "rustbpe", "pytest": "pytest", "pyseccomp": "pyseccomp", "matplotlib": "matplotlib"}
print(" ".join(pkg for mod, pkg in need.items() if importlib.util.find_spec(mod) is None))
PY
)
if [ -n "$missing" ]; then
  say "installing Python packages: $missing"
  "$VPY" -m pip install --quiet --disable-pip-version-check $missing
fi
# bubblewrap fences every training run in (no network, read-only file system); peers' code needs it.
if ! command -v bwrap >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing bubblewrap (the sandbox for training runs)"
    (apt-get update -qq && apt-get install -y -qq bubblewrap) >/dev/null || say "warning: could not install bubblewrap"
  else
    say "warning: bwrap not found; install bubblewrap (e.g. sudo apt-get install bubblewrap) so peers' patches can run sandboxed"
  fi
fi
if [ "$FOR_TESTS" = 1 ]; then
  say "installing the browser the dashboard test drives (Debian chromium)"
  bash scripts/install-browser.sh
  # test/p2p/nat.test.ts builds NATs with network namespaces: ip (iproute2) and nft (nftables).
  if ! command -v ip >/dev/null 2>&1 || ! command -v nft >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      say "installing iproute2 and nftables (the NAT test's small internet)"
      (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends iproute2 nftables) >/dev/null \
        || say "warning: could not install iproute2/nftables; test/p2p/nat.test.ts will skip"
    else
      say "warning: ip or nft missing; test/p2p/nat.test.ts will skip (install iproute2 and nftables as root)"
    fi
  fi
fi
say "ready: $("$VPY" -c 'import torch, sys; print(f"python {sys.version.split()[0]}, torch {torch.__version__}, cuda {torch.cuda.is_available()}")')"
