"""Exporting the audit chain as JSON Lines, ending with its head."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from assay.workspace import Workspace

__all__ = ["export_events", "iter_export"]

_PAGE = 5000


def iter_export(ws: Workspace) -> Iterator[dict[str, Any]]:
    """Every event as a dict (its columns, the sealed body as the exact text that was hashed,
    hash, signature and key id), then one ``{"head": ...}`` record naming the last event."""
    after, last = 0, None
    while True:
        page = ws.metadata.audit_events(after, _PAGE)
        for ev in page:
            yield {
                "seq": ev.seq,
                "at": ev.at,
                "actor": ev.actor,
                "action": ev.action,
                "subject": ev.subject,
                "body": ev.body,
                "prev_hash": ev.prev_hash,
                "hash": ev.hash,
                "signature": ev.signature,
                "key_id": ev.key_id,
            }
            last = ev
        if len(page) < _PAGE:
            break
        after = page[-1].seq
    seq, digest = ws.metadata.audit_head()
    yield {
        "head": {
            "seq": seq,
            "hash": digest,
            "last_event": last.seq if last else 0,
            "store_id": ws.metadata.store_id(),
        }
    }


def export_events(ws: Workspace, out: IO[str]) -> dict[str, Any]:
    """Write the export to ``out``, one JSON object per line; returns the head record."""
    head: dict[str, Any] = {}
    for record in iter_export(ws):
        out.write(json.dumps(record, sort_keys=True) + "\n")
        head = record.get("head", head)
    return head
