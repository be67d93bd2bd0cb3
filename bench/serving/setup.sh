#!/usr/bin/env bash
# The anchors of the serving benchmark, each in its own venv with the same scikit-learn and
# skops versions as the project interpreter, so that every server loads the very same
# fitted pipeline:
# - bench/.venvs/mlflow (made, or upgraded to the latest MLflow, by
#   bench/tracking/setup_mlflow.sh);
# - bench/.venvs/mlserver: MLServer and its scikit-learn runtime, pinned to the release
#   below (the Open Inference Protocol V2 server that KServe runs for scikit-learn models),
#   with uvloop held below 0.22: from uvloop 0.22 on, MLServer 1.7.1's inference workers die
#   at start ("There is no current event loop", MLServer issue 2286) and no model loads.
#
# Idempotent. Usage: bash bench/serving/setup.sh
set -euo pipefail

MLSERVER_VERSION=1.7.1

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
python="${PYTHON:-python3}"

# shellcheck source=../venv.sh
source "$here/../venv.sh"

sklearn="$("$python" -c 'import sklearn; print(sklearn.__version__)')"
skops="$("$python" -c 'import importlib.metadata as m; print(m.version("skops"))')"

bash "$here/../tracking/setup_mlflow.sh"
venv="$(cd "$here/.." && pwd)/.venvs/mlflow"
echo "== installing scikit-learn $sklearn and skops $skops into $venv"
quiet_pip "$venv/bin/python" -m pip install --quiet "scikit-learn==$sklearn" "skops==$skops"
"$venv/bin/python" -c 'import mlflow, sklearn, skops, uvicorn; print(f"   mlflow {mlflow.__version__}, scikit-learn {sklearn.__version__}, skops {skops.__version__}, uvicorn {uvicorn.__version__}")'

bench_venv mlserver
echo "== installing mlserver $MLSERVER_VERSION, scikit-learn $sklearn and skops $skops into $venv"
quiet_pip "$venv/bin/python" -m pip install --quiet "mlserver==$MLSERVER_VERSION" \
  "mlserver-sklearn==$MLSERVER_VERSION" "scikit-learn==$sklearn" "skops==$skops" joblib \
  "uvloop<0.22"
"$venv/bin/python" -c 'import mlserver, sklearn, skops, uvicorn; print(f"   mlserver {mlserver.__version__}, scikit-learn {sklearn.__version__}, skops {skops.__version__}, uvicorn {uvicorn.__version__}")'
