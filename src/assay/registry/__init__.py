"""The model registry: models, versions and the references (``NAME@latest``) resolving to them."""

from assay.registry.steps import register_model
from assay.registry.versions import ModelRef, load_model, parse_ref, register_version, resolve

__all__ = ["ModelRef", "load_model", "parse_ref", "register_model", "register_version", "resolve"]
