"""Sweeps: many runs of one pipeline over a grid or an Optuna search, sharing what they can."""

from assay.sweep.best import REGISTER_MODES, Registered
from assay.sweep.space import grid_trials, parse_grid, parse_range
from assay.sweep.sweeps import SweepResult, TrialResult, run_sweep

__all__ = [
    "REGISTER_MODES",
    "Registered",
    "SweepResult",
    "TrialResult",
    "grid_trials",
    "parse_grid",
    "parse_range",
    "run_sweep",
]
