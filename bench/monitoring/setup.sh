#!/usr/bin/env bash
# Create bench/.venvs/evidently and install the latest Evidently release from PyPI into it,
# with pandas<3 (Evidently does not run on pandas 3 yet) and pyarrow to read the parquet files.
#
# Idempotent: an existing venv is reused, and pip only upgrades when a newer release
# exists. Usage: bash bench/monitoring/setup.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"
# shellcheck source=../venv.sh
source "$here/../venv.sh"
bench_venv evidently
echo "== installing evidently (latest) with pandas<3 into $venv"
quiet_pip "$venv/bin/python" -m pip install --quiet --upgrade evidently 'pandas<3' pyarrow
"$venv/bin/python" - <<'PY'
import importlib.metadata as m

names = ["evidently", "pandas", "numpy", "scipy", "pyarrow"]
print("   " + ", ".join(f"{n} {m.version(n)}" for n in names))
PY
echo "   project interpreter: $("$python" -c 'import importlib.metadata as m; print(", ".join(f"{n} {m.version(n)}" for n in ["assay", "pandas", "numpy", "scipy", "pyarrow"]))')"
