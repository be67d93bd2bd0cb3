"""A workspace: one metadata store and one artifact store, opened together from Settings."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from assay.anchor import Anchor, FileSealer
from assay.metadata import MetadataStore, open_metadata
from assay.metadata.runs import RunRepository, StepRepository
from assay.metadata.versions import ModelRepository
from assay.settings import Settings
from assay.store import ArtifactStore, open_artifact_store
from assay.workspace.guard import ChainGuard, chain_of
from assay.workspace.recorder import Recorder

__all__ = ["ChainGuard", "Recorder", "Workspace", "chain_of", "open_workspace"]


@dataclass(frozen=True, slots=True)
class Workspace:
    """The store every command reads and writes: metadata records plus artifact bytes."""

    metadata: MetadataStore
    artifacts: ArtifactStore
    user: str
    anchor: Anchor
    ceiling: str | None = None
    """The one role this workspace may act with (a token's), beside reading; None: every
    role its user holds."""
    granted: frozenset[str] | None = None
    """Roles an identity provider vouches for, for this session only, beside those granted
    in the store; None when no provider identified the user (then the first user of an empty
    store may claim it)."""

    @property
    def runs(self) -> RunRepository:
        """The runs repository: the store itself."""
        return self.metadata

    @property
    def steps(self) -> StepRepository:
        """The steps repository: the store itself."""
        return self.metadata

    @property
    def models(self) -> ModelRepository:
        """The model versions repository: the store itself."""
        return self.metadata

    def acting(
        self,
        user: str,
        via: Mapping[str, str] | None = None,
        ceiling: str | None = None,
        granted: frozenset[str] | None = None,
    ) -> Workspace:
        """The same store, acting as ``user`` (identified as ``via`` says, see
        ``MetadataStore.acting``) with at most the role ``ceiling``, and the roles
        ``granted`` by an identity provider."""
        return Workspace(
            self.metadata.acting(user, via), self.artifacts, user, self.anchor, ceiling, granted
        )

    @contextmanager
    def snapshot(self) -> Iterator[Workspace]:
        """The same store, every read of which sees the database at one moment, in one
        read transaction (see ``MetadataStore.snapshot``): for a page that reads several
        tables. It writes nothing."""
        with self.metadata.snapshot() as meta:
            yield dataclasses.replace(self, metadata=meta)

    def close(self) -> None:
        """Release database connections."""
        self.metadata.close()


def open_workspace(
    settings: Settings,
    *,
    create: bool = True,
    create_folders: bool = False,
    new_chain: bool = False,
) -> Workspace:
    """Open the store ``settings`` points at; the database is created and migrated if needed.

    With ``create`` false only an existing store is opened (what commands that only read
    do), and nothing is made when there is none. Artifact folders appear when the first
    artifact is written, or at once with ``create_folders`` (what ``assay init`` does).

    The audit chain's anchor refuses to begin a new chain over an artifact store that
    belongs to another (a lost database) unless ``new_chain`` says so (see ChainGuard).

    Raises:
        StoreNotFoundError: ``create`` is false and there is no store where ``settings`` point.
    """
    anchor = FileSealer(settings.audit_key, settings.audit_checkpoints, settings.audit_home)
    artifacts = open_artifact_store(settings.artifact_root, create=create_folders)
    guard = ChainGuard(
        anchor,
        artifacts,
        db=_without_password(settings.db_url),
        root=settings.artifact_root,
        new_chain=new_chain,
    )
    return Workspace(
        metadata=open_metadata(settings.db_url, actor=settings.user, sealer=guard, create=create),
        anchor=guard,
        artifacts=artifacts,
        user=settings.user,
    )


def _without_password(url: str) -> str:
    return re.sub(r"(://[^:/@]+):[^@/]*@", r"\1:***@", url)
