"""Running the team server on a socket, in the foreground or in a background thread."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import uvicorn

from assay.errors import ConfigError
from assay.server.api import blobs
from assay.server.api.app import PREFIX, TeamOptions, TeamServer, create_app
from assay.server.api.fast import FastReads
from assay.server.guard import GuardedConfig, RequestGuard
from assay.server.lifecycle import GracefulServer, in_thread
from assay.serving.server import is_loopback
from assay.workspace import Workspace

__all__ = ["reaping", "serve_team", "team_serving"]

log = logging.getLogger("assay.server")


MAX_BODY = 8 << 20
"""The largest request body the team server reads: a run's batch of metric values (10,000
at most, each a name of up to 250 characters and four numbers) is the largest it takes."""
HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 15.0


def _config(server: TeamServer, options: TeamOptions, port: int) -> uvicorn.Config:
    app = RequestGuard(
        FastReads(create_app(server), PREFIX),
        loopback_only=is_loopback(options.host),
        max_body=MAX_BODY,
        body_timeout_s=BODY_TIMEOUT_S,
        uploads=PREFIX + blobs.PREFIX,
        max_upload=options.max_upload_bytes,
    )
    return GuardedConfig(
        app,
        header_timeout_s=HEADER_TIMEOUT_S,
        host=options.host,
        port=port,
        log_level="warning",
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=30,
        limit_concurrency=1000,
        timeout_keep_alive=5,
    )


@contextmanager
def reaping(ws: Workspace, quiet_s: float) -> Iterator[None]:
    """While the block runs, a thread marks ``killed`` the runs nothing was heard of for
    ``quiet_s`` seconds (a client that died, or lost the server for good), checking every
    tenth of that (at most every 5 minutes); 0: none is."""
    if quiet_s <= 0:
        yield
        return
    stop = threading.Event()

    def reap() -> None:
        while not stop.wait(min(max(quiet_s / 10, 0.1), 300.0)):
            try:
                reaped = ws.metadata.reap_quiet_runs(quiet_s)
            except Exception:  # a thread's last resort: logged, tried again later
                log.exception("runs left running could not be reaped")
                continue
            if reaped:
                log.warning("marked killed %d run(s) nothing was heard of", len(reaped))

    thread = threading.Thread(target=reap, name="assay reaper", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(10)


def serve_team(
    ws: Workspace, options: TeamOptions, on_listening: Callable[[int], None] | None = None
) -> None:
    """Serve the API over ``ws`` until SIGINT or SIGTERM (requests in flight finished).

    Raises:
        ConfigError: no authentication on an address beyond loopback, or a bad port.
    """
    if not 0 <= options.port <= 65535:
        raise ConfigError(f"port {options.port} is out of range", hint="use 1 to 65535")
    with reaping(ws, options.reap_after_s):
        GracefulServer(_config(TeamServer(ws, options), options, options.port), on_listening).run()


@contextmanager
def team_serving(
    ws: Workspace, options: TeamOptions, *, port: int = 0
) -> Iterator[tuple[str, TeamServer]]:
    """The team server in a background thread, on ``port`` (0: a free one); yields its
    base URL and state. Leaving the block shuts it down."""
    server = TeamServer(ws, options)
    with (
        reaping(ws, options.reap_after_s),
        in_thread(_config(server, options, port), "team server") as bound,
    ):
        yield f"http://{options.host}:{bound}", server
