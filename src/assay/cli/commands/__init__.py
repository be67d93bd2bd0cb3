"""One module per command group of the ``assay`` CLI."""
