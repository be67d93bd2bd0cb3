"""Lineage: the graph of artifacts and executions that made something, and what was made from it."""

from assay.lineage.artifact import describe_artifact
from assay.lineage.graph import LineageEdge, LineageGraph, LineageNode, downstream, upstream

__all__ = [
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "describe_artifact",
    "downstream",
    "upstream",
]
