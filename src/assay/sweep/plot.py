"""A picture of a sweep: the objective against each swept parameter."""

from __future__ import annotations

from pathlib import Path

from assay.errors import ConfigError
from assay.sweep.sweeps import SweepResult

__all__ = ["plot_sweep"]


def plot_sweep(result: SweepResult, path: Path, names: list[str]) -> Path | None:
    """Save a PNG with one panel per parameter in ``names``; None when no trial has a value.

    Raises:
        ConfigError: the file cannot be written.
    """
    scored = [t for t in result.trials if t.value is not None and t.value == t.value]
    if not scored or not names:
        return None
    import matplotlib  # noqa: PLC0415 - only plots need it

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt  # noqa: PLC0415

    best = result.best
    fig, axes = plt.subplots(1, len(names), figsize=(4 * len(names), 3.5), squeeze=False)
    for ax, name in zip(axes[0], names, strict=True):
        xs = [str(t.params.get(name)) for t in scored]
        numeric = all(_is_number(x) for x in xs)
        points = [float(x) for x in xs] if numeric else xs
        ax.scatter(points, [t.value for t in scored], alpha=0.7)
        if best is not None:
            mark = float(best.params[name]) if numeric else str(best.params.get(name))
            ax.scatter([mark], [best.value], color="red", marker="*", s=150, label="best")
            ax.legend(loc="best")
        ax.set_xlabel(name)
        ax.set_ylabel(result.objective)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{result.experiment}: {len(scored)} trials")
    fig.tight_layout()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, dpi=100)
    except OSError as exc:
        raise ConfigError(f"cannot write the plot to {path}: {exc.strerror}") from None
    finally:
        plt.close(fig)
    return path


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
