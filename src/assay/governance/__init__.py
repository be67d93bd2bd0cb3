"""Governance: roles and tokens, policy gates, model cards, four-eyes promotion, alias history."""

from assay.governance.archive import archive, restore
from assay.governance.cards import ModelCard, load_card_file
from assay.governance.gates import GateResult, evaluate_gates
from assay.governance.identified import Identified, identified, identity
from assay.governance.policy import Policy, load_policy
from assay.governance.promotion import (
    GATED_ALIASES,
    alias_at,
    history,
    latest_verdict,
    parse_when,
    promote,
    request_promotion,
    review,
    rollback,
)
from assay.governance.retention import delete_artifact, protecting_versions
from assay.governance.roles import ROLES, grant, require, revoke, roles_of
from assay.governance.steps import check_gates, model_card
from assay.governance.tokens import (
    IssuedToken,
    Principal,
    authenticate,
    issue_token,
    list_tokens,
    revoke_token,
)

__all__ = [
    "GATED_ALIASES",
    "ROLES",
    "GateResult",
    "Identified",
    "IssuedToken",
    "Principal",
    "ModelCard",
    "Policy",
    "alias_at",
    "archive",
    "authenticate",
    "check_gates",
    "delete_artifact",
    "evaluate_gates",
    "grant",
    "history",
    "identified",
    "identity",
    "issue_token",
    "latest_verdict",
    "list_tokens",
    "load_card_file",
    "load_policy",
    "model_card",
    "parse_when",
    "promote",
    "protecting_versions",
    "request_promotion",
    "require",
    "restore",
    "review",
    "revoke",
    "revoke_token",
    "roles_of",
    "rollback",
]
