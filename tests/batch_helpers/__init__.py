"""Workers and scripts for the batch tests, importable by spawned pool processes."""
