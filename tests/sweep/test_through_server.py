"""A sweep whose trials run here, in worker processes, and are recorded through the team
server: every trial there as the token holder, the shared step run once for the team,
the objective read back through the server, and the best trial registered and gated."""

from __future__ import annotations

from pathlib import Path

from assay.sweep import parse_grid, run_sweep
from tests.runner.test_through_server import laptop
from tests.server.api.conftest import Team, team
from tests.sweep.test_sweeps import governed

__all__ = ["governed", "team"]  # the fixtures


def test_a_sweep_through_the_server_registers_its_best_trial_there(
    team: Team, governed: str, tmp_path: Path
) -> None:
    settings = laptop(team, tmp_path / "laptop", "carol")
    result = run_sweep(
        governed,
        settings,
        grid=parse_grid(["C=0.5,2,4"]),
        objective="metrics.score",
        register="best",
        workers=2,
    )
    assert [t.status for t in result.trials] == ["succeeded"] * 3
    assert result.best is not None and result.best.params == {"C": "2"}
    assert result.best.value == 1.0
    registered = result.registered
    assert registered is not None and registered.versions == {"swept@1": "passed"}
    runs = team.ws.metadata.list_runs(experiment="governed-sweep", limit=None)
    assert len(runs) == 4 and {r.user for r in runs} == {"carol"}
    (version,) = team.ws.metadata.model_versions("swept")
    assert (version.run_id, version.created_by) == (registered.run_id, "carol")
    assert not (tmp_path / "laptop" / ".assay" / "assay.db").exists()
