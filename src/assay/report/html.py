"""The evidence report as one self-contained, printable HTML page.

The page answers an auditor's four questions about one model version, in this order, each
a section with a fixed id: ``what-it-does`` (the model card), ``is-it-compliant`` (policy
gates, approvals, the audit chain), ``does-it-do-what-it-must`` (evaluation, data
validation, data fingerprints) and ``does-it-keep-doing-it`` (alias history, monitoring),
then ``provenance`` (run, code version, environment, parameters, steps, lineage).

Everything comes from the evidence dict of :func:`assay.report.evidence.build_evidence` and
is escaped (Jinja2 autoescape); the pictures are inline SVG from :mod:`assay.report.plots`.
The page loads nothing: no fonts, scripts, style sheets or images from anywhere.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
from collections.abc import Mapping
from typing import Any

import jinja2
from markupsafe import Markup

from assay.report import plots

__all__ = ["render_html"]

_Status = tuple[str, str]  # (CSS class: ok | bad | none, label)
_HEADLINE = ("accuracy", "macro_f1", "f1", "weighted_f1", "precision", "recall", "auc")


def render_html(evidence: Mapping[str, Any]) -> str:
    """The evidence of one model version as a self-contained HTML page.

    The same evidence gives the same page, byte for byte.
    """
    quality = _section(evidence, "does_it_do_what_it_must")
    compliance = _section(evidence, "is_it_compliant")
    provenance = _section(evidence, "provenance")
    packages = provenance.get("packages") or {}
    context = {
        "e": evidence,
        "model": _section(evidence, "model"),
        "card": _section(evidence, "what_it_does").get("card") or {},
        "gates": compliance.get("gates") or {},
        "approvals": compliance.get("approvals") or [],
        "audit": compliance.get("audit") or {},
        "quality": quality,
        "validation": quality.get("validation"),
        "keep": _section(evidence, "does_it_keep_doing_it"),
        "prov": provenance,
        "run": provenance.get("run") or {},
        "packages": sorted(packages.items(), key=lambda item: str(item[0]).lower()),
        "figures": _figures(quality, provenance),
        "verdict": _verdict(evidence),
        "headline": _headline(quality.get("metrics") or {}),
    }
    return _environment().get_template("evidence.html.j2").render(context)


def _section(evidence: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    value = evidence.get(key)
    return value if isinstance(value, Mapping) else {}


def _figures(quality: Mapping[str, Any], provenance: Mapping[str, Any]) -> dict[str, Markup]:
    """The SVG pictures that the evidence has data for (matplotlib escapes their text)."""
    figures: dict[str, Markup] = {}
    matrix = quality.get("confusion_matrix")
    if isinstance(matrix, Mapping) and _is_square(matrix.get("labels"), matrix.get("matrix")):
        labels = [str(label) for label in matrix["labels"]]
        figures["confusion"] = Markup(plots.confusion_svg(labels, matrix["matrix"]))  # noqa: S704
    per_class = quality.get("per_class")
    if per_class:
        figures["per_class"] = Markup(plots.per_class_svg(per_class))  # noqa: S704
    lineage = provenance.get("lineage")
    if isinstance(lineage, Mapping) and lineage.get("nodes"):
        figures["lineage"] = Markup(plots.lineage_svg(lineage))  # noqa: S704
    return figures


def _is_square(labels: object, matrix: object) -> bool:
    if not isinstance(labels, list) or not isinstance(matrix, list) or not labels:
        return False
    return len(matrix) == len(labels) and all(
        isinstance(row, list)
        and len(row) == len(labels)
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in row)
        for row in matrix
    )


def _verdict(evidence: Mapping[str, Any]) -> dict[str, _Status]:
    """One badge per check for the summary at the top of the page."""
    compliance = _section(evidence, "is_it_compliant")
    gates = compliance.get("gates") or {}
    if not gates.get("checked"):
        gate: _Status = ("none", "not checked")
    else:
        gate = ("ok", "passed") if gates.get("passed") else ("bad", "FAILED")
    approvers = [
        str(r.get("reviewer"))
        for a in compliance.get("approvals") or []
        for r in a.get("reviews") or []
        if r.get("decision") == "approve"
    ]
    rejected = any(a.get("status") == "rejected" for a in compliance.get("approvals") or [])
    if approvers:
        approval: _Status = ("ok", "approved by " + ", ".join(dict.fromkeys(approvers)))
    else:
        approval = ("bad", "rejected") if rejected else ("none", "none")
    ok = (compliance.get("audit") or {}).get("ok")
    audit: _Status = (
        ("none", "not verified")
        if ok is None
        else (("ok", "verified") if ok else ("bad", "BROKEN"))
    )
    validation = _section(evidence, "does_it_do_what_it_must").get("validation")
    if not isinstance(validation, Mapping):
        checked: _Status = ("none", "not recorded")
    else:
        checked = ("ok", "passed") if validation.get("passed") else ("bad", "FAILED")
    monitoring = _section(evidence, "does_it_keep_doing_it").get("monitoring")
    if not monitoring:
        watched: _Status = ("none", "no results yet")
    elif monitoring.get("open_alerts"):
        watched = ("bad", f"{monitoring['open_alerts']} open alert(s)")
    else:
        watched = ("ok", "no open alert")
    return {
        "gates": gate,
        "approvals": approval,
        "audit": audit,
        "validation": checked,
        "monitoring": watched,
    }


def _headline(metrics: Mapping[str, Any]) -> list[tuple[str, Any]]:
    """Up to four metrics for the summary: the usual headline ones first."""
    names = [n for n in _HEADLINE if n in metrics]
    names += sorted(n for n in metrics if n not in names)
    return [(n, metrics[n]) for n in names[:4]]


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("assay.report", "templates"),
        autoescape=True,
        undefined=jinja2.ChainableUndefined,
        trim_blocks=False,
        keep_trailing_newline=True,
    )
    env.filters.update(
        text=_text,
        num=_num,
        when=_when,
        size=_size,
        plain=_plain,
        pretty=_pretty,
        counts=_counts,
        extra=_extra,
        took=_took,
    )
    return env


def _missing(value: object) -> bool:
    return value is None or value == "" or isinstance(value, jinja2.Undefined)


def _text(value: object) -> str:
    """A value as text; an em dash for a missing one."""
    if _missing(value):
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _num(value: object) -> str:
    """A number as the CLI shows metrics: whole numbers plain, others to four places; any
    other value as :func:`_plain` shows it."""
    if _missing(value):
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return _plain(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    return str(int(value)) if float(value).is_integer() else f"{value:.4f}"


def _when(value: object) -> str:
    """A unix time as UTC to the second: the page reads the same in every time zone."""
    if _missing(value) or not isinstance(value, int | float):
        return "—"
    moment = dt.datetime.fromtimestamp(float(value), tz=dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC")


def _size(value: object) -> str:
    """Bytes in B, KB, MB or GB."""
    if _missing(value) or not isinstance(value, int | float):
        return "—"
    amount = float(value)
    for unit in ("B", "KB", "MB"):
        if amount < 1024:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} GB"


def _plain(value: object) -> str:
    """A parameter or other value: text as is, anything else as compact JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _num(value)
    return json.dumps(value, sort_keys=True, default=str, ensure_ascii=False)


def _pretty(value: object) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=False)


def _counts(value: object) -> str:
    """Label counts as ``a: 10, b: 12``."""
    if not isinstance(value, Mapping) or not value:
        return "—"
    return ", ".join(
        f"{label}: {_num(n)}" for label, n in sorted(value.items(), key=lambda item: str(item[0]))
    )


def _extra(value: object, *skip: str) -> str:
    """The fields of a record other than ``skip``, as ``name=value`` pairs."""
    if not isinstance(value, Mapping):
        return ""
    return "; ".join(f"{k}={_plain(v)}" for k, v in sorted(value.items()) if k not in skip)


def _took(step: object) -> str:
    """How long a step ran, from its start and end times."""
    if not isinstance(step, Mapping):
        return "—"
    start, end = step.get("started_at"), step.get("ended_at")
    if not isinstance(start, int | float) or not isinstance(end, int | float):
        return "—"
    return f"{end - start:.2f}s"
