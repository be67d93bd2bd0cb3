"""Every HTTP surface of assay: the model server's routes now, the team server's API next."""
