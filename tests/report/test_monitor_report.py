"""The monitoring report of a real store: windows made by running the checks on logged
traffic (same-source sentences, social-media posts, a handful of texts), late labels, the
alerts they raised; the page's plots and tables, the page of a model never checked, and
headless Chromium showing the plots offline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import assay
from assay import Settings, pipeline, register_model, step
from assay.errors import ModelNotFoundError
from assay.metadata import PredictionRecord
from assay.monitoring.check import Window, check_drift, check_performance
from assay.monitoring.labels import add_labels
from assay.registry import load_scorer, resolve
from assay.report.monitoring import build_monitoring, monitor_report
from assay.workspace import Workspace, open_workspace
from tests.governed import promoted_toy
from tests.monitoring.phrasebank import (
    evaluate,
    held_back,
    held_back_labels,
    log_traffic,
    phrasebank,
    social_posts,
    split_corpus,
)
from tests.report.test_browser import chromium

HOUR = 3600.0
T0 = 1_767_225_600.0  # 2026-01-01 00:00 UTC: the first traffic


@step(outputs={"model": "model"})
def fit_words(train: pd.DataFrame) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import Pipeline

    model = Pipeline([("words", TfidfVectorizer()), ("clf", SGDClassifier(random_state=1))])
    return model.fit(train["sentence"], train["label"])


@pipeline
def retrain() -> None:
    """pb@2: another model of the same data, registered without reference data."""
    train, test = split_corpus()
    model = fit_words(train)
    register_model(model, name="pb", metrics=evaluate(model, test))


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """pb@1 checked over three spans of its log, drift and performance each time:
    400 same-source sentences labelled truly at T0 (ok, ok), 300 social-media posts
    labelled "positive" against the logged "neutral" at T0+6h (drift, drop: two alerts),
    30 sentences without labels at T0+12h (too few rows, twice). Then pb@2, without
    reference data, aliased candidate, with one performance window at T0+18h."""
    folder = tmp_path_factory.mktemp("monitored")
    # Module-scoped, so the audit anchors go in the folder, not the user's state directory.
    settings = Settings(
        db_url=f"sqlite:///{folder / 'assay.db'}",
        artifact_root=str(folder / "artifacts"),
        user="alice",
        audit_key=str(folder / "audit" / "signing.key"),
        audit_checkpoints=str(folder / "audit" / "checkpoints.jsonl"),
    )
    ws = open_workspace(settings)
    assay.run(phrasebank, workspace=ws)
    model, _ = load_scorer(ws, resolve(ws, "pb@1"))
    same = held_back(400)
    sentences = log_traffic(ws, same, at=T0, predicted=[str(c) for c in model.predict(same)])
    posts = log_traffic(ws, social_posts(300), at=T0 + 6 * HOUR)
    log_traffic(ws, held_back(30), per_request=1, at=T0 + 12 * HOUR)
    label(ws, sentences, held_back_labels(400))
    label(ws, posts, ["positive"] * 300)
    for start in (T0, T0 + 6 * HOUR, T0 + 12 * HOUR):
        span = Window(since=start, until=start + HOUR)
        check_drift(ws, "pb@1", span)
        check_performance(ws, "pb@1", span)
    assay.run(retrain, workspace=ws)
    ws.metadata.move_alias("pb", "candidate", 2, by="alice", reason="a try", expected=None)
    second = log_traffic(ws, same, version=2, at=T0 + 18 * HOUR, predicted=["neutral"] * 400)
    label(ws, second, held_back_labels(400))
    check_performance(ws, "pb@candidate", Window(since=T0 + 18 * HOUR))
    yield ws
    ws.close()


def label(ws: Workspace, records: list[PredictionRecord], truth: list[str]) -> None:
    """Label each logged text of ``records`` with ``truth``, in order."""
    rows = [(r.request_id, i) for r in records for i in range(len(r.inputs))]
    add_labels(
        ws,
        [
            {"request_id": rid, "row": i, "label": t}
            for (rid, i), t in zip(rows, truth, strict=True)
        ],
    )


@pytest.fixture(scope="module")
def page(store: Workspace) -> str:
    return monitor_report(store, "pb@1")


class Tables(HTMLParser):
    """The cells of each table of a page, by the table's class, row by row, as text; and
    the class of each row."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.rows: dict[str, list[list[str]]] = {}
        self.row_classes: dict[str, list[str]] = {}
        self._table: str | None = None
        self._cell: list[str] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._table = found.get("class") or ""
        elif tag == "tr" and self._table is not None:
            self.rows.setdefault(self._table, []).append([])
            self.row_classes.setdefault(self._table, []).append(found.get("class") or "")
        elif tag in ("td", "th") and self._table is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in ("td", "th") and self._cell is not None and self._table is not None:
            self.rows[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def figure(page: str, name: str) -> str:
    found = re.search(rf'<figure class="{name}">(.*?)</figure>', page, re.DOTALL)
    assert found is not None, name
    return found.group(1)


def test_the_page_plots_drift_tests_and_live_scores_over_time(page: str) -> None:
    drift = figure(page, "drift")
    assert drift.startswith("<svg") and drift.count("<svg") == 1
    for needle in ("tokens (wasserstein/sd)", "texts (auc)", "alpha", "adjusted p-value"):
        assert needle in drift, needle
    assert "too few rows (not tested)" in drift and "end of window (UTC)" in drift
    performance = figure(page, "performance")
    assert performance.startswith("<svg")
    for needle in ("accuracy", "macro-F1", "recall negative", "recall positive", "at evaluation"):
        assert needle in performance, needle
    assert "stroke-dasharray" in performance  # the evaluation-time values, dashed
    assert "$" not in drift + performance  # tick labels are text, not TeX


def test_the_windows_table_shows_each_check_and_too_few_rows_apart(page: str) -> None:
    tables = Tables(page)
    header, *rows = tables.rows["windows"]
    assert header == ["id", "version", "kind", "from", "to", "rows", "status", "found"]
    assert [(r[0], r[2], r[5], r[6]) for r in rows] == [
        ("1", "drift", "400", "ok"),
        ("2", "performance", "400", "ok"),
        ("3", "drift", "300", "drift"),
        ("4", "performance", "300", "drop"),
        ("5", "drift", "30", "too few rows"),
        ("6", "performance", "0", "too few rows"),
    ]
    assert rows[0][3] == "2026-01-01 00:00:00 UTC"
    assert rows[2][7].startswith("drift in tokens, out_of_vocabulary")
    assert rows[3][7].startswith("accuracy 0 (at evaluation 0.")
    assert rows[4][7] == "not tested: fewer than 100 texts"
    assert rows[5][7] == "not scored: 0 labelled rows"
    classes = tables.row_classes["windows"][1:]
    assert [("alarm" in c, "few" in c) for c in classes] == [
        (False, False), (False, False), (True, False), (True, False), (False, True), (False, True)
    ]  # fmt: skip
    assert '<span class="badge none">too few rows</span>' in page


def test_the_alerts_table_lists_the_two_findings(page: str, store: Workspace) -> None:
    header, *rows = Tables(page).rows["alerts"]
    assert header == [
        "id", "version", "kind", "status", "times", "first", "last", "delivered", "summary"
    ]  # fmt: skip
    assert [[*r[:5], r[7]] for r in rows] == [
        ["2", "1", "performance", "open", "1", "no"],
        ["1", "1", "drift", "open", "1", "no"],
    ]
    assert rows[1][8].startswith("pb@1: input or prediction drift in tokens")
    assert rows[0][8].startswith("pb@1: live accuracy 0.000 against")
    assert "pb@2" not in page  # the other version's alert is not this version's


def test_the_header_names_the_version_and_the_period(page: str) -> None:
    assert "<title>Monitoring: pb@1</title>" in page
    summary = dict(row for row in Tables(page).rows["kv"] if len(row) == 2)
    assert summary["version"] == "1"
    assert summary["windows"] == ("6 (3 drift, 3 performance): 2 alarming, 2 with too few rows")
    assert summary["period"] == "2026-01-01 00:00:00 UTC to 2026-01-01 12:00:00 UTC"
    assert summary["latest drift check"].startswith("too few rows in window 5")
    assert summary["open alerts"] == "2 of 2"


def test_a_plain_name_covers_every_version_and_marks_the_change(store: Workspace) -> None:
    page = monitor_report(store, "pb")
    summary = dict(row for row in Tables(page).rows["kv"] if len(row) == 2)
    assert summary["versions"] == "1 · 2 (candidate)"
    rows = Tables(page).rows["windows"][1:]
    assert [(r[1], r[6]) for r in rows][-1] == ("2", "drop")
    assert ">v2<" in figure(page, "performance")  # the dash-dot line where pb@2 takes over
    assert ">v2<" not in figure(page, "drift")  # pb@2 has no reference data: no drift check
    assert [r[1] for r in Tables(page).rows["alerts"][1:]] == ["2", "1", "1"]
    alias = monitor_report(store, "pb@candidate")
    assert "<title>Monitoring: pb@2</title>" in alias
    assert monitor_report(store, "pb@1", all_versions=True) == page


def test_since_keeps_the_later_windows(store: Workspace) -> None:
    found = build_monitoring(store, "pb@1", since=T0 + 6 * HOUR)
    assert [w["id"] for w in found["windows"]] == [3, 4, 5, 6]
    assert found["period"]["start"] == T0 + 6 * HOUR
    assert found["period"]["end"] == pytest.approx(T0 + 12 * HOUR + 0.029)  # the 30th text
    later = monitor_report(store, "pb@1", since=T0 + 13 * HOUR)
    assert "No monitoring windows since 2026-01-01 13:00:00 UTC yet." in later


def test_the_same_store_gives_the_same_page(store: Workspace, page: str) -> None:
    assert monitor_report(store, "pb@1") == page


def test_the_page_loads_nothing_from_anywhere(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert not re.search(r"https?://", page)
    assert not re.search(r"<(script|link|img|iframe|object)\b", page)
    assert "@import" not in page and "url(" not in page.replace("url(#", "")


def test_a_model_never_checked_gets_a_page_that_says_so(settings: Settings, tmp_path: Path) -> None:
    ws = promoted_toy(settings, tmp_path / "toy")
    try:
        page = monitor_report(ws, "toy@production")
        with pytest.raises(ModelNotFoundError, match="unknown model 'nosuch'"):
            monitor_report(ws, "nosuch@1")
    finally:
        ws.close()
    assert "No monitoring windows yet." in page
    assert "<code>assay monitor check toy@1</code>" in page
    summary = dict(row for row in Tables(page).rows["kv"] if len(row) == 2)
    assert summary["version"] == "1 (production)"
    assert summary["windows"] == "0 (0 drift, 0 performance)"
    assert "<svg" not in page and 'id="windows"' not in page
    assert "No alerts were raised." in page


def test_chromium_shows_the_plots_offline(page: str, tmp_path: Path) -> None:
    (tmp_path / "monitor.html").write_text(page, encoding="utf-8")
    with chromium(tmp_path / "monitor.html") as (browser_page, outside):
        assert browser_page.title() == "Monitoring: pb@1"
        for name in ("drift", "performance"):
            plot = browser_page.locator(f"section#{name} figure svg")
            assert plot.count() == 1 and plot.is_visible(), name
            box = plot.bounding_box()
            assert box is not None and box["width"] > 500 and box["height"] > 200, (name, box)
            assert plot.locator("path").count() > 20, name  # lines and markers were drawn
        rows = browser_page.locator("table.windows tbody tr")
        assert rows.count() == 6
        few = browser_page.locator('table.windows tr[data-status="too few rows"]')
        assert few.count() == 2 and "not tested" in few.first.inner_text()
        assert outside == []
