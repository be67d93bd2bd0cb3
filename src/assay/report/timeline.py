"""The monitoring report's pictures as inline SVG: drift tests and live performance over time.

Each picture has one point per checked window, placed at the window's end (UTC). Windows
stored as ``too few rows`` were not tested: they are grey dotted lines, never alarms. Where
the version changes between windows, a dash-dot line names the new one. The figures are
made, styled and cleaned by the same helpers as the evidence report's
(:mod:`assay.report.plots`), so they are as deterministic and as self-contained.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from assay.report.plots import _figure, _style, _svg, shorten

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["TOO_FEW", "drift_svg", "performance_svg"]

#: The status of a window that had too few rows to test.
TOO_FEW = "too few rows"
_FEW_COLOUR = "#9aa0a6"
_ALARM_COLOUR = "#b3261e"


def drift_svg(windows: Sequence[Mapping[str, Any]]) -> str:
    """Two panels over time for drift windows (records with ``end_at``, ``version``,
    ``status`` and a drift ``report``): each test's Holm-adjusted p-value on a log scale,
    with the ``alpha`` it was judged at, and each test's effect size. Points of a test that
    flagged drift are ringed in red."""
    with _style():
        fig = _figure(9.5, 5.6)
        p_ax, effect_ax = fig.subplots(2, 1, sharex=True)
        tested = [w for w in windows if w.get("status") != TOO_FEW]
        floor = _floor(tested)
        for name in _columns(tested):
            xs, ps, effects, flagged, effect_name = [], [], [], [], ""
            for w in tested:
                column = _column(w, name)
                if column is None or column.get("status") == TOO_FEW:
                    continue
                xs.append(_moment(w))
                ps.append(max(_number(column.get("adjusted_p_value"), 1.0), floor))
                effects.append(_number(column.get("effect_size"), 0.0))
                flagged.append(column.get("status") == "drift")
                effect_name = effect_name or str(column.get("effect") or "")
            label = shorten(name, 20) + (f" ({effect_name})" if effect_name else "")
            (line,) = p_ax.plot(xs, ps, marker="o", markersize=4, linewidth=1.2, label=label)
            effect_ax.plot(
                xs, effects, marker="o", markersize=4, linewidth=1.2, color=line.get_color()
            )
            _ring(p_ax, xs, ps, flagged)
            _ring(effect_ax, xs, effects, flagged)
        alphas = [_number((w.get("report") or {}).get("alpha"), math.nan) for w in tested]
        _reference(p_ax, [_moment(w) for w in tested], alphas, "alpha", "#1f2328")
        _log_axis(p_ax, floor)
        p_ax.set_ylabel("adjusted p-value")
        p_ax.set_title("Holm-adjusted p-value of each test (below alpha: drift)", fontsize=9)
        effect_ax.set_ylabel("effect size")
        effect_ax.set_title("Effect size of each test (its measure in brackets)", fontsize=9)
        for ax in (p_ax, effect_ax):
            _mark(ax, windows, legend=ax is p_ax)
            ax.grid(alpha=0.3)
        _time_axis(effect_ax)
        fig.legend(loc="outside right upper", fontsize=7.5, frameon=False)
        return _svg(fig, "drift")


def performance_svg(
    windows: Sequence[Mapping[str, Any]], baselines: Mapping[int, Mapping[str, float]]
) -> str:
    """Live accuracy, macro-F1 and per-class recall over time for performance windows, each
    against its version's evaluation-time value (``baselines``: version to flat metric
    names, dashed in the same colour). Metrics that dropped beyond tolerance are ringed."""
    from matplotlib.colors import to_hex  # noqa: PLC0415

    with _style():
        fig = _figure(9.5, 3.8)
        ax = fig.add_subplot()
        scored = [w for w in windows if isinstance((w.get("report") or {}).get("live"), Mapping)]
        xs, every = [_moment(w) for w in scored], [_moment(w) for w in windows]
        for name in _metrics(scored, baselines):
            ys = [_number(_live(w).get(name), math.nan) for w in scored]
            dropped = [name in ((w.get("report") or {}).get("drops") or {}) for w in scored]
            (line,) = ax.plot(xs, ys, marker="o", markersize=4, linewidth=1.2, label=_label(name))
            _ring(ax, xs, ys, dropped)
            then = [
                _number(baselines.get(int(w.get("version", 0)), {}).get(name), math.nan)
                for w in windows
            ]
            _reference(ax, every, then, None, to_hex(line.get_color()))
        ax.plot([], [], linestyle="--", color="#1f2328", linewidth=1.0, label="at evaluation")
        ax.set_ylim(-0.02, 1.05)
        ax.set_ylabel("score")
        ax.set_title("Live scores from late labels; dashed: the same at evaluation", fontsize=9)
        _mark(ax, windows, legend=True)
        ax.grid(alpha=0.3)
        _time_axis(ax)
        fig.legend(loc="outside right upper", fontsize=7.5, frameon=False)
        return _svg(fig, "perf")


def _floor(windows: Sequence[Mapping[str, Any]]) -> float:
    """Where a p-value of 0 (below what a float holds) is drawn: two decades under the
    smallest other one, so that it neither vanishes nor stretches the axis to 1e-308."""
    smallest = min(
        (
            p
            for w in windows
            for column in (w.get("report") or {}).get("columns") or []
            if (p := _number(column.get("adjusted_p_value"), 1.0)) > 0
        ),
        default=1.0,
    )
    return 10.0 ** (math.floor(math.log10(min(smallest, 1e-4))) - 2)


def _log_axis(ax: Axes, floor: float) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator  # noqa: PLC0415

    ax.set_yscale("log")
    ax.set_ylim(floor / 2, 2.0)
    ax.yaxis.set_major_locator(LogLocator(numticks=7))
    # Plain text, not TeX: the report keeps text as text (text.parse_math is off).
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: "1" if v == 1 else f"{v:.0e}"))
    ax.yaxis.set_minor_formatter(FuncFormatter(lambda v, _: ""))


def _columns(windows: Sequence[Mapping[str, Any]]) -> list[str]:
    """The tested columns, in the order the checks report them."""
    names: dict[str, None] = {}
    for w in windows:
        for column in (w.get("report") or {}).get("columns") or []:
            names.setdefault(str(column.get("column")), None)
    return list(names)


def _column(window: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for column in (window.get("report") or {}).get("columns") or []:
        if str(column.get("column")) == name:
            return column  # type: ignore[no-any-return]
    return None


def _live(window: Mapping[str, Any]) -> dict[str, float]:
    """A window's live scores as flat metric names (``recall_<class>``)."""
    live = (window.get("report") or {}).get("live") or {}
    flat = {"accuracy": live.get("accuracy"), "macro_f1": live.get("macro_f1")}
    for label, values in (live.get("per_class") or {}).items():
        flat[f"recall_{label}"] = (values or {}).get("recall")
    return {k: _number(v, math.nan) for k, v in flat.items()}


def _metrics(
    scored: Sequence[Mapping[str, Any]], baselines: Mapping[int, Mapping[str, float]]
) -> list[str]:
    names: dict[str, None] = {"accuracy": None, "macro_f1": None}
    for source in [*(_live(w) for w in scored), *baselines.values()]:
        names.update((n, None) for n in source if n.startswith("recall_"))
    return list(names)


def _label(metric: str) -> str:
    if metric == "macro_f1":
        return "macro-F1"
    if metric.startswith("recall_"):
        return "recall " + shorten(metric.removeprefix("recall_"), 16)
    return metric


def _reference(
    ax: Axes, xs: Sequence[float], ys: Sequence[float], label: str | None, colour: str
) -> None:
    """A dashed line of values the points are judged against: across the whole plot when it
    is one value, else stepping where it changes (a new version, another alpha)."""
    values = {y for y in ys if not math.isnan(y)}
    if not values:
        return
    if len(values) == 1:
        ax.axhline(values.pop(), linestyle="--", linewidth=1.0, color=colour, label=label)
    else:
        # Each value holds until the next window; the last one is carried a little past the
        # last window, or a version checked once would have no line at all.
        pad = (xs[-1] - xs[0]) * 0.04 or 1 / 24
        ax.plot(
            [*xs, xs[-1] + pad],
            [*ys, ys[-1]],
            linestyle="--",
            linewidth=1.0,
            color=colour,
            drawstyle="steps-post",
            label=label,
        )


def _ring(ax: Axes, xs: Sequence[float], ys: Sequence[float], flagged: Sequence[bool]) -> None:
    picked = [(x, y) for x, y, f in zip(xs, ys, flagged, strict=True) if f]
    if picked:
        ax.scatter(
            [x for x, _ in picked],
            [y for _, y in picked],
            s=70,
            facecolors="none",
            edgecolors=_ALARM_COLOUR,
            linewidths=1.4,
            zorder=3,
        )


def _mark(ax: Axes, windows: Sequence[Mapping[str, Any]], *, legend: bool) -> None:
    """Grey dotted lines at windows too small to test (in the legend if ``legend``);
    dash-dot lines where the version changes, named at the top."""
    few = False
    for w in windows:
        if w.get("status") == TOO_FEW:
            ax.axvline(_moment(w), color=_FEW_COLOUR, linestyle=":", linewidth=1.5, zorder=0)
            few = True
    if few and legend:
        ax.plot(
            [],
            [],
            color=_FEW_COLOUR,
            linestyle=":",
            linewidth=1.5,
            label="too few rows (not tested)",
        )
    previous = None
    for w in windows:
        version = w.get("version")
        if previous is not None and version != previous:
            x = _moment(w)
            ax.axvline(x, color="#5f6368", linestyle="-.", linewidth=1.0, zorder=0)
            ax.annotate(
                f"v{version}",
                (x, 1.0),
                xycoords=("data", "axes fraction"),
                xytext=(3, -10),
                textcoords="offset points",
                fontsize=7.5,
                color="#5f6368",
            )
        previous = version


def _time_axis(ax: Axes) -> None:
    import matplotlib.dates as mdates  # noqa: PLC0415 - only the report draws pictures

    locator = mdates.AutoDateLocator(tz=dt.UTC)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    formatter = mdates.ConciseDateFormatter(locator, tz=dt.UTC)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_formatter(formatter)
    ax.set_xlabel("end of window (UTC)")


def _moment(window: Mapping[str, Any]) -> float:
    """Where a window sits on the time axis: its end, in matplotlib's date units."""
    import matplotlib.dates as mdates  # noqa: PLC0415

    end = dt.datetime.fromtimestamp(_number(window.get("end_at"), 0.0), tz=dt.UTC)
    return float(mdates.date2num(end))  # type: ignore[no-untyped-call]


def _number(value: object, default: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return default
    return float(value)
