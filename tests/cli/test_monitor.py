"""`assay monitor check|alerts|label` on a store with a served text model's traffic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import assay
from assay import Settings
from assay.workspace import open_workspace
from tests.cli.conftest import Invoke
from tests.cli.test_bad_input import assert_clean_error
from tests.monitoring.phrasebank import log_traffic, phrasebank, social_posts


@pytest.fixture
def traffic(project: Path) -> list[str]:
    """pb@1 in the project's store, with 300 social-media posts in its prediction log;
    returns the logged request ids."""
    ws = open_workspace(Settings.for_project(project, user="alice"))
    assay.run(phrasebank, workspace=ws)
    records = log_traffic(ws, social_posts(300), per_request=1)
    ws.close()
    return [r.request_id for r in records]


def test_check_raises_a_drift_alert_that_alerts_lists(cli: Invoke, traffic: list[str]) -> None:
    checked = cli("monitor", "check", "pb@1", "--kind", "drift")
    assert checked.code == 0, checked.err
    assert "drift: drift (300 rows, pb@1" in checked.out
    assert "new alert 1: pb@1: input or prediction drift in" in checked.out
    again = json.loads(cli("monitor", "check", "pb@1", "--kind", "drift", "--json").out)
    assert again[0]["alert"]["count"] == 2 and again[0]["new_alert"] is False
    listed = json.loads(cli("monitor", "alerts", "--json").out)
    assert [(a["id"], a["kind"], a["count"]) for a in listed] == [(1, "drift", 2)]
    shown = cli("monitor", "alerts").out.splitlines()
    row = next(line for line in shown if line.lstrip().startswith("1 "))
    assert [c.strip() for c in row.split("│")][:5] == ["1", "pb@1", "drift", "open", "2"]


def test_labels_from_a_csv_then_a_performance_check(
    cli: Invoke, traffic: list[str], project: Path
) -> None:
    labels = project / "labels.csv"
    rows = [f"{rid},positive" for rid in traffic[:150]] + ["nobody,neutral"]
    labels.write_text("request_id,label\n" + "\n".join(rows) + "\n")
    added = cli("monitor", "label", "--input", str(labels))
    assert added.code == 0, added.err
    assert "150 labels stored (0 replaced earlier ones)" in added.out
    assert "1 not in the prediction log, not stored: nobody" in added.out
    checked = json.loads(cli("monitor", "check", "pb@1", "--kind", "performance", "--json").out)
    # The log says "neutral" for every post; the labels say "positive": a drop.
    assert checked[0]["window"]["status"] == "drop" and checked[0]["new_alert"] is True
    one = project / "one.csv"
    one.write_text(f"request_id,label\n{traffic[0]},neutral\n")
    assert (
        "1 label stored (1 replaced an earlier one)" in cli("monitor", "label", "-i", str(one)).out
    )


def test_the_text_shows_each_live_metric_and_its_test(
    cli: Invoke, traffic: list[str], project: Path
) -> None:
    labels = project / "labels.csv"
    labels.write_text("request_id,label\n" + "".join(f"{r},positive\n" for r in traffic[:150]))
    assert cli("monitor", "label", "--input", str(labels)).code == 0
    checked = cli("monitor", "check", "pb@1", "--kind", "performance")
    assert checked.code == 0, checked.err
    lines = checked.out.splitlines()
    assert lines[0].startswith("performance: drop (150 labelled rows, pb@1, window 1")
    assert "alpha 0.01, tolerance 0.05" in lines[0]
    header = next(line for line in lines if line.startswith("metric"))
    names = [c.strip() for c in header.split("┃")]
    assert names == ["metric", "test", "evaluation", "live", "drop", "rows", "adj. p", "verdict"]
    rows = {
        cells[0]: cells
        for line in lines
        if len(cells := [c.strip() for c in line.split("│")]) == len(names)
    }
    accuracy = rows["accuracy"]
    assert accuracy[1] == "binomial" and accuracy[3] == "0.000" and accuracy[5] == "150"
    assert float(accuracy[6]) < 1e-6 and accuracy[7] == "drop"
    # Only "positive" was labelled: the other classes were not tested, and say why.
    negative = rows["recall_negative"]
    assert negative[3] == negative[4] == negative[6] == "—"
    assert negative[7] == "not tested: 0 labelled rows of negative, fewer than 20"
    assert rows["macro_f1"][6] == "—" and rows["macro_f1"][7].startswith("not tested")
    assert any(line.startswith("new alert 1: pb@1: live ") for line in lines)


def test_an_untested_check_shows_no_p_value(cli: Invoke, traffic: list[str]) -> None:
    args = ["monitor", "check", "pb@1", "--since", "2999-01-01"]
    shown = cli(*args).out.splitlines()
    assert shown[0].startswith("drift: too few rows (0 rows, pb@1")
    assert shown[1] == "  not tested: 0 rows, fewer than 100 (800 in the reference)"
    tokens = next(line for line in shown if line.startswith("tokens"))
    assert [c.strip() for c in tokens.split("│")] == [
        "tokens", "kolmogorov-smirnov", "—", "—", "not tested"
    ]  # fmt: skip
    performance = shown.index(next(s for s in shown if s.startswith("performance:")))
    assert shown[performance].startswith("performance: too few rows (0 labelled rows, pb@1")
    assert shown[performance + 1] == "  not tested: 0 labelled rows, fewer than 100"
    stored = json.loads(cli(*args, "--json").out)
    columns = stored[0]["window"]["report"]["columns"]
    assert {(c["status"], c["p_value"], c["adjusted_p_value"]) for c in columns} == {
        ("too few rows", None, None)
    }


def test_bad_input_is_a_clear_error(cli: Invoke, traffic: list[str], project: Path) -> None:
    # Usage mistakes exit 2, failures 1.
    assert_clean_error(cli("monitor", "check", "pb@1", "--since", "soon"), 2, "--since 'soon'")
    assert_clean_error(cli("monitor", "check", "pb@1", "--kind", "vibes"), 2, "unknown --kind")
    assert_clean_error(cli("monitor", "check", "pb@1", "--min-rows", "0"), 2, "--min-rows")
    assert_clean_error(cli("monitor", "check", "pb@1", "--alpha", "1"), 2, "--alpha")
    assert_clean_error(cli("monitor", "check", "pb@1", "--tolerance", "-0.1"), 2, "--tolerance")
    assert_clean_error(cli("monitor", "check", "nope@1"), 1, "unknown model 'nope'")
    assert_clean_error(
        cli("monitor", "label", "--input", str(project / "missing.csv")), 1, "cannot read labels"
    )
    ghost = project / "ghost.csv"
    ghost.write_text("request_id,label\nghost,neutral\n")
    assert_clean_error(
        cli("monitor", "label", "--input", str(ghost)), 1, "matches a logged request"
    )
    capital = project / "capital.csv"
    capital.write_text(f"request_id,label\n{traffic[0]},neutral\n{traffic[1]},Positive\n")
    refused = cli("monitor", "label", "--input", str(capital))
    assert_clean_error(refused, 1, "1 label(s) are not classes of the model that answered")
    assert "'Positive' for" in refused.err and "negative, neutral, positive" in refused.err
    recent = cli("monitor", "check", "pb@1", "--kind", "drift", "--since", "1h")
    assert recent.code == 0 and "300 rows" in recent.out
    assert "too few rows" in cli("monitor", "check", "pb@1", "--kind", "drift",
                                 "--since", "2999-01-01").out  # fmt: skip


def test_close_an_alert_with_a_reason(cli: Invoke, traffic: list[str]) -> None:
    assert cli("monitor", "check", "pb@1", "--kind", "drift").code == 0
    assert_clean_error(cli("monitor", "close", "1"), 1, "closing an alert needs a reason")
    closed = cli("monitor", "close", "1", "--reason", "social posts are out of scope")
    assert closed.code == 0, closed.err
    assert "closed alert 1 (drift on pb@1)" in closed.out
    assert json.loads(cli("monitor", "alerts", "--status", "open", "--json").out) == []
    assert_clean_error(cli("monitor", "close", "1", "--reason", "again"), 1, "already closed")
    again = json.loads(cli("monitor", "check", "pb@1", "--kind", "drift", "--json").out)
    assert again[0]["new_alert"] is True and again[0]["alert"]["id"] == 2
