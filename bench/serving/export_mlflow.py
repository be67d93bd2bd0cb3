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
import hashlib
import json
import sys
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--artifact", type=Path, required=True)
    parser.add_argument("--digest", required=True)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    data = args.artifact.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != args.digest:
        sys.exit(f"{args.artifact}: sha256 {digest} is not the expected {args.digest}")

    import mlflow  # noqa: PLC0415
    import mlflow.sklearn  # noqa: PLC0415
    import sklearn  # noqa: PLC0415
    import skops  # noqa: PLC0415
    import skops.io as sio  # noqa: PLC0415

    # The bytes are assay's own artifact, checked against its digest just above.
    model = sio.loads(data, trusted=sio.get_untrusted_types(data=data))
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
