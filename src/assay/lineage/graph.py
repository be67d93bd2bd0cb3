"""Walking events in the metadata store to build upstream and downstream lineage graphs."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from assay.errors import ModelNotFoundError, RecordNotFoundError
from assay.metadata import ArtifactRecord, ModelVersionRecord
from assay.registry import resolve
from assay.workspace import Workspace

__all__ = ["LineageEdge", "LineageGraph", "LineageNode", "downstream", "upstream"]


@dataclass(frozen=True, slots=True)
class LineageNode:
    """An artifact (``artifact:DIGEST``), an execution (``execution:ID``) or a model version."""

    id: str
    type: str
    label: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LineageEdge:
    """Data flowing from ``source`` to ``target`` (artifact to execution, execution to artifact)."""

    source: str
    target: str
    name: str = ""


@dataclass
class LineageGraph:
    """A lineage graph around ``root``, in the direction it was walked."""

    root: str
    direction: str
    nodes: dict[str, LineageNode] = field(default_factory=dict)
    edges: list[LineageEdge] = field(default_factory=list)

    def children(self, node_id: str) -> list[tuple[LineageEdge, LineageNode]]:
        """Neighbours of ``node_id`` one step further in the walk direction."""
        if self.direction == "up":
            return [(e, self.nodes[e.source]) for e in self.edges if e.target == node_id]
        return [(e, self.nodes[e.target]) for e in self.edges if e.source == node_id]

    def to_dict(self) -> dict[str, Any]:
        """A JSON-able form: root, direction, nodes and edges."""
        return {
            "root": self.root,
            "direction": self.direction,
            "nodes": [
                {"id": n.id, "type": n.type, "label": n.label, **n.attrs}
                for n in self.nodes.values()
            ],
            "edges": [{"source": e.source, "target": e.target, "name": e.name} for e in self.edges],
        }


def upstream(ws: Workspace, ref: str) -> LineageGraph:
    """Everything that went into the artifact or model version ``ref``: data, steps, parameters."""
    graph, start = _start(ws, ref, "up")
    queue = deque([start])
    seen: set[str] = set()
    while queue:
        art = queue.popleft()
        if art.digest in seen or art.producer is None:
            continue
        seen.add(art.digest)
        ex_id = _add_execution(ws, graph, art.producer)
        for ev in ws.metadata.events_of([art.producer]):
            if ev.direction == "output":
                if ev.digest == art.digest:
                    graph.edges.append(LineageEdge(ex_id, _aid(art.digest), ev.name))
                continue
            parent = ws.metadata.get_artifact(ev.digest)
            _add_artifact(graph, parent)
            graph.edges.append(LineageEdge(_aid(parent.digest), ex_id, ev.name))
            queue.append(parent)
    return graph


def downstream(ws: Workspace, ref: str) -> LineageGraph:
    """Everything made from the artifact or model version ``ref``, and models registered from it."""
    graph, start = _start(ws, ref, "down")
    queue = deque([start])
    seen: set[str] = set()
    while queue:
        art = queue.popleft()
        if art.digest in seen:
            continue
        seen.add(art.digest)
        for version in ws.metadata.versions_of_digests([art.digest]):
            mid = _add_version(graph, version)
            if mid != graph.root:
                graph.edges.append(LineageEdge(_aid(art.digest), mid))
        for use in ws.metadata.events_for(art.digest, "input"):
            ex = ws.metadata.get_execution(use.execution_id)
            if ex.status == "cached":
                continue  # a reuse made nothing new; the execution it reused is listed
            first_visit = f"execution:{ex.id}" not in graph.nodes
            node_id = _add_execution(ws, graph, ex.id)
            graph.edges.append(LineageEdge(_aid(art.digest), node_id, use.name))
            if not first_visit:
                continue  # its outputs were added when another of its inputs led here
            for ev in ws.metadata.events_of([ex.id]):
                if ev.direction == "output":
                    child = ws.metadata.get_artifact(ev.digest)
                    _add_artifact(graph, child)
                    graph.edges.append(LineageEdge(node_id, _aid(child.digest), ev.name))
                    queue.append(child)
    return graph


def _start(ws: Workspace, ref: str, direction: str) -> tuple[LineageGraph, ArtifactRecord]:
    if "@" in ref or ref in ws.metadata.model_names():
        version = resolve(ws, ref)
        art = ws.metadata.get_artifact(version.digest)
        graph = LineageGraph(f"model:{version.name}@{version.version}", direction)
        _add_version(graph, version)
        _add_artifact(graph, art)
        # Upstream the artifact made the version; downstream the version stands for it.
        edge = (
            (_aid(art.digest), graph.root) if direction == "up" else (graph.root, _aid(art.digest))
        )
        graph.edges.append(LineageEdge(*edge))
        return graph, art
    try:
        art = ws.metadata.get_artifact(ref)
    except RecordNotFoundError as exc:
        raise ModelNotFoundError(
            f"{ref!r} is neither an artifact digest nor a model reference",
            hint="give an artifact digest (or its first characters) or NAME@VERSION; "
            f"{exc.message}",
        ) from None
    graph = LineageGraph(_aid(art.digest), direction)
    _add_artifact(graph, art)
    return graph, art


def _aid(digest: str) -> str:
    return f"artifact:{digest}"


def _add_artifact(graph: LineageGraph, art: ArtifactRecord) -> None:
    graph.nodes.setdefault(
        _aid(art.digest),
        LineageNode(
            _aid(art.digest),
            "artifact",
            f"{art.kind} {art.digest[:12]}",
            {"digest": art.digest, "kind": art.kind, "codec": art.codec, "size": art.size},
        ),
    )


def _add_execution(ws: Workspace, graph: LineageGraph, execution_id: str) -> str:
    node_id = f"execution:{execution_id}"
    if node_id not in graph.nodes:
        ex = ws.metadata.get_execution(execution_id)
        graph.nodes[node_id] = LineageNode(
            node_id,
            "execution",
            f"step {ex.step}",
            {
                "step": ex.step,
                "run_id": ex.run_id,
                "status": ex.status,
                "fingerprint": ex.fingerprint,
                "params": ex.params,
            },
        )
    return node_id


def _add_version(graph: LineageGraph, version: ModelVersionRecord) -> str:
    node_id = f"model:{version.name}@{version.version}"
    graph.nodes.setdefault(
        node_id,
        LineageNode(
            node_id,
            "model",
            f"model {version.name}@{version.version}",
            {"name": version.name, "version": version.version, "run_id": version.run_id},
        ),
    )
    return node_id
