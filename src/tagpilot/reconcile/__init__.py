"""One reconciler per kind: orchestrates the core through ports and returns an Outcome."""
