"""``assay lineage``: the graph upstream of an artifact or model, or downstream with --down."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.tree import Tree

from assay.cli import output
from assay.lineage import LineageGraph, LineageNode

__all__ = ["lineage"]


def lineage(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Artifact digest (or prefix), or NAME@VERSION.")],
    down: Annotated[
        bool, typer.Option("--down", help="Show what was made from it instead.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print nodes and edges as JSON.")] = False,
) -> None:
    """Show which data, steps and parameters made REF (or, with --down, what REF made)."""
    with output.team(ctx.obj, create=False) as team:
        graph = team.lineage(ref, down=down)
    if as_json:
        output.print_json(graph.to_dict())
        return
    root = graph.nodes[graph.root]
    tree = Tree(_label(root))
    _grow(graph, root.id, tree, {root.id})
    output.console().print(tree)


def _label(node: LineageNode) -> str:
    a = node.attrs
    if node.type == "artifact":
        size = output.human_size(int(a["size"]))
        return f"[bold]{a['kind']}[/bold] {a['digest'][:12]} ({a['codec']}, {size})"
    if node.type == "execution":
        params = ", ".join(f"{k}={v}" for k, v in a["params"].items())
        return f"[cyan]step {a['step']}[/cyan] run {a['run_id'][:12]}" + (
            f" [dim]{output.escape(params)}[/dim]" if params else ""
        )
    return f"[magenta]model {a['name']}@{a['version']}[/magenta]"


def _grow(graph: LineageGraph, node_id: str, tree: Tree, seen: set[str]) -> None:
    for edge, child in graph.children(node_id):
        name = f"[dim]{edge.name} ←[/dim] " if edge.name and graph.direction == "up" else ""
        if child.id in seen:
            tree.add(f"{name}{_label(child)} [dim](shown above)[/dim]")
            continue
        seen.add(child.id)
        _grow(graph, child.id, tree.add(name + _label(child)), seen)
