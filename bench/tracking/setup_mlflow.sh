#!/usr/bin/env bash
# Create bench/.venvs/mlflow and install the latest MLflow release from PyPI into it.
#
# Idempotent: an existing venv is reused, and pip only upgrades when a newer release
# exists. Usage: bash bench/tracking/setup_mlflow.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$(cd "$here/.." && pwd)/.venvs/mlflow"
python="${PYTHON:-python3}"

# pip on this machine warns about every package missing from its local file://
# indexes; keep only the lines that matter.
quiet_pip() { "$@" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }; }

if [ ! -x "$venv/bin/python" ]; then
  echo "== creating $venv"
  mkdir -p "$(dirname "$venv")"
  "$python" -m venv "$venv"
  quiet_pip "$venv/bin/python" -m pip install --quiet --upgrade pip
fi
echo "== installing mlflow into $venv"
quiet_pip "$venv/bin/python" -m pip install --quiet --upgrade mlflow
"$venv/bin/python" -m pip show mlflow | sed -n 's/^Version: /   version: /p'
