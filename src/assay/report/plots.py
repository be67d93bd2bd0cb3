"""The evidence report's pictures as inline SVG: confusion matrix, per-class scores, lineage.

Each function returns the text of one ``<svg>`` element, ready to sit inside an HTML page:
no XML prolog, no metadata, no namespace URLs, and ids prefixed so that several pictures
can share a page. The same input gives the same text (a fixed ``svg.hashsalt``, no dates),
so the same evidence gives the same report. Text stays text (``svg.fonttype: none``), so
it can be searched and is escaped by matplotlib's SVG writer.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["NODE_COLOURS", "confusion_svg", "lineage_svg", "per_class_svg", "shorten"]

#: Fill colour of a lineage box by node type; other types are grey.
NODE_COLOURS: Mapping[str, str] = {
    "artifact": "#dbe9f6",
    "execution": "#fde2c4",
    "model": "#d3eed3",
    "param": "#e6dcf3",
}
_OTHER = "#e5e5e5"
_PROLOG = re.compile(r"\A.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.DOTALL)
_XMLNS = re.compile(r'\s+xmlns(?::\w+)?="[^"]*"')
_IDS = re.compile(r'(\bid="|url\(#|href="#)')


def shorten(text: str, width: int = 24) -> str:
    """``text`` cut to ``width`` characters, with an ellipsis where it was cut."""
    return text if len(text) <= width else text[: width - 1] + "…"


def confusion_svg(labels: Sequence[str], matrix: Sequence[Sequence[int]]) -> str:
    """A heatmap of the confusion matrix (rows: actual class, columns: predicted) with counts."""
    with _style():
        n = len(labels)
        side = min(2.0 + 0.55 * n, 9.0)
        fig = _figure(side + 0.3, side)
        ax = fig.add_subplot()
        values = [[float(v) for v in row] for row in matrix]
        top = max((v for row in values for v in row), default=0.0) or 1.0
        # No colour bar: every cell says its count, and a bar would be a raster image.
        ax.pcolormesh(values, cmap="Blues", vmin=0, vmax=top, edgecolors="white")
        size = 9 if n <= 8 else max(5, 12 - n // 3)
        for i, row in enumerate(values):
            for j, value in enumerate(row):
                ax.text(
                    j + 0.5,
                    i + 0.5,
                    f"{value:g}",
                    ha="center",
                    va="center",
                    fontsize=size,
                    color="white" if value > top / 2 else "#1a1a1a",
                )
        ticks = [k + 0.5 for k in range(n)]
        names = [shorten(str(label), 14) for label in labels]
        ax.set_xticks(ticks, names, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center")
        ax.set_yticks(ticks, names)
        ax.invert_yaxis()
        ax.set_xlabel("predicted")
        ax.set_ylabel("actual")
        ax.set_aspect("equal")
        return _svg(fig, "cm")


def per_class_svg(rows: Sequence[Mapping[str, Any]]) -> str:
    """Grouped bars of precision, recall and F1 for each class (rows of the per-class table)."""
    with _style():
        names = ["precision", "recall", "f1"]
        colours = ["#4c78a8", "#f58518", "#54a24b"]
        n = len(rows)
        fig = _figure(min(2.5 + 0.9 * n, 10.0), 3.2)
        ax = fig.add_subplot()
        width = 0.8 / len(names)
        for k, (metric, colour) in enumerate(zip(names, colours, strict=True)):
            xs = [i + (k - 1) * width for i in range(n)]
            ys = [_number(row.get(metric)) for row in rows]
            ax.bar(xs, ys, width=width, label=metric, color=colour)
        labels = [shorten(str(row.get("label", "")), 14) for row in rows]
        ax.set_xticks(
            range(n), labels, rotation=45 if n > 6 else 0, ha="right" if n > 6 else "center"
        )
        ax.set_ylim(0, 1.05)
        ax.set_ylabel("score")
        ax.grid(axis="y", alpha=0.3)
        ax.set_axisbelow(True)
        ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=3, fontsize=8, frameon=False)
        return _svg(fig, "pc")


def lineage_svg(lineage: Mapping[str, Any]) -> str:
    """The lineage graph drawn left to right: data and steps first, the model last.

    Nodes are placed in layers by their topological generation and ordered within a layer
    by where their parents sit, which keeps most arrows short and uncrossed; each is a box
    coloured by its type, labelled with its (shortened) label.
    """
    with _style():
        positions, types, labels = _layout(lineage)
        layers = max((x for x, _ in positions.values()), default=0) + 1
        rows = max((y for _, y in positions.values()), default=0) + 1
        fig = _figure(min(0.3 + 1.9 * layers, 16.0), min(0.3 + 0.6 * rows, 14.0))
        ax = fig.add_axes((0.01, 0.01, 0.98, 0.98))
        box_w, box_h, gap_x = 2.4, 0.62, 3.0
        centre = {node: (x * gap_x, -float(y)) for node, (x, y) in positions.items()}
        _draw_edges(ax, lineage, centre, box_w, box_h)
        _draw_boxes(ax, centre, types, labels, box_w, box_h)
        ax.set_xlim(-box_w / 2 - 0.2, (layers - 1) * gap_x + box_w / 2 + 0.2)
        ax.set_ylim(-(rows - 1) - box_h / 2 - 0.25, box_h / 2 + 0.25)
        ax.axis("off")
        return _svg(fig, "lin")


def _layout(
    lineage: Mapping[str, Any],
) -> tuple[dict[str, tuple[int, int]], dict[str, str], dict[str, str]]:
    import networkx as nx  # noqa: PLC0415 - only the report draws graphs

    graph = nx.DiGraph()
    types: dict[str, str] = {}
    labels: dict[str, str] = {}
    for node in lineage.get("nodes") or []:
        node_id = str(node.get("id"))
        graph.add_node(node_id)
        types[node_id] = str(node.get("type") or "")
        labels[node_id] = str(node.get("label") or node_id)
    for edge in lineage.get("edges") or []:
        source, target = str(edge.get("source")), str(edge.get("target"))
        for end in (source, target):
            if end not in graph:
                graph.add_node(end)
                types.setdefault(end, "")
                labels.setdefault(end, end)
        if source != target:
            graph.add_edge(source, target)
    try:
        generations = [sorted(g) for g in nx.topological_generations(graph)]
    except nx.NetworkXUnfeasible:  # a cycle cannot come from a store; draw one column anyway
        generations = [sorted(graph.nodes)]
    positions: dict[str, tuple[int, int]] = {}
    for x, layer in enumerate(generations):
        order = {
            node: (_mean_parent_row(graph, node, positions), types[node], labels[node], node)
            for node in layer
        }
        for y, node in enumerate(sorted(layer, key=order.__getitem__)):
            positions[node] = (x, y)
    return positions, types, labels


def _mean_parent_row(graph: Any, node: str, positions: Mapping[str, tuple[int, int]]) -> float:
    rows = [positions[p][1] for p in graph.predecessors(node) if p in positions]
    return sum(rows) / len(rows) if rows else 0.0


def _draw_edges(
    ax: Axes,
    lineage: Mapping[str, Any],
    centre: Mapping[str, tuple[float, float]],
    box_w: float,
    box_h: float,
) -> None:
    from matplotlib.patches import FancyArrowPatch  # noqa: PLC0415

    drawn: set[tuple[str, str]] = set()
    for edge in lineage.get("edges") or []:
        pair = (str(edge.get("source")), str(edge.get("target")))
        if pair in drawn or pair[0] == pair[1]:
            continue
        drawn.add(pair)
        (x0, y0), (x1, y1) = centre[pair[0]], centre[pair[1]]
        start = (x0 + box_w / 2, y0) if x1 > x0 else (x0, y0 - box_h / 2)
        end = (x1 - box_w / 2, y1) if x1 > x0 else (x1, y1 + box_h / 2)
        ax.add_patch(
            FancyArrowPatch(
                start,
                end,
                arrowstyle="-|>",
                mutation_scale=10,
                color="#555555",
                linewidth=0.9,
                shrinkA=1,
                shrinkB=1,
                connectionstyle="arc3,rad=0.0",
            )
        )


def _draw_boxes(
    ax: Axes,
    centre: Mapping[str, tuple[float, float]],
    types: Mapping[str, str],
    labels: Mapping[str, str],
    box_w: float,
    box_h: float,
) -> None:
    from matplotlib.patches import FancyBboxPatch  # noqa: PLC0415

    for node, (x, y) in sorted(centre.items()):
        kind = types.get(node, "")
        ax.add_patch(
            FancyBboxPatch(
                (x - box_w / 2, y - box_h / 2),
                box_w,
                box_h,
                boxstyle="round,pad=0,rounding_size=0.08",
                facecolor=NODE_COLOURS.get(kind, _OTHER),
                edgecolor="#444444",
                linewidth=0.8,
            )
        )
        ax.text(
            x,
            y + 0.1,
            shorten(labels.get(node, node)),
            ha="center",
            va="center",
            fontsize=7.5,
        )
        ax.text(
            x,
            y - 0.17,
            kind or "node",
            ha="center",
            va="center",
            fontsize=6,
            color="#555555",
            style="italic",
        )


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure  # noqa: PLC0415 - only the report draws pictures

    # A bare Figure needs no pyplot and no GUI backend: it renders straight to SVG.
    return Figure(figsize=(width, height), layout="constrained")


@contextlib.contextmanager
def _style() -> Iterator[None]:
    import matplotlib  # noqa: PLC0415 - only the report draws pictures

    settings = matplotlib.rc_context(
        {
            "svg.hashsalt": "assay-evidence",  # clip-path ids from a fixed salt, not at random
            "svg.fonttype": "none",  # text stays text
            "text.parse_math": False,  # a label with $ signs is text, not TeX
            "font.size": 9,
        }
    )
    with settings, warnings.catch_warnings():
        # A label with a glyph the font lacks still draws (as a box); say nothing about it.
        warnings.simplefilter("ignore", UserWarning)
        yield


def _svg(fig: Figure, prefix: str) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    text = _METADATA.sub("", _PROLOG.sub("", buffer.getvalue(), count=1), count=1)
    text = _XMLNS.sub("", text)
    return _IDS.sub(lambda m: f"{m.group(1)}{prefix}-", text).strip()


def _number(value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 0.0
    return 0.0 if math.isnan(number) else number
