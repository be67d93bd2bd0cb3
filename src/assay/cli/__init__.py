"""The command line: parse arguments, build Settings, call the domain, print; no logic here."""

from assay.cli.app import build_app, main

__all__ = ["build_app", "main"]
