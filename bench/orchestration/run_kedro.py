"""Kedro anchor: a linear chain of N no-op nodes run by the SequentialRunner.

Kedro keeps every intermediate in a MemoryDataset and records nothing (no
run metadata, no lineage, no cache), so it is the floor for in-process
orchestration overhead. The timed region is ``SequentialRunner().run`` on an
already built pipeline and an empty ``DataCatalog`` (datasets are created on
the fly), i.e. everything Kedro does per run; building the ``Pipeline``
object is included too because the other frameworks build their DAG per run.
Kedro's console logging (INFO per node, rich handler) is turned down to
WARNING; with it on, the run costs about 5-8 ms per node on this machine.

Run with the Kedro venv: ``bench/.venvs/kedro/bin/python run_kedro.py --n 10``
"""

from __future__ import annotations

import logging

import kedro
from _common import check, parse_args, result_line, timed
from kedro.io import DataCatalog
from kedro.pipeline import Pipeline, node
from kedro.runner import SequentialRunner


def start() -> int:
    return 0


def inc(x: int) -> int:
    return x + 1


def build(n: int) -> Pipeline:
    nodes = [node(start, inputs=None, outputs="x_0", name="start")]
    for i in range(1, n):
        name = "inc" if i == 1 else f"inc_{i}"
        nodes.append(node(inc, inputs=f"x_{i - 1}", outputs=f"x_{i}", name=name))
    return Pipeline(nodes)


def run_chain(n: int) -> int:
    catalog = DataCatalog()
    outputs = SequentialRunner().run(build(n), catalog)
    return int(outputs[f"x_{n - 1}"].load())


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    # Kedro's default (rich) logging prints ~5 INFO lines per node to the
    # console, which costs more than the orchestration itself. Silence it so
    # the floor is Kedro's runner, not terminal rendering.
    logging.getLogger("kedro").setLevel(logging.WARNING)
    if not args.no_warmup:
        run_chain(2)
    cold_s, value = timed(lambda: run_chain(args.n))
    check(value == args.n - 1, f"chain returned {value}, expected {args.n - 1}")
    print(
        result_line(
            "kedro",
            kedro.__version__,
            args.n,
            cold_s,
            None,
            warmup=not args.no_warmup,
            includes="Pipeline build + SequentialRunner.run with an empty DataCatalog "
            "(MemoryDatasets); kedro logger at WARNING; records nothing, no cache",
        )
    )


if __name__ == "__main__":
    main()
