"""Running an ASGI application under uvicorn until it is asked to stop."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from assay.errors import ConfigError

__all__ = ["GracefulServer", "in_thread"]


class GracefulServer(uvicorn.Server):
    """uvicorn's server that says which port it listens on (``on_listening``), and for
    which a stop that was asked for (SIGTERM, Ctrl-C) is a graceful shutdown exiting 0
    instead of uvicorn's re-raising the signal afterwards; a second one forces it."""

    def __init__(
        self, config: uvicorn.Config, on_listening: Callable[[int], None] | None = None
    ) -> None:
        super().__init__(config)
        self._on_listening = on_listening

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started and self._on_listening is not None:
            self._on_listening(self.servers[0].sockets[0].getsockname()[1])

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit:
            self.force_exit = True
        self.should_exit = True


@contextmanager
def in_thread(config: uvicorn.Config, what: str) -> Iterator[int]:
    """``config``'s server in a background thread, started; yields the port it listens on.
    Leaving the block shuts it down as SIGTERM would (requests in flight finished).

    Raises:
        ConfigError: it did not start within 30 seconds (``what`` names it).
    """
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"assay-{what}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigError(f"the {what} did not start")
        time.sleep(0.01)
    try:
        yield int(server.servers[0].sockets[0].getsockname()[1])
    finally:
        server.should_exit = True
        thread.join(timeout=60)
