"""The audit chain's sealed facts: events read back checked, and the rows they vouch for."""

from assay.chain.events import Head, SealedEvent, check_head, event_problems, read_sealed, sealed
from assay.chain.projection import Expected, Projection, project
from assay.chain.state import changed_tables, check_state, table_differences
from assay.chain.tables import TABLES, Difference, differences

__all__ = [
    "TABLES",
    "Difference",
    "Expected",
    "Head",
    "Projection",
    "SealedEvent",
    "changed_tables",
    "check_head",
    "check_state",
    "differences",
    "event_problems",
    "project",
    "read_sealed",
    "sealed",
    "table_differences",
]
