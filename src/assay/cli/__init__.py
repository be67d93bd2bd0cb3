"""The command line: parse arguments, build Settings, call the domain, print; no logic here."""

from assay.cli.app import build_app, build_command, main

__all__ = ["build_app", "build_command", "main"]
