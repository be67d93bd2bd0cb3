"""Serving: load a verified model version and predict; no HTTP here."""

from assay.serving.batch import predict_frame, score_csv

__all__ = ["predict_frame", "score_csv"]
