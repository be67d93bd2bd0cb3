"""`assay monitor report` on a store with a served text model's checked traffic."""

from __future__ import annotations

from pathlib import Path

import pytest

import assay
from assay import Settings
from assay.workspace import open_workspace
from tests.cli.conftest import Invoke
from tests.cli.test_bad_input import assert_clean_error
from tests.monitoring.phrasebank import log_traffic, phrasebank, social_posts


@pytest.fixture
def checked(project: Path, cli: Invoke) -> Path:
    """pb@1 in the project's store, 300 social-media posts in its log, and one drift check
    of them (drift, an alert); returns the project folder."""
    ws = open_workspace(Settings.for_project(project, user="alice"))
    assay.run(phrasebank, workspace=ws)
    log_traffic(ws, social_posts(300), per_request=1)
    ws.close()
    assert cli("monitor", "check", "pb@1", "--kind", "drift").code == 0
    return project


def test_report_writes_the_page_and_says_what_it_shows(cli: Invoke, checked: Path) -> None:
    result = cli("monitor", "report", "pb@1", "-o", "monitoring/pb.html")
    assert result.code == 0, result.err
    assert result.out.strip() == (
        "wrote the monitoring of pb@1 to monitoring/pb.html (1 window(s), 1 alarming; "
        "1 open alert(s))"
    )
    page = (checked / "monitoring" / "pb.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<title>Monitoring: pb@1</title>" in page
    assert '<figure class="drift"><svg' in page
    assert '<tr class="drift alarm" data-status="drift">' in page
    assert "pb@1: input or prediction drift in" in page


def test_a_plain_name_the_default_file_and_an_empty_period(cli: Invoke, checked: Path) -> None:
    result = cli("monitor", "report", "pb", "--since", "1h")
    assert result.code == 0, result.err
    assert "wrote the monitoring of pb to monitor.html (1 window(s)" in result.out
    assert "Model <strong>pb</strong>, every version" in (checked / "monitor.html").read_text()
    # No window in the period: a page that says so, not an error.
    result = cli("monitor", "report", "pb@latest", "--since", "2999-01-01")
    assert result.code == 0, result.err
    assert "(0 window(s), 0 alarming; 0 open alert(s))" in result.out
    page = (checked / "monitor.html").read_text()
    assert "No monitoring windows since 2999-01-01 00:00:00 UTC yet." in page


def test_bad_input_is_a_clear_error_and_writes_nothing(cli: Invoke, checked: Path) -> None:
    assert_clean_error(cli("monitor", "report", "pb@1", "--since", "soon"), 2, "--since 'soon'")
    assert_clean_error(cli("monitor", "report", "nope@1"), 1, "unknown model 'nope'")
    assert_clean_error(cli("monitor", "report", "pb@9"), 1, "model 'pb' has no version 9")
    assert not (checked / "monitor.html").exists()
