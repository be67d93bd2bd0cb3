"""The assay error hierarchy: every error a user can cause is an ``AssayError``.

Each error carries a one-line ``message`` naming the problem and, where one is
known, a ``hint`` naming the fix. The CLI prints both on one line and exits
with ``exit_code``; it never shows a traceback for an ``AssayError``.

::

    AssayError
    ├── ConfigError               bad settings, config file or parameter value
    │   ├── ParameterError        a pipeline parameter is unknown or of the wrong type
    │   └── UnreachableError      the team server cannot be reached
    ├── DefinitionError           a step or pipeline cannot be built (missing type hints, ...)
    │   └── PipelineNotFoundError no pipeline at the given path or module
    ├── StepFailedError           a step raised while running; the run is recorded as failed
    ├── StoreError                artifact bytes cannot be written or read
    │   ├── ArtifactNotFoundError no artifact with that digest (or prefix)
    │   ├── IntegrityError        stored bytes no longer match their sha256 digest
    │   └── CodecError            a value cannot be encoded or decoded
    ├── MetadataError             the metadata database cannot be opened or written
    │   ├── RecordNotFoundError   no run, execution or other record with that id
    │   ├── RecordExistsError     a record to add has the id of one already there
    │   └── StoreNotFoundError    no store where the settings point (nothing is created)
    ├── RegistryError             model registry problems
    │   ├── ModelNotFoundError    an unknown model name, version or alias reference
    │   ├── PolicyError           a policy or model-card file is malformed
    │   └── GovernanceError       a refused state change: failed gates, missing approval
    │       └── PermissionDenied  the acting user lacks the role (or is the author)
    ├── AuthenticationError       a credential is missing, malformed, unknown, expired or revoked
    ├── CompileError              a model has no array form (unsupported parts, or it differs)
    ├── AuditError                the audit chain, its key or its checkpoints are unusable
    │   └── TamperedError         a record differs from what the audit chain sealed
    ├── ReproductionError         a run cannot be re-executed as it was recorded
    └── DataError                 input data is missing, unreadable or malformed
        └── SignatureError        inputs do not fit a model's signature (a column missing,
                                  unknown, mistyped or of another length)
"""

from __future__ import annotations

__all__ = [
    "ArtifactNotFoundError",
    "AssayError",
    "AuditError",
    "AuthenticationError",
    "GovernanceError",
    "PermissionDenied",
    "PolicyError",
    "ReproductionError",
    "CodecError",
    "CompileError",
    "ConfigError",
    "DataError",
    "DefinitionError",
    "IntegrityError",
    "MetadataError",
    "ModelNotFoundError",
    "ParameterError",
    "PipelineNotFoundError",
    "RecordExistsError",
    "RecordNotFoundError",
    "RegistryError",
    "SignatureError",
    "StepFailedError",
    "StoreError",
    "StoreNotFoundError",
    "TamperedError",
    "UnreachableError",
]


class AssayError(Exception):
    """Raised for a problem no narrower class names; the root of every error assay raises."""

    exit_code: int = 1

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message} ({self.hint})"
        return self.message


class ConfigError(AssayError):
    """Raised when settings, a config file or a command-line value is invalid."""

    exit_code = 2


class ParameterError(ConfigError):
    """Raised when a pipeline or step parameter is unknown or has the wrong type."""


class UnreachableError(ConfigError):
    """Raised when the team server cannot be reached (a wrong URL, or it is down)."""


class DefinitionError(AssayError):
    """Raised when a step or pipeline definition is invalid (for example no type hints)."""

    exit_code = 2


class PipelineNotFoundError(DefinitionError):
    """Raised when no pipeline can be found at the path or module given."""


class StepFailedError(AssayError):
    """Raised when a step raised an exception; the run is recorded as failed."""

    def __init__(
        self,
        message: str,
        *,
        step: str,
        run_id: str,
        hint: str | None = None,
        traceback: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.step = step
        self.run_id = run_id
        self.traceback = traceback


class StoreError(AssayError):
    """Raised when artifact bytes cannot be written or read."""


class ArtifactNotFoundError(StoreError):
    """Raised when no artifact matches a digest or digest prefix."""


class IntegrityError(StoreError):
    """Raised when stored bytes no longer hash to the digest they are stored under."""


class CodecError(StoreError):
    """Raised when a value cannot be encoded to bytes, or bytes decoded to a value."""


class MetadataError(AssayError):
    """Raised when the metadata database cannot be opened, migrated or written."""


class RecordNotFoundError(MetadataError):
    """Raised when no run, execution or other record has the id given."""


class RecordExistsError(MetadataError):
    """Raised when a record to be added has the id of one already there."""


class StoreNotFoundError(MetadataError):
    """Raised when a command that only reads finds no store where the settings point; it
    creates none."""


class RegistryError(AssayError):
    """Raised for model registry problems."""


class ModelNotFoundError(RegistryError):
    """Raised when a model reference (``NAME@latest``, ``NAME@VERSION``) resolves to nothing."""


class PolicyError(RegistryError):
    """Raised when a policy or model-card file is malformed; the message names the field."""


class GovernanceError(RegistryError):
    """Raised when a state change is refused: failed gates, missing approvals, wrong state."""


class PermissionDenied(GovernanceError):
    """Raised when the acting user lacks the role for a change, or may not approve their own."""


class AuthenticationError(AssayError):
    """Raised when a request's credential does not establish who is acting: missing,
    malformed, unknown, expired or revoked. Nothing is done on its behalf."""

    exit_code = 3


class CompileError(AssayError):
    """Raised when a model cannot be compiled to arrays: a part is not supported, or the
    compiled form would not give the model's own results."""


class AuditError(AssayError):
    """Raised when the audit chain cannot be checked: missing key, unreadable checkpoints."""


class TamperedError(AuditError):
    """Raised when a decision (a role check, a promotion) finds that a record it rests on
    differs from what the audit chain sealed: the database was changed outside assay."""


class ReproductionError(AssayError):
    """Raised when a run cannot be re-executed as recorded (code or data changed)."""


class DataError(AssayError):
    """Raised when input data is missing, unreadable or malformed."""


class SignatureError(DataError):
    """Raised when inputs do not fit a model version's signature: a column it takes is
    missing, one it does not take is given, a value is not of the column's type, or the
    columns differ in length. ``column`` names the column at fault (``None``: the input as a
    whole)."""

    def __init__(self, message: str, *, column: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.column = column
