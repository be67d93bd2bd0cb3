"""``assay.Client``: the Python read API over the store, for notebooks and scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from assay.errors import RecordNotFoundError
from assay.metadata import RunRecord
from assay.settings import Settings
from assay.tracking.search import find_runs
from assay.tracking.table import compare_runs, runs_frame
from assay.workspace import Workspace, open_workspace

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Client"]


class Client:
    """Reads runs, parameters and metrics; the same records the CLI shows.

    Example::

        client = assay.Client()
        best = client.runs(experiment="sweep", order_by="-metrics.macro_f1", limit=5)
        history = client.metrics_history(best.id[0], "loss")
    """

    def __init__(
        self, settings: Settings | None = None, *, workspace: Workspace | None = None
    ) -> None:
        self._owned = workspace is None
        self._ws = workspace or open_workspace(settings or Settings.from_env())

    def close(self) -> None:
        """Release the database connections this client opened."""
        if self._owned:
            self._ws.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def runs(
        self,
        *,
        experiment: str | None = None,
        where: str | None = None,
        order_by: str | None = None,
        limit: int | None = None,
    ) -> pd.DataFrame:
        """Runs as a DataFrame (attributes, ``params.*``, ``tags.*``, last ``metrics.*``).

        Args:
            experiment: only runs of this experiment.
            where: a filter such as ``"metrics.macro_f1 > 0.8 and params.C = 1"``.
            order_by: sort fields, comma-separated, ``-`` for descending.
            limit: at most this many runs (default: all).

        Raises:
            ParameterError: a malformed filter or order, or a metric no run has logged.
            RecordNotFoundError: an experiment with no runs.
        """
        records = find_runs(
            self._ws, experiment=experiment, where=where, order_by=order_by, limit=limit
        )
        return runs_frame(self._ws, records)

    def run(self, run_id: str) -> RunRecord:
        """The run with this id or id prefix.

        Raises:
            RecordNotFoundError: no run, or several, match.
        """
        return self._ws.metadata.get_run(run_id)

    def metrics_history(self, run_id: str, key: str) -> pd.DataFrame:
        """Every value of metric ``key`` in a run: columns ``step``, ``value``, ``timestamp``.

        Raises:
            RecordNotFoundError: no such run, or the run never logged ``key``.
        """
        import pandas as pd  # noqa: PLC0415

        run = self.run(run_id)
        values = [m for m in self._ws.metadata.metrics(run.id) if m.key == key]
        if not values:
            logged = sorted({m.key for m in self._ws.metadata.metrics(run.id)})
            raise RecordNotFoundError(
                f"run {run.id[:12]} has no metric {key!r}",
                hint=f"its metrics are: {', '.join(logged) or 'none'}",
            )
        return pd.DataFrame(
            {
                "step": [m.step for m in values],
                "value": [m.value for m in values],
                "timestamp": pd.to_datetime([m.timestamp for m in values], unit="s", utc=True),
            }
        )

    def compare(self, *run_ids: str) -> pd.DataFrame:
        """Runs side by side: one column a run, one row a field."""
        return compare_runs(self._ws, run_ids)[0]
