"""The retraining chain: an alert (or a schedule, or new data) starts the pipeline again;
its version goes through the gates, to staging by itself, and waits for approval before
production; every link is recorded and audited."""

from __future__ import annotations

import csv
import functools
import io
import threading
import time
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from assay import Settings
from assay.core import sha256_hex
from assay.errors import ConfigError, PolicyError
from assay.lineage import upstream
from assay.metadata import LabelRecord, RetrainRecord
from assay.monitoring.loop import MonitorLoop
from assay.monitoring.policy import MonitorPolicy, load_monitor_policy
from assay.monitoring.retrain import due_cause
from assay.registry import resolve
from assay.runner.api import launch
from assay.store import ArtifactStore, BlobStorage, MemoryBlobStorage, folder_digest
from assay.workspace import Workspace, open_workspace
from tests.monitoring.phrasebank import held_back, log_traffic, social_posts
from tests.monitoring.retrainable import POLICY, in_production

PIPELINE = "tests.monitoring.retrainable:retrainable"


def policy(gates: Path, **retrain: object) -> MonitorPolicy:
    return MonitorPolicy.model_validate(
        {
            "model": "pb@production",
            "every": "1s",
            "window": "1h",
            "retrain": {
                "pipeline": PIPELINE,
                "params": {"policy": str(gates)},
                "feedback": "feedback",
                **retrain,
            },
        }
    )


def label_all(ws: Workspace, records: list, label: str) -> None:
    ws.metadata.add_labels(
        [LabelRecord(r.request_id, i, label, r.at, "carol") for r in records
         for i in range(len(r.inputs))]
    )  # fmt: skip


@pytest.fixture
def store(workspace: Workspace, settings: Settings, tmp_path: Path) -> tuple[Workspace, Path]:
    """pb@1 in production (trained by alice, approved by bob); returns the gate policy."""
    return workspace, in_production(workspace, settings, tmp_path)


def test_an_alert_retrains_and_the_candidate_waits_for_approval(
    store: tuple[Workspace, Path], tmp_path: Path
) -> None:
    ws, gates = store
    posts = log_traffic(ws, social_posts(300), per_request=3)
    label_all(ws, posts, "positive")  # the log answered "neutral" to every post
    loop = MonitorLoop(ws, policy(gates), base=tmp_path, launcher=functools.partial(launch, ws))
    done = loop.round()

    assert done.watched == "pb@1" and done.problems == []
    assert [(c.window.kind, c.window.status, c.new) for c in done.checked] == [
        ("drift", "drift", True),
        ("performance", "drop", True),
    ]
    retrained = done.retrain
    assert retrained is not None and retrained.status == "registered"
    assert retrained.cause == "alert" and retrained.version == 2
    alert_ids = sorted(c.alert.id for c in done.checked if c.alert)
    assert retrained.detail["alerts"] == alert_ids
    assert retrained.outcome["gates"] == "passed" and retrained.outcome["staging"] == 2
    assert retrained.outcome["feedback_rows"] == 300
    # The candidate learnt from the labelled posts and is at staging; production waits.
    assert ws.metadata.alias_version("pb", "staging") == 2
    assert ws.metadata.alias_version("pb", "production") == 1
    (request,) = ws.metadata.requests("pb", 2, status="open")
    assert request.alias == "production" and request.id == retrained.outcome["request"]
    assert ws.metadata.retrain_of("pb", 2) == retrained
    run = ws.metadata.get_run(retrained.run_id or "")
    assert run.tags["retrain"] == str(retrained.id) and run.experiment == "retraining"

    chain = [
        e.action
        for e in ws.metadata.audit_events()
        if e.action in {"alert.raised", "retrain.started", "model.registered",
                        "gate.verdict", "alias.moved", "promotion.requested",
                        "retrain.finished"}
    ]  # fmt: skip
    assert chain[chain.index("alert.raised"):] == [
        "alert.raised", "alert.raised", "retrain.started", "model.registered", "gate.verdict",
        "alias.moved", "promotion.requested", "retrain.finished",
    ]  # fmt: skip

    # Nothing new: the next round checks nothing and starts no second retraining.
    again = loop.round()
    assert again.checked == [] and again.skipped == ["drift", "performance"]
    assert again.retrain is None and len(ws.metadata.retrains("pb")) == 1


def test_same_source_traffic_raises_nothing_and_retrains_nothing(
    store: tuple[Workspace, Path], tmp_path: Path
) -> None:
    ws, gates = store
    log_traffic(ws, held_back(300), per_request=3)
    done = MonitorLoop(ws, policy(gates), base=tmp_path, launcher=_never).round()
    assert [(c.window.kind, c.window.status) for c in done.checked] == [
        ("drift", "ok"),
        ("performance", "too few rows"),
    ]
    assert done.retrain is None and ws.metadata.alerts("pb") == []


def _never(*_: object, **__: object) -> str:
    raise AssertionError("no retraining was due")


def files_under(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def run_inputs(ws: Workspace, run_id: str | None) -> set[tuple[str, str, str]]:
    """(step, input name, digest) of every artifact the run's steps read."""
    steps = {e.id: e.step for e in ws.metadata.executions(run_id or "")}
    return {
        (steps[ev.execution_id], ev.name, ev.digest)
        for ev in ws.metadata.events_of(list(steps))
        if ev.direction == "input"
    }


def policy_folder(tmp_path: Path) -> Path:
    """A folder holding only the monitoring policy: what a checkout next to the code is."""
    base = tmp_path / "project"
    base.mkdir()
    (base / "monitor.yaml").write_text("model: pb@production\n")
    return base


def test_feedback_is_an_artifact_of_the_store_and_an_input_of_the_run(
    store: tuple[Workspace, Path], settings: Settings, tmp_path: Path
) -> None:
    ws, gates = store
    label_all(ws, log_traffic(ws, social_posts(300), per_request=3), "positive")
    base = policy_folder(tmp_path)
    before = files_under(base)
    loop = MonitorLoop(ws, policy(gates), base=base, launcher=functools.partial(launch, ws))
    retrained = loop.round().retrain

    assert files_under(base) == before  # nothing written next to the policy or the code
    assert retrained is not None and retrained.status == "registered"
    digest = retrained.outcome["feedback"]
    rows = list(csv.reader(io.StringIO(ws.artifacts.get_bytes(digest).decode())))
    assert rows[0] == ["text", "label"] and len(rows) == 301
    assert retrained.outcome["feedback_rows"] == 300 and {r[1] for r in rows[1:]} == {"positive"}
    # The run read those very bytes, from inside the store: its lineage names them.
    assert ("add_feedback", "feedback", digest) in run_inputs(ws, retrained.run_id)
    run = ws.metadata.get_run(retrained.run_id or "")
    assert Path(run.params["feedback"]).is_relative_to(settings.artifact_root)
    assert ws.metadata.get_artifact(digest).size == len(ws.artifacts.get_bytes(digest))
    assert f"artifact:{digest}" in upstream(ws, "pb@2").nodes


def test_feedback_on_an_object_store_is_read_from_a_copy_removed_after_the_run(
    tmp_path: Path,
) -> None:
    local = Settings.for_project(tmp_path, user="alice")
    settings = replace(local, artifact_root=f"memory://assay-{uuid.uuid4().hex}")
    ws = open_workspace(settings)
    gates = in_production(ws, settings, tmp_path)
    label_all(ws, log_traffic(ws, social_posts(300), per_request=3), "positive")
    base = policy_folder(tmp_path)
    before = files_under(base)
    seen: list[tuple[Path, bytes]] = []

    def launcher(target: str, params: dict[str, Any], **how: Any) -> str:
        path = Path(params["feedback"])
        seen.append((path, path.read_bytes()))
        return launch(ws, target, params, **how)

    retrained = MonitorLoop(ws, policy(gates), base=base, launcher=launcher).round().retrain
    ws.close()

    assert retrained is not None and retrained.status == "registered", retrained
    ((path, data),) = seen
    assert not path.exists() and not path.parent.exists()  # live texts do not linger
    assert not path.is_relative_to(base) and files_under(base) == before
    assert not (tmp_path / ".assay" / "artifacts").exists()
    digest = retrained.outcome["feedback"]
    assert sha256_hex(data) == digest and ws.artifacts.get_bytes(digest) == data
    assert ("add_feedback", "feedback", digest) in run_inputs(ws, retrained.run_id)


class _FullDisk(MemoryBlobStorage):
    """Reads what ``blobs`` holds; every write fails as a full disk does."""

    def __init__(self, blobs: BlobStorage) -> None:
        super().__init__()
        self.read = blobs.read  # type: ignore[method-assign]
        self.exists = blobs.exists  # type: ignore[method-assign]

    def write(self, key: str, data: bytes) -> None:
        raise OSError(28, "No space left on device")


def test_feedback_that_cannot_be_stored_fails_the_retraining_not_the_monitor(
    store: tuple[Workspace, Path], tmp_path: Path
) -> None:
    ws, gates = store
    label_all(ws, log_traffic(ws, social_posts(300), per_request=3), "positive")
    full = replace(ws, artifacts=ArtifactStore(_FullDisk(ws.artifacts.blobs)))
    done = MonitorLoop(full, policy(gates), base=tmp_path, launcher=_never).round()
    assert done.retrain is not None and done.retrain.status == "failed"
    assert "cannot store the feedback" in (done.retrain.error or "")
    assert "No space left" in (done.retrain.error or "")


def test_a_failing_retraining_is_recorded_and_the_monitor_goes_on(
    store: tuple[Workspace, Path], tmp_path: Path
) -> None:
    ws, gates = store
    log_traffic(ws, social_posts(300), per_request=3)
    broken = policy(gates, params={"policy": str(tmp_path / "missing.yaml")})
    done = MonitorLoop(ws, broken, base=tmp_path, launcher=functools.partial(launch, ws)).round()
    assert done.retrain is not None and done.retrain.status == "failed"
    assert "missing.yaml" in (done.retrain.error or "") and done.retrain.run_id
    assert ws.metadata.get_run(done.retrain.run_id).status == "failed"
    assert [e.action for e in ws.metadata.audit_events()][-1] == "retrain.finished"
    # The alert started no version: after the cooldown it starts another try.
    later = time.time() + 2 * 3600
    retry = MonitorLoop(
        ws, broken, base=tmp_path, launcher=functools.partial(launch, ws), clock=lambda: later
    ).round()
    assert retry.retrain is not None and retry.retrain.id == done.retrain.id + 1
    assert retry.retrain.detail["alerts"] == done.retrain.detail["alerts"]


def test_a_retraining_left_running_is_reaped_when_a_monitor_starts(
    store: tuple[Workspace, Path], tmp_path: Path
) -> None:
    ws, gates = store
    cut = ws.metadata.start_retrain(
        RetrainRecord(model="pb", cause="schedule", detail={}, user="alice")
    )
    assert MonitorLoop(ws, policy(gates), base=tmp_path).reaped == 1
    (record,) = ws.metadata.retrains("pb")
    assert record.id == cut.id and record.status == "interrupted"
    assert "stopped before" in (record.error or "")


def test_an_unset_webhook_secret_is_refused(store: tuple[Workspace, Path], tmp_path: Path) -> None:
    ws, _ = store
    spec = MonitorPolicy.model_validate(
        {"model": "pb@production",
         "webhook": {"url": "http://127.0.0.1:9/a", "secret_env": "HOOK_KEY"}}
    )  # fmt: skip
    with pytest.raises(ConfigError, match="HOOK_KEY, which is not set"):
        MonitorLoop(ws, spec, base=tmp_path, env={})
    assert MonitorLoop(ws, spec, base=tmp_path, env={"HOOK_KEY": "k"}).hook is not None


def test_an_unchanged_model_is_recorded_as_unchanged(
    store: tuple[Workspace, Path], tmp_path: Path
) -> None:
    ws, gates = store
    log_traffic(ws, social_posts(300), per_request=3)
    no_feedback = policy(gates, feedback=None)
    done = MonitorLoop(ws, no_feedback, base=tmp_path, launcher=functools.partial(launch, ws))
    retrained = done.round().retrain
    assert retrained is not None and retrained.status == "unchanged" and retrained.version is None
    assert ws.metadata.alias_version("pb", "staging") is None


def test_production_moves_by_itself_only_where_the_model_policy_allows_it(
    workspace: Workspace, settings: Settings, tmp_path: Path
) -> None:
    gates = in_production(workspace, settings, tmp_path, POLICY + "  automatic: [production]\n")
    posts = log_traffic(workspace, social_posts(300), per_request=3)
    label_all(workspace, posts, "positive")
    auto = policy(gates, production="auto")
    done = MonitorLoop(
        workspace, auto, base=tmp_path, launcher=functools.partial(launch, workspace)
    )
    retrained = done.round().retrain
    assert retrained is not None and retrained.outcome.get("production") == 2
    assert workspace.metadata.alias_version("pb", "production") == 2
    moves = workspace.metadata.alias_moves("pb", "production")
    assert moves[-1].reason.startswith("automatic: retraining 1:") and moves[-1].request_id is None


def test_production_auto_without_the_model_policy_opt_in_is_refused(
    store: tuple[Workspace, Path], tmp_path: Path
) -> None:
    ws, gates = store
    posts = log_traffic(ws, social_posts(300), per_request=3)
    label_all(ws, posts, "positive")
    auto = policy(gates, production="auto")
    done = MonitorLoop(ws, auto, base=tmp_path, launcher=functools.partial(launch, ws)).round()
    assert done.retrain is not None
    assert "without approval" in done.retrain.outcome["refused"]
    assert ws.metadata.alias_version("pb", "production") == 1


def test_schedule_new_data_and_cooldown(store: tuple[Workspace, Path], tmp_path: Path) -> None:
    ws, gates = store
    watched = resolve(ws, "pb@production")
    incoming = tmp_path / "incoming"
    spec = policy(gates, schedule="7d", new_data={"folder": "incoming", "param": "extra"})
    assert spec.retrain is not None
    now = watched.created_at + 60
    assert due_cause(ws, spec.retrain, watched, base=tmp_path, now=now) is None
    incoming.mkdir()
    (incoming / ".hidden").write_text("x")
    (incoming / ".git" / "objects").mkdir(parents=True)
    (incoming / ".git" / "objects" / "blob").write_text("x")
    assert folder_digest(incoming) is None  # hidden files and folders are not data
    (incoming / "a.csv").write_text("text,label\nup,positive\n")
    cause = due_cause(ws, spec.retrain, watched, base=tmp_path, now=now)
    assert cause is not None and cause.kind == "data" and cause.detail["files"] == 1
    started = ws.metadata.start_retrain(
        RetrainRecord(model="pb", cause="data", detail=cause.detail, user="alice")
    )
    later = started.started_at + 3 * 3600
    # While one runs, no other starts, whatever is due.
    assert due_cause(ws, spec.retrain, watched, base=tmp_path, now=later + 7 * 86400) is None
    ws.metadata.finish_retrain(started.id, status="unchanged")
    # Within the cooldown nothing is due; after it the same files are not new.
    assert due_cause(ws, spec.retrain, watched, base=tmp_path, now=started.started_at + 60) is None
    assert due_cause(ws, spec.retrain, watched, base=tmp_path, now=later) is None
    (incoming / "a.csv").write_text("text,label\ndown,negative\n")
    changed = due_cause(ws, spec.retrain, watched, base=tmp_path, now=later)
    assert changed is not None and changed.kind == "data"
    (incoming / "a.csv").write_text("text,label\nup,positive\n")  # back to what was seen
    week = started.started_at + 7 * 86400
    scheduled = due_cause(ws, spec.retrain, watched, base=tmp_path, now=week)
    assert scheduled is not None and scheduled.kind == "schedule"
    (incoming / "sub").mkdir()
    (incoming / "sub" / "b.csv").write_text("text,label\n")
    nested = folder_digest(incoming)
    assert nested is not None and nested[1] == 2


def test_a_count_window_waits_for_that_many_new_requests(
    store: tuple[Workspace, Path], tmp_path: Path
) -> None:
    ws, _ = store
    spec = MonitorPolicy.model_validate(
        {"model": "pb@production", "window": 200, "checks": ["drift"]}
    )
    loop = MonitorLoop(ws, spec, base=tmp_path)
    log_traffic(ws, held_back(200), per_request=1)
    first = loop.round()
    assert [c.window.rows for c in first.checked] == [200]
    log_traffic(ws, held_back(150), per_request=1)
    assert loop.round().skipped == ["drift"]  # 150 new of the 200 a window needs
    log_traffic(ws, held_back(50), per_request=1)
    assert [c.window.rows for c in loop.round().checked] == [200]


def test_problems_are_reported_not_raised(workspace: Workspace, tmp_path: Path) -> None:
    spec = MonitorPolicy.model_validate({"model": "nobody@production"})
    done = MonitorLoop(workspace, spec, base=tmp_path).round()
    assert done.checked == [] and "nobody" in done.problems[0]


def test_run_stops_when_told(store: tuple[Workspace, Path], tmp_path: Path) -> None:
    ws, _ = store
    spec = MonitorPolicy.model_validate({"model": "pb@production", "every": "1h"})
    stop = threading.Event()
    seen: list[str] = []

    def on_round(done: object) -> None:
        seen.append("round")
        stop.set()  # as SIGTERM does: the loop ends after this round, not after an hour

    assert MonitorLoop(ws, spec, base=tmp_path).run(stop, on_round=on_round) == 1
    assert seen == ["round"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("model: m\nwindow: 0\n", "field window"),
        ("model: m\nevery: soon\n", "field every"),
        ("model: m\nretrain: {pipeline: p, cooldown: 3x}\n", "field retrain.cooldown"),
        ("model: m\nretrain: {pipeline: p, alerts: [rain]}\n", "field retrain.alerts.0"),
        ("model: m\nwebhooks: {}\n", "field webhooks"),
        ("[1, 2", "is not valid YAML"),
    ],
)
def test_a_bad_policy_names_its_field(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "monitor.yaml"
    path.write_text(text)
    with pytest.raises(PolicyError, match=problem):
        load_monitor_policy(path)
    with pytest.raises(PolicyError, match="cannot read the monitoring policy"):
        load_monitor_policy(tmp_path / "none.yaml")


def test_a_retraining_stopped_at_once_is_recorded_as_interrupted(
    store: tuple[Workspace, Path], tmp_path: Path
) -> None:
    ws, gates = store
    log_traffic(ws, social_posts(300), per_request=3)

    def stopped(*_: object, **__: object) -> str:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        MonitorLoop(ws, policy(gates), base=tmp_path, launcher=stopped).round()
    (record,) = ws.metadata.retrains("pb")
    assert record.status == "interrupted" and record.finished_at is not None
