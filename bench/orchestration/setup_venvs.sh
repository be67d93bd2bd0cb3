#!/usr/bin/env bash
# Create one virtual environment per anchor framework under bench/.venvs/<name>
# and install the latest release of that framework from PyPI into it.
#
# Idempotent: an existing venv is reused; pip only upgrades when a newer
# release exists. Usage: bash bench/orchestration/setup_venvs.sh [zenml|kedro|metaflow ...]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venvs="$(cd "$here/.." && pwd)/.venvs"
python="${PYTHON:-python3}"

# name -> pip requirement. ZenML's local stack (SQLite store, local
# orchestrator, local artifact store) needs the `local` extra: the base
# package has no SQLAlchemy/sqlmodel. The REST server (`server`) is not needed.
declare -A requirement=(
  [zenml]="zenml[local]"
  [kedro]="kedro"
  [metaflow]="metaflow"
)

names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  names=(zenml kedro metaflow)
fi

# pip on this machine warns about every package missing from its local
# file:// indexes; keep only the lines that matter.
quiet_pip() { "$@" 2>&1 | { grep -v 'is ignored: it is neither a file nor a directory' || true; }; }

mkdir -p "$venvs"
for name in "${names[@]}"; do
  req="${requirement[$name]:?unknown anchor: $name}"
  venv="$venvs/$name"
  if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv"
    "$python" -m venv "$venv"
    quiet_pip "$venv/bin/python" -m pip install --quiet --upgrade pip
  fi
  echo "== installing $req into $venv"
  quiet_pip "$venv/bin/python" -m pip install --quiet --upgrade "$req"
  "$venv/bin/python" -m pip show "${name}" | sed -n 's/^Version: /   version: /p'
done
