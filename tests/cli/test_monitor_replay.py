"""`assay monitor replay` against a model server running in this process on the project's
store: the rows reach the prediction log, labels are stored, and mistakes are one line."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import assay
from assay import Settings
from assay.server.model.http import serving
from assay.serving.server import ModelServer, ServeOptions
from assay.workspace import Workspace, open_workspace
from tests.cli.conftest import Invoke
from tests.cli.test_bad_input import assert_clean_error
from tests.cli.test_serve import free_port, serve_process
from tests.textmodel import tiny

TOKEN = "a-labels-token-for-replays"
ROWS = [
    ("profit rose strongly", "up"),
    ("loss widened sharply", "down"),
    ("profit rose strongly again", "up"),
    ("loss widened", ""),
    ("strong profit", "down"),
]


@pytest.fixture
def store(project: Path) -> Iterator[Workspace]:
    """The project's store, the one the CLI opens, with `tiny@1` registered."""
    ws = open_workspace(Settings.for_project(project, user="alice"))
    assay.run(tiny, workspace=ws)
    yield ws
    ws.close()


@pytest.fixture
def server(store: Workspace, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, ModelServer]]:
    """A server of `tiny@1` on the project's store, in a background thread, taking labels
    with the token `assay monitor replay` finds in ASSAY_LABELS_TOKEN."""
    monkeypatch.setenv("ASSAY_LABELS_TOKEN", TOKEN)
    options = ServeOptions(accept_labels=True, labels_token=TOKEN)
    with serving(store, ["tiny@1"], options) as served:
        yield served


@pytest.fixture
def url(server: tuple[str, ModelServer]) -> str:
    return server[0]


@pytest.fixture
def traffic(project: Path) -> Path:
    path = project / "traffic.csv"
    path.write_text("text,label\n" + "".join(f"{t},{y}\n" for t, y in ROWS), encoding="utf-8")
    return path


def test_replay_prints_counts_labels_and_predictions(
    cli: Invoke, store: Workspace, url: str, traffic: Path
) -> None:
    args = ["--input", str(traffic), "--column", "text", "--labels", "label", "--url", url]
    result = cli("monitor", "replay", "tiny@1", *args, "--batch", "2")
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].startswith(f"3 requests (5 rows) sent to tiny@1 at {url} in ")
    assert lines[0].endswith(": 0 failed (0 rows)")
    assert lines[1] == (
        "labels: 4 stored (0 replaced earlier ones), 0 not in the prediction log, 0 failed, "
        "1 not posted (no label, or the request failed)"
    )
    table = {c[0]: c[1:] for line in lines if len(c := [x.strip() for x in line.split("│")]) == 3}
    assert table["up"] == ["3", "60.0%"] and table["down"] == ["2", "40.0%"]
    logged = store.metadata.predictions("tiny")
    assert len(logged) == 3 and sum(len(p.inputs) for p in logged) == 5
    labels = store.metadata.labels_for([p.request_id for p in logged])
    assert sorted(labels.values()) == ["down", "down", "up", "up"]


def test_replay_json_with_a_limit_and_v2(
    cli: Invoke, store: Workspace, server: tuple[str, ModelServer], traffic: Path
) -> None:
    url, running = server
    args = ["--input", str(traffic), "--column", "text", "--url", url, "--limit", "2"]
    result = cli("monitor", "replay", "tiny", *args, "--protocol", "v2", "--json")
    assert result.code == 0, result.err
    done = json.loads(result.out)
    assert (done["requests"], done["rows"], done["failed_requests"]) == (2, 2, 0)
    assert done["predicted"] == {"up": 1, "down": 1} and done["labels"] is None
    assert (done["model"], done["version"], done["protocol"]) == ("tiny", "1", "v2")
    assert running.log is not None and running.log.flush()  # no labels posted: none flushed it
    assert len(store.metadata.predictions("tiny")) == 2


def test_replay_mistakes_are_one_clear_line(
    cli: Invoke, store: Workspace, url: str, traffic: Path, project: Path
) -> None:
    def replay(ref: str, path: Path, *more: str) -> object:
        return cli("monitor", "replay", ref, "--input", str(path), "--column", "text", *more)

    assert_clean_error(replay("tiny@1", project / "nope.csv", "--url", url), 1, "no such file")
    assert_clean_error(
        cli("monitor", "replay", "tiny@1", "--input", str(traffic), "--column", "sentence"),
        1,
        "has no column 'sentence'",
        "its columns: text, label",
    )
    latin = project / "latin.csv"
    latin.write_bytes("text\nvoitto kasvoi 5 % £\n".encode("latin-1"))
    assert_clean_error(replay("tiny@1", latin, "--url", url), 1, "is not UTF-8 text")
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    assert_clean_error(
        replay("tiny@1", traffic, "--url", closed),
        2,
        f"no model server answers at {closed}",
        "start one with `assay serve tiny@1`",
    )
    assert_clean_error(
        replay("other@1", traffic, "--url", url), 2, "does not serve model 'other'", "tiny"
    )
    assert_clean_error(replay("tiny@7", traffic, "--url", url), 2, "serves tiny@1, not tiny@7")
    assert_clean_error(replay("tiny@1", traffic, "--url", url, "--batch", "0"), 2, "--batch")
    assert store.metadata.predictions("tiny") == []


def test_labels_are_found_whichever_worker_answered(
    cli: Invoke, store: Workspace, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = project / "many.csv"
    path.write_text("text,label\n" + "".join(f"profit rose {i},up\n" for i in range(60)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSAY_")}
    env.update({"ASSAY_HOME": str(project), "ASSAY_USER": "alice", "ASSAY_LABELS_TOKEN": TOKEN})
    monkeypatch.setenv("ASSAY_LABELS_TOKEN", TOKEN)
    with serve_process(["tiny@1", "--workers", "2", "--accept-labels"], env) as served:
        args = ["--input", str(path), "--column", "text", "--labels", "label", "--url", served.url]
        result = cli("monitor", "replay", "tiny@1", *args, "--concurrency", "4", "--json")
    proc, err = served.proc, served.err
    assert result.code == 0, result.err
    labels = json.loads(result.out)["labels"]
    # Each label is posted to one worker; the other may have answered its request.
    assert (labels["stored"], labels["unknown"], labels["failed"]) == (60, 0, 0)
    assert proc.returncode == 0 and "Traceback" not in err
    assert (
        len(store.metadata.labels_for([p.request_id for p in store.metadata.predictions("tiny")]))
        == 60
    )
