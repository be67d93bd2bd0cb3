"""Closing an alert once its finding was dealt with."""

from __future__ import annotations

from assay.errors import GovernanceError
from assay.governance import require
from assay.metadata import AlertRecord
from assay.workspace import Workspace

__all__ = ["close_alert"]


def close_alert(ws: Workspace, alert_id: int, reason: str) -> AlertRecord:
    """Close open alert ``alert_id`` with a ``reason``, recorded in the audit log. The same
    finding raised again later opens a new alert (and may start another retraining).

    Raises:
        GovernanceError: no reason given.
        PermissionDenied: the user lacks the developer role.
        RecordNotFoundError: no open alert has that id.
    """
    if not reason.strip():
        raise GovernanceError("closing an alert needs a reason", hint="add --reason 'why'")
    require(ws, "developer", "close alerts")
    return ws.metadata.close_alert(alert_id, ws.user, reason.strip())
