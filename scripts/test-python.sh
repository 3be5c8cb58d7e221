#!/usr/bin/env bash
# Runs the Python trainer's test suite (trainer/tests) with the project's venv, or $SWARM_PYTHON.
set -euo pipefail
cd "$(dirname "$0")/.."
exec "${SWARM_PYTHON:-.venv/bin/python}" -m pytest -q -p no:cacheprovider trainer/tests "$@"
