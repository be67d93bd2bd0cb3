"""Running a model server on a socket, in the foreground or in a background thread."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess

from assay.errors import ConfigError
from assay.registry import resolve
from assay.server.guard import GuardedConfig
from assay.server.lifecycle import GracefulServer, in_thread
from assay.server.model.app import create_app
from assay.serving.server import ModelServer, ServeOptions
from assay.serving.tuning import freeze_loaded, tune_process
from assay.settings import Settings
from assay.workspace import Workspace, open_workspace

__all__ = ["app_from_env", "serve", "serving"]

_ENV = "ASSAY_SERVE_CONFIG"


def _config(app: Any, options: ServeOptions, port: int, **more: Any) -> uvicorn.Config:
    return GuardedConfig(
        app,
        header_timeout_s=options.header_timeout_s,
        host=options.host,
        port=port,
        limit_concurrency=options.max_connections,
        log_level="warning",
        access_log=False,
        # Nothing here reads the client's address: no X-Forwarded-* middleware per request.
        proxy_headers=False,
        timeout_graceful_shutdown=30,
        **more,
    )


def serve(
    settings: Settings,
    refs: Sequence[str],
    options: ServeOptions,
    *,
    host: str,
    port: int,
    workers: int = 1,
    on_listening: Callable[[int], None] | None = None,
) -> None:
    """Serve until SIGINT or SIGTERM; requests in flight and the prediction log are finished
    before returning. With ``workers`` above 1, that many processes share the port, each
    with its models, batcher and prediction-log writer. ``on_listening`` is called once
    every reference is resolved and the port is open, with the port (what a banner waits
    for).

    Raises:
        ConfigError: the port or the number of workers is out of range.
        StoreNotFoundError: there is no store where ``settings`` point.
        ModelNotFoundError: a reference resolves to nothing (checked before listening).
    """
    if not 0 <= port <= 65535:
        raise ConfigError(f"port {port} is out of range", hint="use a port from 1 to 65535")
    if workers < 1:
        raise ConfigError(f"--workers must be at least 1, got {workers}")
    options = dataclasses.replace(options, host=host)
    tune_process()
    ws = open_workspace(settings, create=False)
    try:
        if workers == 1:
            app = create_app(ModelServer(ws, refs, options))
            freeze_loaded()
            GracefulServer(_config(app, options, port), on_listening).run()
            return
        for ref in refs:  # fail here, once, before the workers load the models themselves
            resolve(ws, ref)
    finally:
        ws.close()
    if on_listening is not None:  # every reference resolves; uvicorn opens the port next
        on_listening(port)
    os.environ[_ENV] = json.dumps(
        {
            "settings": dataclasses.asdict(settings),
            "refs": list(refs),
            "options": dataclasses.asdict(options),
        }
    )
    config = _config(f"{__name__}:app_from_env", options, port, factory=True, workers=workers)
    # What uvicorn.run does for several workers, with this config: one socket they share.
    Multiprocess(config, sockets=[config.bind_socket()]).run()


def app_from_env() -> Any:
    """The application of one worker process, from what ``serve`` left in the environment."""
    config = json.loads(os.environ[_ENV])
    tune_process()  # a worker is a new process (spawned), tuned anew
    ws = open_workspace(Settings(**config["settings"]), create=False)
    app = create_app(ModelServer(ws, config["refs"], ServeOptions(**config["options"])))
    freeze_loaded()
    return app


@contextmanager
def serving(
    ws: Workspace, refs: Sequence[str], options: ServeOptions, *, host: str = "127.0.0.1"
) -> Iterator[tuple[str, ModelServer]]:
    """A server on a free port of ``host`` in a background thread; yields its base URL.
    Leaving the block shuts it down as SIGTERM would (queued work and the log finished)."""
    options = dataclasses.replace(options, host=host)
    server = ModelServer(ws, refs, options)
    with in_thread(_config(create_app(server), options, 0), "model server") as port:
        yield f"http://{host}:{port}", server
