"""ZenML anchor: a linear chain of N no-op steps on the default local stack.

The local stack is ZenML's embedded SQLite store, the local orchestrator
(steps run in this process, one after another) and the local artifact
store. Each process gets a fresh ZenML home through ``ZENML_CONFIG_PATH``
and ``ZENML_LOCAL_STORES_PATH`` in a temporary directory.

Untimed, one-time setup: ``Client()`` initialisation of the fresh store
(SQLite creation, migrations, default project and stack) and, unless
``--no-warmup``, one 2-step pipeline of *different* step functions with
caching off, so lazily imported code is loaded and nothing is cached for
the chain. Timed: ``chain(n=N)`` with caching on (cold: empty cache), then
the same call again (cached: every step a cache hit). Each timed call is all
ZenML does per run: snapshot/deployment creation, run and step records,
artifact materialisation and metadata, step log storage, cache lookups.
Console logging is set to WARN; analytics off.

Run with the ZenML venv: ``bench/.venvs/zenml/bin/python run_zenml.py --n 10``
"""

from __future__ import annotations

import os
import shutil
import tempfile

_home = tempfile.mkdtemp(prefix="bench-zenml-")
os.environ["ZENML_CONFIG_PATH"] = os.path.join(_home, "config")
os.environ["ZENML_LOCAL_STORES_PATH"] = os.path.join(_home, "stores")
os.environ["ZENML_ANALYTICS_OPT_IN"] = "false"
os.environ["ZENML_LOGGING_VERBOSITY"] = "WARN"
os.environ["ZENML_ENABLE_REPO_INIT_WARNINGS"] = "false"
os.environ["AUTO_OPEN_DASHBOARD"] = "false"

import zenml  # noqa: E402
from _common import check, parse_args, result_line, timed  # noqa: E402
from zenml import pipeline, step  # noqa: E402
from zenml.client import Client  # noqa: E402
from zenml.enums import ExecutionStatus  # noqa: E402


@step
def start() -> int:
    return 0


@step
def inc(x: int) -> int:
    return x + 1


@pipeline(enable_cache=True)
def chain(n: int = 10) -> None:
    x = start()
    for _ in range(n - 1):
        x = inc(x)


@step
def warm_start() -> int:
    return 0


@step
def warm_inc(x: int) -> int:
    return x + 1


@pipeline(enable_cache=False)
def warmup_chain() -> None:
    warm_inc(warm_start())


def statuses(run_id: object) -> list[ExecutionStatus]:
    run = Client().get_pipeline_run(run_id)
    return [s.status for s in run.steps.values()]


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    try:
        client = Client()
        _ = client.active_stack_model  # creates the SQLite store and default stack
        if not args.no_warmup:
            warmup_chain()
        cold_s, cold_run = timed(lambda: chain(n=args.n))
        cached_s, cached_run = timed(lambda: chain(n=args.n))

        cold = statuses(cold_run.id)
        cached = statuses(cached_run.id)
        check(len(cold) == args.n, f"cold run has {len(cold)} steps, expected {args.n}")
        check(
            all(s == ExecutionStatus.COMPLETED for s in cold),
            f"cold run statuses {set(cold)}",
        )
        check(
            all(s == ExecutionStatus.CACHED for s in cached),
            f"cached run statuses {set(cached)}",
        )
        last = Client().get_pipeline_run(cached_run.id).steps[f"inc_{args.n - 1}"]
        value = last.outputs["output"][0].load()
        check(value == args.n - 1, f"chain returned {value}, expected {args.n - 1}")
    finally:
        shutil.rmtree(_home, ignore_errors=True)
    print(
        result_line(
            "zenml",
            zenml.__version__,
            args.n,
            cold_s,
            cached_s,
            warmup=not args.no_warmup,
            includes="pipeline call on the local stack (SQLite store, local orchestrator, "
            "local artifact store, step logs stored); Client/store init untimed",
        )
    )


if __name__ == "__main__":
    main()
