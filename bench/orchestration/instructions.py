"""One cold chain of N no-op steps on a new store, after a warm-up run: the process whose
instructions `valgrind --tool=callgrind` counts, to compare two versions of assay on work done
rather than on wall time, which this project's machines vary by a third from run to run.

Run: ``valgrind --tool=callgrind --callgrind-out-file=/dev/null python3
bench/orchestration/instructions.py 50`` (the real interpreter, not a pyenv shim); put another
checkout's ``src`` on ``PYTHONPATH`` for the other version. Steps are (I(50) - I(10)) / 40.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from run_assay import run_chain

from assay import Settings
from assay.workspace import open_workspace


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="bench-instructions-"))
    run_chain(Settings.for_project(root / "warmup"), 2)
    settings = Settings.for_project(root / "chain")
    open_workspace(settings).close()
    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    if steps:
        run_chain(settings, steps)


if __name__ == "__main__":
    main()
