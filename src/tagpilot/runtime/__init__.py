"""Scheduling and the long-running daemon."""
