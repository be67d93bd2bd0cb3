"""Running independent nodes of a DAG at the same time on a pool of threads."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from assay.core import Dag, Node

__all__ = ["run_parallel"]


def run_parallel(process: Callable[[Node], None], dag: Dag, workers: int) -> None:
    """Call ``process`` on every node once its upstream nodes are done, ``workers`` at a time.

    After the first failure no new node starts; nodes already running finish, then the
    first exception is raised again.
    """
    remaining = {n.name: n for n in dag.nodes}
    done: set[str] = set()
    running: dict[Future[None], str] = {}
    failure: BaseException | None = None
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="assay-step")
    try:
        while remaining or running:
            if failure is None:
                for name, node in list(remaining.items()):
                    if node.upstream <= done:
                        del remaining[name]
                        running[pool.submit(process, node)] = name
            if not running:
                break
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                name = running.pop(fut)
                exc = fut.exception()
                if exc is None:
                    done.add(name)
                elif failure is None:
                    failure = exc
    except BaseException:
        # Ctrl-C or SIGTERM: start nothing more and do not wait for the steps running now
        # (threads cannot be stopped; the command line ends the process without them).
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    if failure is not None:
        raise failure
