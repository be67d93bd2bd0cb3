"""The audit log: verifying the hash chain against its external anchors, and exporting it."""

from assay.audit.export import export_events, iter_export
from assay.audit.verify import Problem, VerifyReport, verify_chain

__all__ = ["Problem", "VerifyReport", "export_events", "iter_export", "verify_chain"]
