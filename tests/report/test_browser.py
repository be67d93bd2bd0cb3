"""The report of a real store, end to end: `assay report` writes it, headless Chromium opens
it from disk without a single request going out, shows every section filled with the
store's values, and prints it to PDF. Also the JSON form and the errors of the command."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Page, Route, sync_playwright

from assay import Settings
from assay.report import build_evidence
from assay.report.html import render_html
from assay.workspace import open_workspace
from tests.cli.conftest import Result, run_main
from tests.governed import promoted_toy

CHROMIUM = "/usr/bin/chromium"
SECTIONS = ("what-it-does", "is-it-compliant", "does-it-do-what-it-must", "does-it-keep-doing-it")


@pytest.fixture
def store(settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project folder whose store holds toy@1: trained by alice, approved by bob, promoted
    to production. The `assay` command acts on it as alice."""
    promoted_toy(settings, tmp_path / "toy").close()
    for key in list(os.environ):
        if key.startswith("ASSAY_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("ASSAY_HOME", str(tmp_path))
    monkeypatch.setenv("ASSAY_USER", "alice")
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.fixture
def head_hash(settings: Settings, store: Path) -> str:
    ws = open_workspace(settings)
    try:
        return ws.metadata.audit_head()[1]
    finally:
        ws.close()


def assay_cli(capsys: pytest.CaptureFixture[str], *args: str) -> Result:
    return run_main(capsys, *args)


@contextmanager
def chromium(path: Path) -> Iterator[tuple[Page, list[str]]]:
    """The page at ``path`` opened as file:// in headless Chromium; every request that is
    not for a file is aborted and its URL recorded in the list."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: scripts/test installs it (apt-get install chromium)")
    outside: list[str] = []

    def route(r: Route) -> None:
        if r.request.url.startswith("file://"):
            r.continue_()
        else:
            outside.append(r.request.url)
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", route)
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(path.resolve().as_uri(), wait_until="load")
            yield page, outside
            assert errors == []
        finally:
            browser.close()


def test_the_report_opens_offline_with_every_section_filled(
    store: Path, head_hash: str, capsys: pytest.CaptureFixture[str]
) -> None:
    result = assay_cli(capsys, "report", "toy@production", "-o", "evidence/toy.html")
    assert result.code == 0, result.err
    assert result.out.strip() == (
        "wrote the evidence of toy@1 to evidence/toy.html (gates passed, audit chain verified)"
    )
    with chromium(store / "evidence" / "toy.html") as (page, outside):
        assert page.title() == "Evidence: toy@1"
        expected = {
            "what-it-does": ["toy@1", "A toy classifier.", "Tests of assay's governance."],
            "is-it-compliant": ["min macro_f1", "PASS", "bob", "Verified 20", head_hash[:16]],
            "does-it-do-what-it-must": ["macro_f1", "0.8000", "precision", "sha256"],
            "does-it-keep-doing-it": ["production", "approved promotion", "No monitoring"],
            "provenance": ["make_data", "check_gates", "quality"],
        }
        for section_id, needles in expected.items():
            section = page.locator(f"section#{section_id}")
            assert section.is_visible(), section_id
            text = section.inner_text()
            for needle in needles:
                assert needle in text, (section_id, needle)
        must = page.locator("section#does-it-do-what-it-must figure svg")
        assert must.count() == 2 and must.first.is_visible()
        lineage = page.locator("section#provenance figure.lineage svg")
        assert lineage.is_visible()
        box = lineage.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 30
        assert "model toy@1" in lineage.inner_html()
        assert outside == []


def test_the_report_prints_to_pdf_with_a_page_per_question(store: Path) -> None:
    settings = Settings.from_env()
    ws = open_workspace(settings)
    try:
        page_html = render_html(build_evidence(ws, "toy@1"))
    finally:
        ws.close()
    (store / "report.html").write_text(page_html, encoding="utf-8")
    with chromium(store / "report.html") as (page, outside):
        page.emulate_media(media="print")
        for section_id in (*SECTIONS, "provenance"):
            style = page.eval_on_selector(
                f"section#{section_id}", "s => getComputedStyle(s).breakBefore"
            )
            assert style == "page", section_id
        assert page.locator("nav.toc").is_hidden()
        assert page.locator(".print-only ul.packages").is_visible()  # the packages, printed
        pdf = page.pdf(format="A4", print_background=True)
        assert outside == []
    assert pdf.startswith(b"%PDF")
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    assert pages >= 6  # the summary, then each of the five sections on a page of its own


def test_json_holds_the_same_evidence(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = assay_cli(capsys, "report", "toy@1", "--format", "json", "--no-verify")
    assert result.code == 0, result.err
    assert "report.json" in result.out and "audit chain not verified" in result.out
    evidence = json.loads((store / "report.json").read_text())
    assert evidence["schema"] == "assay.evidence/1"
    assert evidence["model"]["ref"] == "toy@1"
    assert evidence["is_it_compliant"]["audit"]["ok"] is None
    reviews = evidence["is_it_compliant"]["approvals"][0]["reviews"]
    assert [r["reviewer"] for r in reviews] == ["bob"]
    assert not (store / "report.html").exists()


def test_default_output_is_report_html(store: Path, capsys: pytest.CaptureFixture[str]) -> None:
    result = assay_cli(capsys, "report", "toy@1")
    assert result.code == 0, result.err
    page = (store / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and 'id="is-it-compliant"' in page


def test_an_unknown_model_is_a_one_line_error(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for ref in ("nosuch@1", "toy@7", "toy@staging"):
        result = assay_cli(capsys, "report", ref)
        assert result.code == 1, (ref, result.out, result.err)
        assert result.err.startswith("error: ") and result.err.count("\n") == 1, result.err
        assert "Traceback" not in result.err and result.out == ""
    assert not (store / "report.html").exists()


def test_an_unknown_format_is_a_usage_error(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    result = assay_cli(capsys, "report", "toy@1", "--format", "pdf")
    assert result.code == 2 and result.err.startswith("error: unknown report format 'pdf'")


def test_a_tampered_store_gives_a_report_that_says_broken(
    store: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with sqlite3.connect(store / ".assay" / "assay.db") as db:
        db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 3")
    db.close()
    result = assay_cli(capsys, "report", "toy@1", "-o", "tampered.html")
    assert result.code == 0, result.err
    assert result.out.strip().endswith("(gates passed, audit chain BROKEN)")
    page = (store / "tampered.html").read_text()
    assert '<div class="broken"><strong>BROKEN (checked 20' in page
    assert "event 3: column actor differs from the sealed record" in page
