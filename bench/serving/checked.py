"""The fitted model an export script hands to an anchor: assay's skops artifact, read by
path, checked against its sha256 and loaded with skops (run in the anchor's venv)."""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path
from typing import Any


def checked_model(artifact: Path, digest: str) -> Any:
    """The model in ``artifact``; exits naming both digests when the bytes differ."""
    data = artifact.read_bytes()
    found = hashlib.sha256(data).hexdigest()
    if found != digest:
        sys.exit(f"{artifact}: sha256 {found} is not the expected {digest}")
    import skops.io as sio  # noqa: PLC0415 - the anchor's venv has it, assay's may not

    # The bytes are assay's own artifact, checked against its digest just above.
    return sio.loads(data, trusted=sio.get_untrusted_types(data=data))
