"""The team server: assay's REST API over one store, for authenticated principals only."""
