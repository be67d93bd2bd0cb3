"""Checking a version over a window of its prediction log: stored windows, alerts."""

from __future__ import annotations

import time

import pytest

import assay
from assay.errors import DataError
from assay.monitoring.check import Window, check_drift
from assay.workspace import Workspace
from tests.monitoring.phrasebank import held_back, log_traffic, phrasebank, social_posts


@pytest.fixture
def pb(workspace: Workspace) -> Workspace:
    assay.run(phrasebank, workspace=workspace)
    return workspace


def test_held_back_sentences_raise_no_alert(pb: Workspace) -> None:
    log_traffic(pb, held_back(400))
    checked = check_drift(pb, "pb@1", Window())
    assert checked.window.status == "ok" and checked.alert is None
    assert checked.window.rows == 400 and checked.window.report["drifted"] == []
    assert [w.status for w in pb.metadata.windows("pb")] == ["ok"]


def test_posts_of_another_kind_raise_one_alert_that_repeats_count_on(pb: Workspace) -> None:
    log_traffic(pb, social_posts(300))
    first = check_drift(pb, "pb@1", Window())
    assert first.window.status == "drift" and first.new and first.alert is not None
    assert "texts" in first.alert.details["drifted"]
    assert first.alert.summary.startswith("pb@1: input or prediction drift in ")
    again = check_drift(pb, "pb@1", Window())
    assert not again.new and again.alert is not None and again.alert.id == first.alert.id
    assert again.alert.count == 2
    raised = [e for e in pb.metadata.audit_events() if e.action == "alert.raised"]
    assert len(raised) == 1 and raised[0].subject == "model:pb@1"


def test_a_small_window_is_stored_as_such_and_never_alerts(pb: Workspace) -> None:
    log_traffic(pb, held_back(400))
    log_traffic(pb, social_posts(30), per_request=1, at=time.time() + 60)  # the newest 30
    checked = check_drift(pb, "pb@1", Window(last=30))
    assert checked.window.status == "too few rows" and checked.alert is None
    assert checked.window.rows == 30


def test_a_version_without_reference_data_says_how_to_add_it(workspace: Workspace) -> None:
    assay.run(phrasebank, {"with_reference": False}, workspace=workspace)
    with pytest.raises(DataError, match="pb@1 has no reference data") as caught:
        check_drift(workspace, "pb@1", Window())
    assert "reference_sample" in (caught.value.hint or "")
