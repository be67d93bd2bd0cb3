"""Validation: checks on labelled data that report problems and stop training on bad data."""

from assay.validation.text import Issue, ValidationReport, validate_labelled_text

__all__ = ["Issue", "ValidationReport", "validate_labelled_text"]
