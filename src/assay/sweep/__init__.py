"""Sweeps: many runs of one pipeline over a grid or an Optuna search, sharing what they can."""

from assay.sweep.space import grid_trials, parse_grid, parse_range
from assay.sweep.sweeps import SweepResult, TrialResult, run_sweep

__all__ = ["SweepResult", "TrialResult", "grid_trials", "parse_grid", "parse_range", "run_sweep"]
