"""Replaying a CSV through a real model server on 127.0.0.1: every row reaches the
prediction log, the true labels are stored against the answered requests, and mistakes
(no server, another model or version, unreadable files) are clear errors."""

from __future__ import annotations

import csv
import socket
from pathlib import Path

import pytest

import assay
from assay.errors import ConfigError, DataError
from assay.governance import promote
from assay.monitoring.replay import Traffic, alias_version, read_traffic, replay
from assay.server.model.http import serving
from assay.serving.server import ServeOptions
from assay.workspace import Workspace
from tests.monitoring.phrasebank import LABELS, held_back, held_back_labels, phrasebank
from tests.textmodel import tiny

TOKEN = "a-labels-token-for-replays"


@pytest.fixture
def tiny_ws(workspace: Workspace) -> Workspace:
    """`tiny` versions 1 and 2 (2 flipped), alias `live` on version 1."""
    assay.run(tiny, workspace=workspace)
    assay.run(tiny, {"flip": True}, workspace=workspace)
    promote(workspace, "tiny@1", "live")
    return workspace


def _csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_replayed_phrasebank_traffic_is_logged_and_labelled(
    workspace: Workspace, tmp_path: Path
) -> None:
    assay.run(phrasebank, workspace=workspace)
    texts, truth = held_back(50), held_back_labels(50)
    truth[7] = ""  # a row without a label is sent but not labelled
    path = _csv(
        tmp_path / "traffic.csv",
        [{"sentence": t, "label": y} for t, y in zip(texts, truth, strict=True)],
    )
    seen: list[tuple[int, int]] = []
    with serving(workspace, ["pb@1"], ServeOptions(accept_labels=True, labels_token=TOKEN)) as (
        url,
        _,
    ):
        done = replay(
            url,
            "pb@1",
            read_traffic(path, "sentence", "label"),
            batch=4,
            concurrency=3,
            progress=lambda rows, total: seen.append((rows, total)),
            labels_token=TOKEN,
        )
    assert (done.requests, done.rows, done.failed_requests, done.failed_rows) == (13, 50, 0, 0)
    assert done.model == "pb" and done.version == "1" and not done.warnings
    assert sum(done.predicted.values()) == 50 and set(done.predicted) <= set(LABELS)
    assert list(done.predicted.values()) == sorted(done.predicted.values(), reverse=True)
    assert seen[-1] == (50, 50) and len(seen) == 13
    assert done.labels is not None
    assert (done.labels.posted, done.labels.stored, done.labels.skipped) == (49, 49, 1)
    assert (done.labels.unknown, done.labels.failed) == (0, 0)

    logged = [p for p in workspace.metadata.predictions("pb") if p.request_id.startswith("replay-")]
    assert len(logged) == 13 and sum(len(p.inputs) for p in logged) == 50
    stored = workspace.metadata.labels_for([p.request_id for p in logged])
    assert len(stored) == 49
    for p in logged:  # request n holds texts 4n to 4n+3; each label sits on its text's row
        start = 4 * int(p.request_id.rsplit("-", 1)[1])
        assert p.inputs == texts[start : start + 4]
        for row in range(len(p.inputs)):
            assert stored.get((p.request_id, row)) == (truth[start + row] or None)


def test_v2_protocol_and_an_alias_that_moved_are_reported(
    tiny_ws: Workspace, tmp_path: Path
) -> None:
    path = _csv(tmp_path / "t.csv", [{"text": "profit rose strongly"}, {"text": "loss widened"}])
    with serving(
        tiny_ws, ["tiny@live"], ServeOptions(poll_s=600, accept_labels=True, labels_token=TOKEN)
    ) as (url, _):
        promote(tiny_ws, "tiny@2", "live")  # the store says 2; the server has not looked yet
        done = replay(
            url,
            "tiny@live",
            read_traffic(path, "text"),
            protocol="v2",
            expected_alias_version=alias_version(tiny_ws, "tiny@live"),
        )
    assert done.predicted == {"up": 1, "down": 1} and done.labels is None
    assert done.warnings == [
        "tiny@live is version 2 in this store, but the server serves version 1; "
        "the traffic is logged for version 1"
    ]
    assert {p.protocol for p in tiny_ws.metadata.predictions("tiny")} == {"v2"}


def test_refused_requests_are_counted_and_their_labels_not_posted(
    tiny_ws: Workspace, tmp_path: Path
) -> None:
    rows = [{"text": "profit rose", "y": "up"}, {"text": "x" * 3000, "y": "down"}]
    traffic = read_traffic(_csv(tmp_path / "t.csv", rows), "text", "y")
    with serving(
        tiny_ws,
        ["tiny@1"],
        ServeOptions(max_body_bytes=1000, accept_labels=True, labels_token=TOKEN),
    ) as (
        url,
        _,
    ):
        done = replay(url, "tiny", traffic, labels_token=TOKEN)
    assert (done.requests, done.failed_requests, done.failed_rows) == (2, 1, 1)
    assert len(done.errors) == 1 and done.errors[0].startswith("413: ")
    assert done.labels is not None
    assert (done.labels.posted, done.labels.stored, done.labels.skipped) == (1, 1, 1)


def test_a_server_that_does_not_answer_or_serve_the_model_is_a_config_error(
    tiny_ws: Workspace,
) -> None:
    traffic = Traffic(["profit rose"])
    url = f"http://127.0.0.1:{_closed_port()}"
    with pytest.raises(ConfigError, match=f"no model server answers at {url}") as caught:
        replay(url, "tiny@1", traffic, timeout_s=5, labels_token=TOKEN)
    assert "assay serve tiny@1" in str(caught.value.hint)
    with serving(tiny_ws, ["tiny@live"], ServeOptions(accept_labels=True, labels_token=TOKEN)) as (
        url,
        _,
    ):
        with pytest.raises(ConfigError, match=r"does not serve model 'nope' \(it serves: tiny\)"):
            replay(url, "nope@1", traffic)
        with pytest.raises(ConfigError, match="serves tiny@1, not tiny@2"):
            replay(url, "tiny@2", traffic)
        with pytest.raises(ConfigError, match="--batch and --concurrency"):
            replay(url, "tiny", traffic, batch=0)
        with pytest.raises(ConfigError, match="unknown --protocol 'v3'"):
            replay(url, "tiny", traffic, protocol="v3")
        with pytest.raises(ConfigError, match="--url 'localhost:8080' is not an HTTP address"):
            replay("localhost:8080", "tiny", traffic)
    assert tiny_ws.metadata.predictions("tiny") == []


def test_unreadable_traffic_files_are_data_errors(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="no such file"):
        read_traffic(tmp_path / "missing.csv", "text")
    good = _csv(tmp_path / "good.csv", [{"text": "a", "label": "up"}, {"text": "b", "label": ""}])
    with pytest.raises(DataError, match="has no column 'sentence'") as caught:
        read_traffic(good, "sentence")
    assert caught.value.hint == "its columns: text, label"
    with pytest.raises(DataError, match=r"has no column 'truth' \(--labels\)"):
        read_traffic(good, "text", "truth")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(
        "text\nOperating profit rose to EUR 13.1 mn from EUR 8.7 mn £\n".encode("latin-1")
    )
    with pytest.raises(DataError, match="is not UTF-8 text") as caught:
        read_traffic(latin, "text")
    assert "iconv" in str(caught.value.hint)
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(DataError, match="is empty"):
        read_traffic(tmp_path / "empty.csv", "text")
    (tmp_path / "header.csv").write_text("text\n")
    with pytest.raises(DataError, match="holds no rows"):
        read_traffic(tmp_path / "header.csv", "text")
    with pytest.raises(ConfigError, match="--limit must be at least 1"):
        read_traffic(good, "text", limit=0)
    assert read_traffic(good, "text", "label") == Traffic(["a", "b"], ["up", ""])
    assert read_traffic(good, "text", limit=1) == Traffic(["a"])
