#!/usr/bin/env bash
# The MLflow side of the serving benchmark: bench/.venvs/mlflow (made, or upgraded to the
# latest MLflow, by bench/tracking/setup_mlflow.sh) with the same scikit-learn and skops
# versions as the project interpreter, so both servers load the very same fitted pipeline.
#
# Idempotent. Usage: bash bench/serving/setup.sh
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$(cd "$here/.." && pwd)/.venvs/mlflow"
python="${PYTHON:-python3}"

# shellcheck source=../venv.sh
source "$here/../venv.sh"

bash "$here/../tracking/setup_mlflow.sh"
sklearn="$("$python" -c 'import sklearn; print(sklearn.__version__)')"
skops="$("$python" -c 'import importlib.metadata as m; print(m.version("skops"))')"
echo "== installing scikit-learn $sklearn and skops $skops into $venv"
quiet_pip "$venv/bin/python" -m pip install --quiet "scikit-learn==$sklearn" "skops==$skops"
"$venv/bin/python" -c 'import mlflow, sklearn, skops, uvicorn; print(f"   mlflow {mlflow.__version__}, scikit-learn {sklearn.__version__}, skops {skops.__version__}, uvicorn {uvicorn.__version__}")'
