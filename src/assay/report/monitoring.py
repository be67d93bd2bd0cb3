"""The monitoring report: how a model version fared since it was served, as one
self-contained HTML page.

The page shows the windows that ``assay monitor check`` stored and the alerts they raised:
drift tests and live performance over time as inline SVG (:mod:`assay.report.timeline`),
a table of the windows and one of the alerts. It reads the store only, and the same
records give the same page, byte for byte: nothing on it depends on when it was made.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any

from markupsafe import Markup

from assay.metadata import ModelVersionRecord, WindowRecord
from assay.registry import resolve
from assay.report import timeline
from assay.report.html import _environment, _num
from assay.workspace import Workspace

__all__ = ["build_monitoring", "counts", "latest", "monitor_report", "render_monitoring"]

_BADGE = {"ok": "ok", "drift": "bad", "drop": "bad", timeline.TOO_FEW: "none"}


def monitor_report(
    ws: Workspace, ref: str, since: float | None = None, *, all_versions: bool = False
) -> str:
    """The monitoring report of the version ``ref`` points at, as an HTML page.

    Args:
        ws: the workspace whose store holds the windows and alerts.
        ref: ``NAME@VERSION``, ``NAME@ALIAS`` or ``NAME@latest`` for one version; a plain
            ``NAME`` for every version of the model.
        since: only windows that ended, and alerts last raised, at or after this unix time.
        all_versions: every version of the model, whatever ``ref`` names.

    Raises:
        ModelNotFoundError: ``ref`` names no version.
    """
    return render_monitoring(build_monitoring(ws, ref, since=since, all_versions=all_versions))


def build_monitoring(
    ws: Workspace, ref: str, *, since: float | None = None, all_versions: bool = False
) -> dict[str, Any]:
    """What the monitoring report shows, as a JSON-able dict: the model, the versions
    covered (with aliases and evaluation-time metrics), the windows oldest first and the
    alerts newest first. Arguments as for :func:`monitor_report`.

    Raises:
        ModelNotFoundError: ``ref`` names no version.
    """
    record = resolve(ws, ref)
    every = all_versions or "@" not in ref
    name = record.name
    only = None if every else record.version
    windows = [w for w in ws.metadata.windows(name, only) if since is None or w.end_at >= since]
    alerts = [
        a
        for a in ws.metadata.alerts(name)
        if (only is None or a.version == only) and (since is None or a.last_at >= since)
    ]
    aliases: dict[int, list[str]] = {}
    for move in ws.metadata.aliases(name):
        if move.version is not None:
            aliases.setdefault(move.version, []).append(move.alias)
    covered = ws.metadata.model_versions(name) if every else [record]
    return {
        "model": name,
        "ref": name if every else f"{name}@{record.version}",
        "every_version": every,
        "since": since,
        "versions": [
            {
                "version": v.version,
                "aliases": sorted(aliases.get(v.version, [])),
                "registered_at": v.created_at,
                "evaluation": baseline(v),
            }
            for v in covered
        ],
        "period": _period(windows),
        "windows": [asdict(w) for w in windows],
        "alerts": [
            {k: v for k, v in asdict(a).items() if k not in ("fingerprint", "details")}
            for a in alerts
        ],
    }


def render_monitoring(data: Mapping[str, Any]) -> str:
    """The page for the dict of :func:`build_monitoring`."""
    windows: list[Mapping[str, Any]] = list(data.get("windows") or [])
    drift = [w for w in windows if w.get("kind") == "drift"]
    performance = [w for w in windows if w.get("kind") == "performance"]
    baselines = {int(v["version"]): v["evaluation"] for v in data.get("versions") or []}
    figures: dict[str, Markup] = {}
    # matplotlib escapes the text it writes, so the SVG is safe to embed as is.
    if drift:
        figures["drift"] = Markup(timeline.drift_svg(drift))  # noqa: S704
    if performance:
        figures["performance"] = Markup(timeline.performance_svg(performance, baselines))  # noqa: S704
    context = {
        "m": data,
        "versions": data.get("versions") or [],
        "figures": figures,
        "counts": counts(windows, data.get("alerts") or []),
        "latest": {kind: latest(windows, kind) for kind in ("drift", "performance")},
        "rows": [_row(w) for w in windows],
        "alerts": data.get("alerts") or [],
        "badge_class": _BADGE,
    }
    return _environment().get_template("monitoring.html.j2").render(context)


def baseline(version: ModelVersionRecord) -> dict[str, float]:
    """The evaluation-time figures live ones are compared with: accuracy, macro-F1 and each
    class's recall (``recall_<class>``), from the metrics the version was registered with."""
    metrics = version.info.get("metrics") or {}
    found = {k: metrics[k] for k in ("accuracy", "macro_f1") if _is_number(metrics.get(k))}
    for label, values in (metrics.get("per_class") or {}).items():
        if isinstance(values, Mapping) and _is_number(values.get("recall")):
            found[f"recall_{label}"] = values["recall"]
    return {k: float(v) for k, v in found.items()}


def _period(windows: Sequence[WindowRecord]) -> dict[str, float] | None:
    if not windows:
        return None
    return {"start": min(w.start_at for w in windows), "end": max(w.end_at for w in windows)}


def counts(
    windows: Sequence[Mapping[str, Any]], alerts: Sequence[Mapping[str, Any]]
) -> dict[str, int]:
    """How many windows (of each kind, alarming, with too few rows) and open alerts: the
    summary the monitoring report, the evidence report and the CLI give."""
    statuses = [w.get("status") for w in windows]
    return {
        "windows": len(windows),
        "drift": sum(w.get("kind") == "drift" for w in windows),
        "performance": sum(w.get("kind") == "performance" for w in windows),
        "alarms": sum(s in ("drift", "drop") for s in statuses),
        "too_few": statuses.count(timeline.TOO_FEW),
        "open_alerts": sum(a.get("status") == "open" for a in alerts),
    }


def latest(windows: Sequence[Mapping[str, Any]], kind: str) -> Mapping[str, Any] | None:
    """The newest of ``windows`` (oldest first) of ``kind``."""
    of_kind = [w for w in windows if w.get("kind") == kind]
    return of_kind[-1] if of_kind else None


def _row(window: Mapping[str, Any]) -> dict[str, Any]:
    """One line of the windows table: its status and what it found, in words."""
    status = str(window.get("status"))
    return {**window, "badge": _BADGE.get(status, "none"), "finding": _finding(window)}


def _finding(window: Mapping[str, Any]) -> str:
    report: Mapping[str, Any] = window.get("report") or {}
    status = window.get("status")
    if window.get("kind") == "drift":
        if status == timeline.TOO_FEW:
            columns = report.get("columns") or [{}]
            least = (columns[0].get("details") or {}).get("min_rows")
            return f"not tested: fewer than {least} texts" if least else "not tested"
        drifted = report.get("drifted") or []
        return "drift in " + ", ".join(drifted) if drifted else "no test moved"
    if status == timeline.TOO_FEW:
        return f"not scored: {report.get('labelled_rows', 0)} labelled rows"
    drops = report.get("drops") or {}
    if drops:
        return "; ".join(
            f"{name} {_num(d.get('live'))} (at evaluation {_num(d.get('evaluation'))})"
            for name, d in sorted(drops.items())
        )
    live = report.get("live") or {}
    return f"accuracy {_num(live.get('accuracy'))}, macro_f1 {_num(live.get('macro_f1'))}"


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
