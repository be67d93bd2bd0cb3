"""The evidence page from a hand-made evidence dict: every section filled, values escaped,
nothing loaded from outside, a broken audit chain shown as broken, missing parts named."""

from __future__ import annotations

import copy
import re
from html import unescape
from typing import Any

import pytest

from assay.report import plots
from assay.report.html import render_html

HEAD = "9f2c4e1ab37d5c6e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9012345678abcd"
SECTIONS = ("what-it-does", "is-it-compliant", "does-it-do-what-it-must", "does-it-keep-doing-it")

EVIDENCE: dict[str, Any] = {
    "schema": "assay.evidence/1",
    "generated_at": 1767225600.0,
    "generated_by": "carol",
    "model": {
        "name": "sesame",
        "version": 3,
        "ref": "sesame@3",
        "digest": "d" * 64,
        "codec": "skops",
        "run_id": "run0123456789ab",
        "registered_at": 1767200000.0,
        "registered_by": "alice",
        "aliases": ["production"],
    },
    "what_it_does": {
        "card": {
            "model": "sesame",
            "summary": "Classifies the sentiment of <script>alert('x')</script> headlines.",
            "intended_use": "Triage of financial news.",
            "out_of_scope_use": "Trading decisions.",
            "owners": ["alice", "dave"],
            "training_data": {
                "description": "Headlines 2020-2024",
                "digest": "a" * 64,
                "rows": 4000,
                "labels": {"negative": 1500, "positive": 2500},
            },
            "evaluation_data": {
                "description": "Held-out headlines",
                "digest": "b" * 64,
                "rows": 1000,
                "labels": {"negative": 400, "positive": 600},
            },
            "metrics": {"macro_f1": 0.91},
            "slices": [{"slice": "label=negative", "metrics": {"recall": 0.88}}],
            "limitations": "English only.",
            "ethical_considerations": "May echo media bias.",
            "references": ["Internal memo 42"],
        }
    },
    "is_it_compliant": {
        "gates": {
            "checked": True,
            "passed": True,
            "policy": {"model": "sesame", "gates": {"min_metrics": {"macro_f1": 0.8}}},
            "policy_digest": "e" * 64,
            "results": [
                {
                    "gate": "min macro_f1",
                    "passed": True,
                    "detail": "macro_f1 0.9100 >= 0.8",
                    "observed": 0.91,
                    "required": 0.8,
                },
                {
                    "gate": "model card fields",
                    "passed": True,
                    "detail": "all present",
                    "observed": None,
                    "required": None,
                },
            ],
            "at": 1767200100.0,
            "by": "alice",
        },
        "approvals": [
            {
                "id": "req0123456789",
                "alias": "production",
                "status": "approved",
                "required": 1,
                "requested_by": "alice",
                "requested_at": 1767200200.0,
                "comment": "better recall",
                "reviews": [
                    {
                        "reviewer": "bob-the-approver",
                        "decision": "approve",
                        "comment": "looks fine",
                        "at": 1767200300.0,
                    }
                ],
            }
        ],
        "audit": {
            "ok": True,
            "verified_at": 1767225600.0,
            "events": 42,
            "head": {"seq": 42, "hash": HEAD},
            "key_id": "key-5e7a",
            "checkpoints": 3,
            "checkpoint_seq": 42,
            "artifacts_checked": 9,
            "problems": [],
            "model_events": [
                {
                    "seq": 17,
                    "at": 1767200000.0,
                    "actor": "alice",
                    "action": "model.registered",
                    "subject": "model:sesame@3",
                }
            ],
        },
    },
    "does_it_do_what_it_must": {
        "metrics": {"accuracy": 0.92, "macro_f1": 0.91},
        "per_class": [
            {"label": "negative", "precision": 0.9, "recall": 0.88, "f1": 0.89, "support": 400},
            {"label": "positive", "precision": 0.93, "recall": 0.94, "f1": 0.935, "support": 600},
        ],
        "confusion_matrix": {"labels": ["negative", "positive"], "matrix": [[352, 48], [36, 564]]},
        "validation": {
            "passed": True,
            "issues": [{"severity": "warning", "message": "3 duplicate rows", "column": "text"}],
            "rows_in": 5003,
            "rows_out": 5000,
        },
        "data": [
            {
                "name": "raw",
                "digest": "c" * 64,
                "kind": "file",
                "codec": "file",
                "size": 123456,
                "step": "load",
            }
        ],
    },
    "does_it_keep_doing_it": {
        "alias_history": [
            {
                "alias": "production",
                "version": 3,
                "previous": 2,
                "moved_at": 1767200400.0,
                "moved_by": "alice",
                "reason": "promoted after approval",
                "request_id": "req0123456789",
            }
        ],
        "monitoring": None,
    },
    "provenance": {
        "run": {
            "id": "run0123456789ab",
            "pipeline": "sesame",
            "source": "examples/sesame/pipeline.py",
            "status": "succeeded",
            "user": "alice",
            "host": "build-7",
            "started_at": 1767199000.0,
            "ended_at": 1767199900.0,
            "git_commit": "1234567890abcdef1234567890abcdef12345678",
            "git_dirty": False,
            "python_version": "3.11.7",
            "experiment": "default",
        },
        "params": {"C": 1.0, "ngrams": [1, 2]},
        "packages": {"scikit-learn": "1.4.2", "pandas": "2.2.1"},
        "steps": [
            {
                "step": "fit",
                "status": "succeeded",
                "fingerprint": "f" * 64,
                "cached_from": None,
                "started_at": 1767199100.0,
                "ended_at": 1767199160.5,
            }
        ],
        "lineage": {
            "root": "model:sesame@3",
            "nodes": [
                {"id": "artifact:" + "c" * 64, "type": "artifact", "label": "file cccccccccccc"},
                {"id": "execution:e1", "type": "execution", "label": "step fit"},
                {"id": "artifact:" + "d" * 64, "type": "artifact", "label": "model dddddddddddd"},
                {"id": "model:sesame@3", "type": "model", "label": "model sesame@3"},
            ],
            "edges": [
                {"source": "artifact:" + "c" * 64, "target": "execution:e1", "name": "raw"},
                {"source": "execution:e1", "target": "artifact:" + "d" * 64, "name": "model"},
                {"source": "artifact:" + "d" * 64, "target": "model:sesame@3", "name": ""},
            ],
        },
    },
}


@pytest.fixture
def evidence() -> dict[str, Any]:
    return copy.deepcopy(EVIDENCE)


def section(page: str, section_id: str) -> str:
    """The HTML of the <section> with this id."""
    match = re.search(rf'<section id="{section_id}"[^>]*>(.*?)</section>', page, re.DOTALL)
    assert match, f"no section {section_id}"
    return match.group(1)


def text_of(markup: str) -> str:
    """The visible text of some HTML, tags dropped and whitespace squeezed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def test_every_section_is_present_and_filled(evidence: dict[str, Any]) -> None:
    page = render_html(evidence)
    assert page.startswith("<!DOCTYPE html>")
    what = text_of(section(page, "what-it-does"))
    assert "sesame@3" in what and "Triage of financial news." in what
    assert "alice, dave" in what and "negative: 1500, positive: 2500" in what
    assert "label=negative" in what and "English only." in what
    compliant = text_of(section(page, "is-it-compliant"))
    assert "min macro_f1" in compliant and "macro_f1 0.9100 >= 0.8" in compliant
    assert "PASSED" in compliant and "bob-the-approver" in compliant and "approved" in compliant
    assert HEAD in compliant and "model.registered" in compliant
    assert "Verified 2026-01-01 00:00:00 UTC." in compliant  # when the check ran
    must = section(page, "does-it-do-what-it-must")
    assert "0.9200" in text_of(must) and "0.9350" in text_of(must)
    assert must.count("<svg") == 2  # the confusion matrix and the per-class bars
    assert ">352<" in must and ">564<" in must  # counts drawn in the matrix
    assert "3 duplicate rows" in text_of(must) and "c" * 64 in must and "120.6 KB" in must
    keep = text_of(section(page, "does-it-keep-doing-it"))
    assert "promoted after approval" in keep and "No monitoring results yet." in keep
    prov = section(page, "provenance")
    assert "1234567890abcdef1234567890abcdef12345678" in prov and "clean" in prov
    assert "scikit-learn 1.4.2" in text_of(prov) and "<details" in prov
    assert "[1, 2]" in text_of(prov) and "f" * 64 in prov and "60.50s" in prov
    assert prov.count("<svg") == 1 and "model sesame@3" in prov
    assert "2026-01-01 00:00:00 UTC" in page  # generated_at, in UTC


def test_sections_come_in_the_auditor_order(evidence: dict[str, Any]) -> None:
    page = render_html(evidence)
    places = [page.index(f'<section id="{s}"') for s in (*SECTIONS, "provenance")]
    assert places == sorted(places)


def test_values_from_the_store_are_escaped(evidence: dict[str, Any]) -> None:
    evidence["provenance"]["params"]["note"] = '"><img src=x onerror=alert(1)>'
    evidence["provenance"]["lineage"]["nodes"][1]["label"] = "step <script>evil()</script>"
    evidence["does_it_do_what_it_must"]["per_class"][0]["label"] = "<b>neg</b>"
    page = render_html(evidence)
    assert "<script>" not in page and "<img" not in page and "<b>neg" not in page
    assert "&lt;script&gt;alert(" in page
    assert "&lt;script&gt;evil()" in page  # in the lineage picture's text too


def test_the_page_loads_nothing_from_outside(evidence: dict[str, Any]) -> None:
    evidence["what_it_does"]["card"]["references"] = ["https://example.org/paper"]
    page = render_html(evidence)
    assert not re.search(r"""\b(src|href|action|srcset|poster|data)\s*=\s*(?!["']?#)""", page)
    assert not re.search(r"url\((?!#)", page) and "@import" not in page
    assert "<script" not in page.lower() and "<link" not in page.lower()
    # The reference is shown as text, not as a link; nothing else names any URL.
    assert page.count("http") == 1 and "https://example.org/paper</li>" in page


def test_print_styles_are_a4_with_page_breaks(evidence: dict[str, Any]) -> None:
    page = render_html(evidence)
    assert "size: A4" in page and "@media print" in page
    assert "section.question { break-before: page; }" in page
    assert "break-inside: avoid" in page and "thead { display: table-header-group; }" in page


def test_a_broken_audit_chain_is_shown_as_broken(evidence: dict[str, Any]) -> None:
    evidence["is_it_compliant"]["audit"].update(
        ok=False,
        problems=[
            {"seq": 5, "message": "its contents were changed (hash mismatch)"},
            {"seq": None, "message": "no checkpoint of the chain exists outside the store"},
        ],
    )
    page = render_html(evidence)
    compliant = section(page, "is-it-compliant")
    assert (
        '<div class="broken"><strong>BROKEN (checked 2026-01-01 00:00:00 UTC).</strong>'
        in compliant
    )
    assert "event 5: its contents were changed (hash mismatch)" in text_of(compliant)
    assert "no checkpoint of the chain exists outside the store" in compliant
    assert '<span class="badge bad">BROKEN</span>' in page  # also in the summary at the top
    assert "Verified" not in page


def test_an_unverified_chain_and_failed_gates_say_so(evidence: dict[str, Any]) -> None:
    evidence["is_it_compliant"]["audit"]["ok"] = None
    gates = evidence["is_it_compliant"]["gates"]
    gates["passed"] = False
    gates["results"][0].update(passed=False, detail="macro_f1 0.7000 < 0.8", observed=0.7)
    page = render_html(evidence)
    compliant = section(page, "is-it-compliant")
    assert "Not verified." in compliant and "--no-verify" in compliant
    assert "FAILED" in compliant and '<tr class="fail">' in compliant
    assert "macro_f1 0.7000 &lt; 0.8" in compliant


def test_missing_optional_parts_say_so(evidence: dict[str, Any]) -> None:
    evidence["what_it_does"]["card"] = {}
    compliance = evidence["is_it_compliant"]
    compliance["gates"] = {
        "checked": False,
        "passed": None,
        "policy": None,
        "policy_digest": None,
        "results": [],
        "at": None,
        "by": None,
    }
    compliance["approvals"] = []
    compliance["audit"]["model_events"] = []
    quality = evidence["does_it_do_what_it_must"]
    quality.update(metrics={}, per_class=[], confusion_matrix=None, validation=None, data=[])
    evidence["does_it_keep_doing_it"]["alias_history"] = []
    prov = evidence["provenance"]
    prov.update(params={}, packages={}, steps=[], lineage={"root": "", "nodes": [], "edges": []})
    prov["run"]["git_dirty"] = None
    page = render_html(evidence)
    for message in (
        "No model card was recorded for this version.",
        "The gates were never checked for this version.",
        "No promotion of this version was requested, so nobody approved it.",
        "No audit events name this model.",
        "No evaluation metrics were recorded.",
        "No per-class results were recorded.",
        "No confusion matrix was recorded.",
        "No data validation result was recorded for this version.",
        "No data artifacts were recorded.",
        "No alias ever pointed at this model.",
        "No monitoring results yet.",
        "The run had no parameters.",
        "No steps were recorded.",
        "No lineage was recorded.",
    ):
        assert message in page, message
    assert "<svg" not in page


def test_monitoring_results_and_a_dirty_tree_are_shown(evidence: dict[str, Any]) -> None:
    evidence["does_it_keep_doing_it"]["monitoring"] = {"summary": "drift 0.02 over 7 days"}
    evidence["provenance"]["run"]["git_dirty"] = True
    page = render_html(evidence)
    assert "drift 0.02 over 7 days" in section(page, "does-it-keep-doing-it")
    assert "No monitoring results yet." not in page
    assert "uncommitted changes" in section(page, "provenance")


def test_open_alerts_make_the_monitoring_badge_bad(evidence: dict[str, Any]) -> None:
    evidence["does_it_keep_doing_it"]["monitoring"] = {
        "summary": "3 window(s) checked, 1 alarming; 1 open alert(s) of 1",
        "open_alerts": 1,
        "made by": "retraining 1: drift alert 1 on m@1 (run abc)",
    }
    page = render_html(evidence)
    assert "1 open alert(s)" in page and "no open alert" not in page
    keep = section(page, "does-it-keep-doing-it")
    assert "retraining 1: drift alert 1 on m@1" in keep and "open_alerts" not in keep
    evidence["does_it_keep_doing_it"]["monitoring"]["open_alerts"] = 0
    assert "no open alert" in render_html(evidence)


def test_the_same_evidence_gives_the_same_page(evidence: dict[str, Any]) -> None:
    assert render_html(evidence) == render_html(copy.deepcopy(evidence))


def test_pictures_have_their_own_ids_and_no_prolog() -> None:
    matrix = plots.confusion_svg(["a", "b"], [[1, 2], [3, 4]])
    bars = plots.per_class_svg([{"label": "a", "precision": 1, "recall": 0.5, "f1": 0.6}])
    lineage = plots.lineage_svg(EVIDENCE["provenance"]["lineage"])
    for svg, prefix in ((matrix, "cm-"), (bars, "pc-"), (lineage, "lin-")):
        assert svg.startswith("<svg") and svg.endswith("</svg>")
        assert "<metadata>" not in svg and "http" not in svg and "<?xml" not in svg
        ids = re.findall(r'\bid="([^"]+)"', svg)
        assert ids and all(i.startswith(prefix) for i in ids)
        refs = re.findall(r'(?:url\(#|href="#)([^)"]+)', svg)
        assert all(r in ids for r in refs)


def test_a_malformed_confusion_matrix_is_shown_as_data(evidence: dict[str, Any]) -> None:
    evidence["does_it_do_what_it_must"]["confusion_matrix"] = {"labels": ["a"], "matrix": [[1, 2]]}
    must = section(render_html(evidence), "does-it-do-what-it-must")
    assert must.count("<svg") == 1 and "&#34;matrix&#34;" in must


def test_lineage_layers_run_left_to_right() -> None:
    lineage = EVIDENCE["provenance"]["lineage"]
    svg = plots.lineage_svg(lineage)
    xs = {}
    for label in ("file cccccccccccc", "step fit", "model dddddddddddd", "model sesame@3"):
        match = re.search(rf'x="([\d.]+)"[^>]*>{re.escape(label)}<', svg)
        assert match, label
        xs[label] = float(match.group(1))
    assert list(xs.values()) == sorted(xs.values())
