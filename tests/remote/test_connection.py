"""A connection to a team server: refusals raised as the error the store would raise, a
server that cannot be reached named with what to check, the credential `assay login`
kept found (and an expired one refused), metrics that are not numbers carried spelled out."""

from __future__ import annotations

import dataclasses
import math
import socket
import stat
import time
from pathlib import Path

import pytest

from assay import Settings
from assay.errors import AuthenticationError, ConfigError, RecordNotFoundError, UnreachableError
from assay.metadata import MetricRecord
from assay.remote import Connection, Credential, HttpRuns, connect, number, save, spelled
from assay.server.api.app import TeamOptions
from assay.server.api.http import team_serving
from tests.metadata.repositories import new_run
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


def test_a_run_that_ends_while_the_server_is_away_is_recorded_when_it_is_back(
    team: Team, tmp_path: Path
) -> None:
    port = _closed_port()
    url = f"http://127.0.0.1:{port}"
    spool = tmp_path / "unsent"
    away = Connection(url, team.tokens["carol"])
    runs = HttpRuns(away, spool=spool)
    run = new_run("carol")
    runs.insert_run(run)
    values = [MetricRecord(run.id, "loss", math.nan, time.time(), None, 1)]
    with pytest.raises(UnreachableError, match=f"kept in {spool}"):
        runs.finish_run(run.id, "failed", error="the server went away", metrics=values)
    away.close()
    assert [p.name for p in spool.iterdir()] == [f"{run.id}.json"]
    assert stat.S_IMODE((spool / f"{run.id}.json").stat().st_mode) == 0o600
    (spool / ("0" * 32 + ".json")).write_text('{"url": "' + url + '", "id": 3')  # cut short
    with team_serving(team.ws, TeamOptions(auth="token"), port=port) as (back, _):
        assert back == url
        connection = Connection(url, team.tokens["carol"])
        assert HttpRuns(connection, spool=spool).deliver() == 1  # the cut one set aside
        connection.close()
    found = team.ws.metadata.get_run(run.id)
    assert (found.user, found.status, found.error) == ("carol", "failed", "the server went away")
    (loss,) = team.ws.metadata.metrics(run.id)
    assert math.isnan(loss.value)
    assert [p.name for p in spool.iterdir()] == ["0" * 32 + ".refused"]
