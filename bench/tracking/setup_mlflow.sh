#!/usr/bin/env bash
# Create bench/.venvs/mlflow and install the latest MLflow release from PyPI into it.
#
# Idempotent: an existing venv is reused, and pip only upgrades when a newer release
# exists. Usage: bash bench/tracking/setup_mlflow.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../venv.sh
source "$here/../venv.sh"
bench_venv mlflow
echo "== installing mlflow into $venv"
quiet_pip "$venv/bin/python" -m pip install --quiet --upgrade mlflow
"$venv/bin/python" -m pip show mlflow | sed -n 's/^Version: /   version: /p'
