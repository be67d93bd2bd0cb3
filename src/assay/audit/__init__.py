"""The audit log: verifying the hash chain against its anchors and tables, exporting it."""

from assay.audit.export import export_events, iter_export
from assay.audit.restart import start_chain
from assay.audit.verify import Problem, VerifyReport, verify_chain

__all__ = [
    "Problem",
    "VerifyReport",
    "export_events",
    "iter_export",
    "start_chain",
    "verify_chain",
]
