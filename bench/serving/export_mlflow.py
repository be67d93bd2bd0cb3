"""Save assay's sesame model as an MLflow model folder (run in ``bench/.venvs/mlflow``).

The skops artifact is read from assay's store by its sha256 digest (checked here), loaded
with skops, and written with ``mlflow.sklearn.save_model`` (MLflow's own pickle format) so
that ``mlflow models serve`` can serve the very same fitted pipeline. The pyfunc predict
function is ``predict_proba``, so MLflow answers with class probabilities as assay does.

Usage: ``python export_mlflow.py --artifact FILE --digest HEX --out FOLDER``; prints one
JSON line with the versions used.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from checked import checked_model  # bench/serving/checked.py, beside this script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--artifact", type=Path, required=True)
    parser.add_argument("--digest", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    model = checked_model(args.artifact, args.digest)

    import mlflow  # noqa: PLC0415
    import mlflow.sklearn  # noqa: PLC0415
    import sklearn  # noqa: PLC0415
    import skops  # noqa: PLC0415

    mlflow.sklearn.save_model(
        model,
        str(args.out),
        serialization_format=mlflow.sklearn.SERIALIZATION_FORMAT_CLOUDPICKLE,
        pyfunc_predict_fn="predict_proba",
    )
    print(
        json.dumps(
            {
                "task": "export",
                "mlflow": mlflow.__version__,
                "sklearn": sklearn.__version__,
                "skops": skops.__version__,
                "python": sys.version.split()[0],
                "model_type": type(model).__name__,
                "classes": [str(c) for c in model.classes_],
                "seconds": time.perf_counter() - started,
            }
        )
    )


if __name__ == "__main__":
    main()
