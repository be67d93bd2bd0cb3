"""assay: machine learning pipelines that stand up to an audit.

The objects a user meets, and how they relate::

    @step functions ──called in──▶ @pipeline function ──assay.run()──▶ Run
                                                                     │
        Run ──has──▶ Executions (one per step, executed or reused from the cache)
        Execution ──reads/writes──▶ Artifacts (bytes addressed by sha256)
        register_model(model) ──▶ ModelVersion of a Model (``NAME@latest``, ``NAME@3``)

Everything is recorded in one store: a metadata database plus an artifact folder
(``.assay/`` in the project folder by default). Importing assay does nothing else.
"""

from assay.core import Pipeline, Step, pipeline, step
from assay.errors import AssayError
from assay.registry import register_model
from assay.runner import RunResult
from assay.runner.adhoc import start_run
from assay.runner.api import run
from assay.settings import Settings
from assay.tracking import Client, log_metrics, log_params, set_note, set_tags

__all__ = [
    "AssayError",
    "Client",
    "Pipeline",
    "RunResult",
    "Settings",
    "Step",
    "log_metrics",
    "log_params",
    "pipeline",
    "register_model",
    "run",
    "set_note",
    "set_tags",
    "start_run",
    "step",
]

__version__ = "0.1.0"
