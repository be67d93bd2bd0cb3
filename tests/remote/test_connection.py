"""A connection to a team server: refusals raised as the error the store would raise, a
server that cannot be reached named with what to check, the credential `assay login`
kept found (and an expired one refused), metrics that are not numbers carried spelled out."""

from __future__ import annotations

import dataclasses
import math
import socket
import time
from pathlib import Path

import pytest

from assay import Settings
from assay.errors import AuthenticationError, ConfigError, RecordNotFoundError
from assay.remote import Connection, Credential, connect, number, save, spelled
from tests.server.api.conftest import Team


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed when the block ends: nothing listens


def test_a_server_that_cannot_be_reached_is_named_with_what_to_check() -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    connection = Connection(url, None, timeout=5)
    with pytest.raises(ConfigError, match=url) as caught:
        connection.call("GET", "/health")
    assert "ASSAY_SERVER_URL" in (caught.value.hint or "")


def test_a_refusal_is_the_error_class_the_server_names(team: Team) -> None:
    connection = Connection(team.url, team.tokens["dave"])
    with pytest.raises(RecordNotFoundError, match="no run with id"):
        connection.call("GET", "/runs/0123456789abcdef")
    with pytest.raises(AuthenticationError):
        Connection(team.url, "assay_bad_bad").call("GET", "/runs")


def test_the_kept_credential_is_used_and_an_expired_one_refused(team: Team, tmp_path: Path) -> None:
    settings = Settings.for_project(tmp_path / "laptop").with_server(team.url)
    settings = dataclasses.replace(settings, config_home=str(tmp_path / "config"))
    save(settings.config_home, Credential(team.url, team.tokens["carol"], "carol"))
    assert connect(settings).call("GET", "/whoami")["user"] == "carol"
    save(settings.config_home, Credential(team.url, team.tokens["carol"], "carol", time.time()))
    with pytest.raises(AuthenticationError, match="expired"):
        connect(settings)
    token = dataclasses.replace(settings, server_token=team.tokens["bob"])
    assert connect(token).call("GET", "/whoami")["user"] == "bob"  # ASSAY_TOKEN first


@pytest.mark.parametrize("value", [0.5, -3.0, math.inf, -math.inf])
def test_metric_values_cross_as_strict_json_and_come_back(value: float) -> None:
    assert number(spelled(value)) == value
    assert math.isnan(number(spelled(math.nan)))
    assert number("NaN") != number("NaN")  # a float NaN, not the string
