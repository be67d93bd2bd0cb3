"""Save a model of assay's store as an MLServer model folder (run in ``bench/.venvs/mlserver``).

The skops artifact is read from assay's store by its sha256 digest (checked here), loaded
with skops, and written as MLServer's scikit-learn runtime expects it: ``model.joblib``
(``joblib.dump``, the runtime loads it with ``joblib.load``) beside a
``model-settings.json`` naming the model, ``mlserver_sklearn.SKLearnModel`` as its
implementation and ``predict_proba`` as the function whose output is answered
(``parameters.extra.predict_fn``), so that MLServer answers with class probabilities as
assay does. Everything else is left at MLServer's defaults, which are printed too.

Usage: ``python export_mlserver.py --artifact FILE --digest HEX --name NAME --out FOLDER``;
prints one JSON line with the versions used and the model settings written.
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
    parser.add_argument("--name", required=True, help="the model's name in MLServer")
    parser.add_argument("--version", default="1")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    model = checked_model(args.artifact, args.digest)

    import joblib  # noqa: PLC0415
    import mlserver  # noqa: PLC0415
    import sklearn  # noqa: PLC0415
    import skops  # noqa: PLC0415
    from mlserver.settings import ModelSettings, Settings  # noqa: PLC0415

    args.out.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, args.out / "model.joblib")
    settings = {
        "name": args.name,
        "implementation": "mlserver_sklearn.SKLearnModel",
        "parameters": {
            "uri": "./model.joblib",
            "version": args.version,
            "extra": {"predict_fn": "predict_proba"},
        },
    }
    (args.out / "model-settings.json").write_text(json.dumps(settings, indent=2) + "\n")
    # What `mlserver start` runs with when nothing else is set: the server's and the
    # model's defaults (read from the settings classes, not from the environment).
    server_fields = ["parallel_workers", "debug", "gzip_enabled", "metrics_endpoint"]
    server_fields += ["http_port", "grpc_port", "metrics_port", "host"]
    defaults = {name: Settings.model_fields[name].default for name in server_fields}
    for name in ("max_batch_size", "max_batch_time"):
        defaults[name] = ModelSettings.model_fields[name].default
    print(
        json.dumps(
            {
                "task": "export",
                "mlserver": mlserver.__version__,
                "sklearn": sklearn.__version__,
                "skops": skops.__version__,
                "joblib": joblib.__version__,
                "python": sys.version.split()[0],
                "model_type": type(model).__name__,
                "classes": [str(c) for c in model.classes_],
                "model_bytes": (args.out / "model.joblib").stat().st_size,
                "model_settings": settings,
                "defaults": defaults,
                "seconds": time.perf_counter() - started,
            }
        )
    )


if __name__ == "__main__":
    main()
