"""The evidence report: one model version's record, for an auditor, as HTML or JSON."""

from assay.report.evidence import SCHEMA, build_evidence

__all__ = ["SCHEMA", "build_evidence"]
