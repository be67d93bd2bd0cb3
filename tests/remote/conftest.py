"""The team server the remote tests talk to: the API tests' team (see its conftest)."""

from tests.server.api.conftest import team

__all__ = ["team"]
