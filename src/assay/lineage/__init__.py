"""Lineage: the graph of artifacts and executions that made something, and what was made from it."""

from assay.lineage.graph import LineageEdge, LineageGraph, LineageNode, downstream, upstream

__all__ = ["LineageEdge", "LineageGraph", "LineageNode", "downstream", "upstream"]
